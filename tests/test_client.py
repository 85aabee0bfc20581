"""VideoClient/AsyncVideoClient: configuration, streaming, the generated-client seam, retries there."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import httpx
import openrouter_video
import pytest
from openrouter_video import (
    AsyncVideoClient,
    ConfigurationError,
    IncompleteDownloadError,
    NotFoundError,
    RetryPolicy,
    VideoClient,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.testing import Cut, FakeOpenRouter, Status
from openrouter_video_api.api.video_generation import list_videos_content
from openrouter_video_api.types import File

NO_SLEEP = RetryPolicy(sleep=lambda _: None)

#: The Range headers of a stream cut at 70 000 and 140 000 (each resume re-reads 64 KiB).
RESUMED_TWICE = [None, f"bytes={70_000 - OVERLAP}-", f"bytes={140_000 - OVERLAP}-"]


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENROUTER_API_KEY"):
        VideoClient()
    with pytest.raises(ConfigurationError, match="OPENROUTER_API_KEY"):
        AsyncVideoClient()


def test_key_and_base_url_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.add_video("job-1", b"from env")
    monkeypatch.setenv("OPENROUTER_API_KEY", fake.api_key)
    monkeypatch.setenv("OPENROUTER_BASE_URL", fake.base_url)
    with VideoClient() as client:
        assert client.download("job-1", tmp_path / "a.mp4").size == 8
    monkeypatch.delenv("OPENROUTER_BASE_URL")
    with VideoClient() as client:
        assert client.base_url == openrouter_video.DEFAULT_BASE_URL == "https://openrouter.ai/api/v1"


def test_the_key_is_in_no_repr() -> None:
    key = "sk-or-v1-" + "ab" * 20
    with VideoClient(api_key=key, base_url="http://127.0.0.1:9/api/v1") as client:
        for text in (repr(client), str(client), repr(client.api), str(client.api)):
            assert key not in text


def test_stream_resumes_transparently(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.cut_at(70_000, 140_000)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with client.stream("job-1") as video:
            assert (video.content_type, video.total) == ("video/mp4", len(payload))
            got = b"".join(video.iter_bytes())
        assert got == payload and video.resumes == 2
    assert [r.headers.get("range") for r in fake.requests] == [
        None,
        f"bytes={70_000 - OVERLAP}-",
        f"bytes={140_000 - OVERLAP}-",
    ]


def test_async_stream_resumes_transparently(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.cut_at(70_000, 140_000)

    async def run() -> bytes:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as c:
            async with c.stream("job-1") as video:
                assert (video.content_type, video.total) == ("video/mp4", len(payload))
                return b"".join([chunk async for chunk in video.aiter_bytes()])

    assert asyncio.run(run()) == payload
    assert [r.headers.get("range") for r in fake.requests] == [
        None,
        f"bytes={70_000 - OVERLAP}-",
        f"bytes={140_000 - OVERLAP}-",
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_cannot_splice_when_the_server_ignores_range(
    fake: FakeOpenRouter, payload: bytes, mode: str
) -> None:
    fake.add_video("job-1", payload)
    fake.ignore_range = True
    fake.enqueue(Cut(at=100_000))
    got = bytearray()
    config = {"api_key": fake.api_key, "base_url": fake.base_url, "retry": NO_SLEEP}
    with pytest.raises(IncompleteDownloadError, match="cannot resume"):
        if mode == "sync":
            with VideoClient(**config) as client, client.stream("job-1") as video:  # type: ignore[arg-type]
                for chunk in video.iter_bytes():
                    got += chunk
        else:

            async def run() -> None:
                async with AsyncVideoClient(**config) as c, c.stream("job-1") as video:  # type: ignore[arg-type]
                    async for chunk in video.aiter_bytes():
                        got.extend(chunk)

            asyncio.run(run())
    assert bytes(got) == payload[: len(got)] and len(got) == 100_000


def test_stream_errors_before_any_byte_raise_on_enter(fake: FakeOpenRouter) -> None:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with pytest.raises(NotFoundError), client.stream("nope"):
            pass
    assert len(fake.requests) == 1


def test_generated_client_calls_get_the_same_status_retries(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.enqueue(Status(503, retry_after=0), Status(502, html=True))
    sleeps: list[float] = []
    with VideoClient(
        api_key=fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=sleeps.append)
    ) as client:
        response = list_videos_content.sync_detailed("job-1", client=client.api)
    assert response.status_code == 200
    assert isinstance(response.parsed, File) and response.parsed.payload.read() == payload
    # Retry-After: 0 still waits the floor (RetryPolicy.min_delay): never a request storm
    assert len(fake.requests) == 3 and len(sleeps) == 2 and sleeps[0] == 0.1


def test_generated_async_calls_get_the_same_status_retries(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.fail(500, times=2)

    async def run() -> httpx.Response:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as c:
            response = await list_videos_content.asyncio_detailed("job-1", client=c.api)
            return response  # type: ignore[return-value]

    response = asyncio.run(run())
    assert response.status_code == 200 and len(fake.requests) == 3


def test_generated_client_is_not_retried_on_404(fake: FakeOpenRouter) -> None:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        response = list_videos_content.sync_detailed("nope", client=client.api)
    assert response.status_code == 404 and len(fake.requests) == 1


def test_the_private_generator_seam_the_overlay_relies_on() -> None:
    """`_get_kwargs` and `_build_response` are private to openapi-python-client (pinned at 0.29.1)."""
    kwargs = list_videos_content._get_kwargs("a/b c", index=3)
    assert kwargs == {"method": "get", "url": "/videos/a%2Fb%20c/content", "params": {"index": 3}}
    build = inspect.signature(list_videos_content._build_response)
    assert list(build.parameters) == ["client", "response"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in build.parameters.values())
