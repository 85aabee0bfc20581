"""A soak in one process: downloads that complete, fail, are cancelled, and clients that are dropped,
sync and async, against the fake. File descriptors, threads, pool slots and leftover files must come
back to their baseline. Small here; ``make soak`` runs it with ``OPENROUTER_VIDEO_SOAK=20``."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
import time
import warnings
from pathlib import Path

import httpx
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.errors import OpenRouterVideoError
from openrouter_video.testing import Cut, FakeOpenRouter, Status

ROUNDS = 12 * int(os.environ.get("OPENROUTER_VIDEO_SOAK", "1"))
MIB = 1024 * 1024


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(fds: int, threads: int) -> tuple[int, int]:
    """The fd and thread counts once what was closed has gone (the fake's threads end too)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gc.collect()
        if _fds() <= fds and threading.active_count() <= threads:
            break
        time.sleep(0.05)
    return _fds(), threading.active_count()


def test_a_long_lived_process_returns_to_its_baseline(fake: FakeOpenRouter, tmp_path: Path) -> None:
    payload = os.urandom(MIB + 12345)
    fake.add_video("job-1", payload)
    rng = random.Random(11)
    failing = RetryPolicy(max_attempts=1, resume_window=0)
    dest = tmp_path / "out.mp4"
    gc.collect()
    fds, threads = _fds(), threading.active_count()
    limits = {"limits": httpx.Limits(max_connections=4)}

    def check_and_clear() -> None:
        assert dest.read_bytes() == payload
        dest.unlink()
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    # -- sync: completed, failed (the partial is taken up by the next call), dropped clients
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, httpx_args=limits) as client:
        for _ in range(ROUNDS):
            kind = rng.choice(["ok", "cut", "status"])
            if kind != "ok":
                fake.enqueue(Cut(at=rng.randrange(100_000, MIB)) if kind == "cut" else Status(500))
                failing_client = VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=failing)
                try:
                    failing_client.download("job-1", dest, max_connections=1, source="api")
                except OpenRouterVideoError:
                    pass
                if rng.random() < 0.5:
                    failing_client.close()
                del failing_client  # dropped, closed or not
                if dest.exists():  # a cut after progress is resumed: it may have completed
                    dest.unlink()
            client.download("job-1", dest, max_connections=1, source="api")
            check_and_clear()

    # -- async: completed, cancelled at random moments, failed, dropped clients
    async def run() -> None:
        async with AsyncVideoClient(
            api_key=fake.api_key, base_url=fake.base_url, httpx_args=limits
        ) as client:
            for _ in range(ROUNDS):
                kind = rng.choice(["ok", "cancel", "cut", "drop"])
                if kind == "cancel":
                    task = asyncio.ensure_future(
                        client.download("job-1", dest, max_connections=1, source="api")
                    )
                    await asyncio.sleep(rng.uniform(0, 0.02))
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                elif kind == "cut":
                    fake.enqueue(Cut(at=rng.randrange(100_000, MIB)))
                    try:
                        await client.download("job-1", dest, max_connections=1, deadline=0.5, source="api")
                    except OpenRouterVideoError:
                        pass
                elif kind == "drop":
                    dropped = AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url)
                    await dropped.download("job-1", tmp_path / "dropped.mp4", max_connections=1, source="api")
                    (tmp_path / "dropped.mp4").unlink()
                    del dropped
                if dest.exists():
                    dest.unlink()
                await client.download("job-1", dest, max_connections=1, source="api")
                check_and_clear()
            # every pool slot is free: four at once, each within a short pool timeout
            results = await asyncio.gather(
                *(
                    client.download("job-1", tmp_path / f"last-{n}.mp4", max_connections=1, source="api")
                    for n in range(4)
                )
            )
            assert [r.size for r in results] == [len(payload)] * 4
            for n in range(4):
                (tmp_path / f"last-{n}.mp4").unlink()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the dropped clients say so, as they should
        asyncio.run(run())

    assert sorted(p.name for p in tmp_path.iterdir()) == []
    now_fds, now_threads = _settle(fds, threads)
    assert now_fds <= fds, (fds, now_fds)
    assert now_threads <= threads, (threads, now_threads)
