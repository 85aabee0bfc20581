"""HTTPS: the sync transport and the async client's own asyncio backend against a TLS fake server."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from harness import NO_SLEEP
from helpers_tls import certificate as certificate  # test_readme.py takes this fixture from here
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.engine.core import OVERLAP
from openrouter_video.testing import Cut, FakeOpenRouter
from openrouter_video_api.api.video_generation import list_videos_content
from openrouter_video_api.types import File


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_download_over_https_resumes_a_cut(
    tls_fake: FakeOpenRouter, certificate: tuple[Path, Path], payload: bytes, tmp_path: Path, mode: str
) -> None:
    assert tls_fake.base_url.startswith("https://")
    tls_fake.add_video("job-1", payload)
    tls_fake.enqueue(Cut(at=123_456))
    config = {
        "api_key": tls_fake.api_key,
        "base_url": tls_fake.base_url,
        "retry": NO_SLEEP,
        "verify": ssl.create_default_context(cafile=certificate[0]),
    }
    dest = tmp_path / "out.mp4"
    if mode == "sync":
        with VideoClient(**config) as client:  # type: ignore[arg-type]
            result = client.download("job-1", dest, source="api")
    else:

        async def run() -> object:
            async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                return await client.download("job-1", dest, source="api")

        result = asyncio.run(run())
    assert dest.read_bytes() == payload
    assert result.resumes == 1  # type: ignore[attr-defined]
    assert [r.headers.get("range") for r in tls_fake.requests] == [None, f"bytes={123_456 - OVERLAP}-"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unverified_certificate_is_refused(tls_fake: FakeOpenRouter, tmp_path: Path, mode: str) -> None:
    from openrouter_video import APIConnectionError

    tls_fake.add_video("job-1", b"x")
    sleeps: list[float] = []
    config = {
        "api_key": tls_fake.api_key,
        "base_url": tls_fake.base_url,
        "retry": RetryPolicy(sleep=sleeps.append),
    }
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        if mode == "sync":
            with VideoClient(**config) as client:  # type: ignore[arg-type]
                client.download("job-1", tmp_path / "out.mp4", source="api")
        else:

            async def run() -> None:
                async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                    await client.download("job-1", tmp_path / "out.mp4", source="api")

            asyncio.run(run())
    assert not (tmp_path / "out.mp4").exists()
    assert tls_fake.requests == [] and sleeps == []  # refused in the handshake, and not retried


def test_generated_async_call_over_https(
    tls_fake: FakeOpenRouter, certificate: tuple[Path, Path], payload: bytes
) -> None:
    tls_fake.add_video("job-1", payload)

    async def run() -> object:
        async with AsyncVideoClient(
            api_key=tls_fake.api_key,
            base_url=tls_fake.base_url,
            verify=ssl.create_default_context(cafile=certificate[0]),
        ) as client:
            return await list_videos_content.asyncio_detailed("job-1", client=client.api)

    response = asyncio.run(run())
    assert isinstance(response.parsed, File)  # type: ignore[attr-defined]
    assert response.parsed.payload.read() == payload  # type: ignore[attr-defined]
