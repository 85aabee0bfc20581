"""Runs a download with the sync or the async client against a test server, and the small helpers the
download tests share (the ``h`` fixture of conftest.py is a :class:`Harness` for each mode)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from openrouter_video import AsyncVideoClient, DownloadResult, RetryPolicy, VideoClient
from openrouter_video.testing import FakeOpenRouter, RecordedRequest

MODES = ["sync", "async"]
#: A retry policy that never sleeps.
NO_SLEEP = RetryPolicy(sleep=lambda _: None)


class Harness:
    """Runs a download with the sync or async client, recording the sleeps it asked for."""

    def __init__(self, mode: str, fake: FakeOpenRouter) -> None:
        self.mode = mode
        self.fake = fake
        self.sleeps: list[float] = []
        self.progress: list[tuple[int, int | None]] = []

    def policy(self, **kwargs: Any) -> RetryPolicy:
        kwargs.setdefault("jitter", lambda: 1.0)
        return RetryPolicy(sleep=self.sleeps.append, **kwargs)

    def download(
        self,
        job_id: str,
        dest: Path,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        base_url: str | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> DownloadResult:
        kwargs.setdefault("on_progress", lambda done, total: self.progress.append((done, total)))
        config: dict[str, Any] = {
            "api_key": api_key or self.fake.api_key,
            "base_url": base_url or self.fake.base_url,
            "retry": retry or self.policy(),
            "timeout": timeout,
        }
        if self.mode == "sync":
            with VideoClient(**config) as client:
                return client.download(job_id, dest, **kwargs)

        async def run() -> DownloadResult:
            async with AsyncVideoClient(**config) as client:
                return await client.download(job_id, dest, **kwargs)

        return asyncio.run(run())


def content_requests(fake: FakeOpenRouter) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.path.endswith("/content")]


def no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".part")]


def ranges(fake: FakeOpenRouter) -> list[str | None]:
    return [r.headers.get("range") for r in content_requests(fake)]


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def noise(size: int, seed: int = 7) -> bytes:
    """Pseudo-random bytes that no sniffer takes for markup or an MP4."""
    return random.Random(seed).randbytes(size)


def source(fake: FakeOpenRouter, job_id: str = "job-1", index: int = 0) -> str:
    """What the state file records as the source of a download (the client's ``_source``)."""
    return f"{fake.base_url}/videos/{job_id}/content?index={index}"


def _content_requests(fake: FakeOpenRouter) -> int:
    """How many requests for a video's content the fake saw."""
    return sum(1 for r in fake.requests if r.path.endswith("/content"))
