"""VideoClient/AsyncVideoClient: configuration, streaming, the generated-client seam, retries there."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import httpx
import openrouter_video
import pytest
from harness import NO_SLEEP
from helpers_run import Run, a_job
from openrouter_video import AsyncVideoClient, ConfigurationError, NotFoundError, RetryPolicy, VideoClient
from openrouter_video.testing import FakeOpenRouter, Status
from openrouter_video_api.api.video_generation import list_videos_content
from openrouter_video_api.types import File


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
        assert client.download("job-1", tmp_path / "a.mp4", source="api").size == 8
    monkeypatch.delenv("OPENROUTER_BASE_URL")
    with VideoClient() as client:
        assert client.base_url == openrouter_video.DEFAULT_BASE_URL == "https://openrouter.ai/api/v1"


def test_stream_errors_before_any_byte_raise_on_enter(fake: FakeOpenRouter) -> None:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with pytest.raises(NotFoundError), client.stream("nope", source="api"):
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


# -- configuration -----------------------------------------------------------------------------------


def test_httpx_args_headers_and_timeout_work_and_default_headers_go_everywhere(
    run: Run, tmp_path: Path
) -> None:
    job = a_job(run.fake)
    run.fake.add_video(job, b"\x00" * 2000)
    client = {
        "httpx_args": {"headers": {"X-Extra": "1"}, "timeout": 5},
        "default_headers": {"HTTP-Referer": "https://example.com/app", "X-Title": "My App"},
    }
    run("get_job", job, client=client)
    run("download", job, tmp_path / "out.mp4", source="api", client=client)
    run("list_models", client=client)
    assert len(run.fake.requests) == 3
    for request in run.fake.requests:
        assert request.headers["x-extra"] == "1"
        assert request.headers["http-referer"] == "https://example.com/app"
        assert request.headers["x-title"] == "My App"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"timeout": 5, "httpx_args": {"timeout": 6}}, "not both"),
        ({"httpx_args": {"mounts": {}}}, "mounts"),
        ({"httpx_args": {"base_url": "x"}}, "base_url"),
        ({"httpx_args": {"no_such_thing": 1}}, "no_such_thing"),
        ({"httpx_args": {"limits": 5}}, "limits"),
        ({"proxy": "ftp://x"}, "proxy"),
        ({"default_headers": {"X-A": "a\r\nInjected: 1"}}, "X-A"),
        ({"default_headers": {"Authorization": "Bearer x"}}, "Authorization"),
    ],
)
def test_bad_configuration_is_a_configuration_error_at_construction(
    kwargs: dict[str, Any], needle: str
) -> None:
    for cls in (VideoClient, AsyncVideoClient):
        with pytest.raises(ConfigurationError, match=needle):
            cls(api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1", **kwargs)


def test_limits_are_honoured(run: Run) -> None:
    job = a_job(run.fake)
    before = run.fake.connections
    run("get_job", job)  # one client, one call: one connection
    assert run.fake.connections - before == 1
    before = run.fake.connections

    if run.mode == "sync":
        with VideoClient(
            api_key=run.fake.api_key,
            base_url=run.fake.base_url,
            httpx_args={"limits": httpx.Limits(max_keepalive_connections=0)},
        ) as client:
            client.get_job(job)
            client.get_job(job)
    else:

        async def two() -> None:
            async with AsyncVideoClient(
                api_key=run.fake.api_key,
                base_url=run.fake.base_url,
                httpx_args={"limits": httpx.Limits(max_keepalive_connections=0)},
            ) as client:
                await client.get_job(job)
                await client.get_job(job)

        asyncio.run(two())
    assert run.fake.connections - before == 2  # no keep-alive: a connection per call
