"""A client that deploys anywhere (issue 11): proxies, configuration, key hygiene, paid requests that
are never redirected, deadlines; sync and async, against real loopback servers and a real forward
proxy started by the tests.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openrouter_video import (
    APIStatusError,
    AsyncVideoClient,
    AuthenticationError,
    ConfigurationError,
    RetryPolicy,
    VideoClient,
    VideoJobTimeoutError,
)
from openrouter_video.testing import FakeOpenRouter, Redirect, Status, error_body

MODES = ["sync", "async"]
MODEL = "google/veo-3.1"


# -- a tiny forward proxy ----------------------------------------------------------------------------
class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        target = urlsplit(self.path)  # absolute-form: http://host:port/path?query
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")
        }
        upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(self.command, path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_HEAD = _forward


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, dict[str, str]]]


@pytest.fixture
def proxy() -> Iterator[_ProxyServer]:
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def proxy_url(server: _ProxyServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# -- running a client method sync or async -------------------------------------------------------------
class Run:
    def __init__(self, mode: str, fake: FakeOpenRouter) -> None:
        self.mode, self.fake = mode, fake
        self.sleeps: list[float] = []

    def __call__(self, method: str, *args: Any, client: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        config: dict[str, Any] = {
            "api_key": self.fake.api_key,
            "base_url": self.fake.base_url,
            "retry": RetryPolicy(sleep=self.sleeps.append, jitter=lambda: 1.0),
            **(client or {}),
        }
        if self.mode == "sync":
            with VideoClient(**config) as c:
                return getattr(c, method)(*args, **kwargs)

        async def run() -> Any:
            async with AsyncVideoClient(**config) as c:
                return await getattr(c, method)(*args, **kwargs)

        return asyncio.run(run())


@pytest.fixture(params=MODES)
def run(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Run:
    return Run(request.param, fake)


def a_job(fake: FakeOpenRouter) -> str:
    fake.script_job(job_id="job-abc")
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.generate(MODEL, "p")
    fake.requests.clear()
    return "job-abc"


# -- proxies ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["env", "env-all", "argument", "httpx_args"])
def test_every_call_goes_through_the_proxy_with_retries(
    run: Run, proxy: _ProxyServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    job = a_job(run.fake)
    run.fake.add_video(job, b"\x00" * 1000 + os.urandom(100_000))
    client: dict[str, Any] = {}
    if how == "env":
        monkeypatch.setenv("HTTP_PROXY", proxy_url(proxy))
    elif how == "env-all":
        monkeypatch.setenv("all_proxy", proxy_url(proxy))
    elif how == "argument":
        client["proxy"] = proxy_url(proxy)
    else:
        client["httpx_args"] = {"proxy": proxy_url(proxy)}
    run.fake.fail(503, times=2, route="job")  # 503, 503, 200 through the proxy
    assert run("get_job", job, client=client).id == job
    run.fake.fail(503, times=2)
    result = run("download", job, tmp_path / "out.mp4", client=client)
    assert result.path.read_bytes() == run.fake.video(job).data
    assert run.sleeps == [0.5, 1.0, 0.5, 1.0]
    gets = [seen for seen in proxy.seen if seen[0] == "GET"]
    assert len(gets) == 6 and len(run.fake.requests) == 6  # every request went through the proxy
    assert all(path.startswith(run.fake.origin) for _, path, _ in gets)


def test_no_proxy_bypasses_the_environment_proxy(
    run: Run, proxy: _ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = a_job(run.fake)
    monkeypatch.setenv("HTTP_PROXY", proxy_url(proxy))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert run("get_job", job).id == job
    assert proxy.seen == []


def test_trust_env_false_ignores_the_environment(
    run: Run, proxy: _ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = a_job(run.fake)
    monkeypatch.setenv("HTTP_PROXY", proxy_url(proxy))
    assert run("get_job", job, client={"httpx_args": {"trust_env": False}}).id == job
    assert proxy.seen == []


def test_the_cli_honours_the_environment_proxy(
    fake: FakeOpenRouter, proxy: _ProxyServer, tmp_path: Path
) -> None:
    job = a_job(fake)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(OPENROUTER_API_KEY=fake.api_key, HTTP_PROXY=proxy_url(proxy))
    cli = str(Path(sys.executable).parent / "openrouter-video")
    result = subprocess.run(
        [cli, "status", job, "--base-url", fake.base_url], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{job}: ")
    assert [seen[0] for seen in proxy.seen] == ["GET"]


def test_the_async_client_goes_through_a_proxy_on_httpxs_own_transport(proxy: _ProxyServer) -> None:
    client = AsyncVideoClient(
        api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1", proxy=proxy_url(proxy)
    )
    inner = client.transport.async_routes.pick(httpx.URL("http://127.0.0.1:9/"))
    assert type(inner) is httpx.AsyncHTTPTransport


# -- configuration ---------------------------------------------------------------------------------
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
    run("download", job, tmp_path / "out.mp4", client=client)
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


# -- the API key -----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["\n", " ", "\r\n", "\t"])
def test_a_key_with_surrounding_whitespace_works_and_never_shows(
    run: Run, tmp_path: Path, caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    job = a_job(run.fake)
    key = run.fake.api_key
    run.fake.enqueue(Status(401, body=error_body(401, f"Invalid API key {key}")), route="job")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthenticationError) as caught:
            run("get_job", job, client={"api_key": key + suffix})
        assert run("get_job", job, client={"api_key": " " + key + suffix}).id == job
    assert run.fake.requests[-1].headers["authorization"] == f"Bearer {key}"
    assert key not in str(caught.value) and key not in repr(caught.value)
    assert caught.value.message == "Invalid API key <redacted API key>"
    assert caplog.records  # httpx and httpcore logged at DEBUG
    for record in caplog.records:
        assert key not in record.getMessage()


@pytest.mark.parametrize(
    "bad", ["sk-or-abc\x01def-123456", "sk-or-abcdéf-123456", "sk-or-abc def-123456", "  "]
)
def test_a_key_with_control_or_non_ascii_characters_is_refused_without_showing_it(bad: str) -> None:
    for cls in (VideoClient, AsyncVideoClient):
        with pytest.raises(ConfigurationError) as caught:
            cls(api_key=bad, base_url="http://127.0.0.1:9/api/v1")
        assert bad.strip() not in str(caught.value) or not bad.strip()


def test_the_cli_with_a_key_from_a_secret_file_never_prints_it(fake: FakeOpenRouter, tmp_path: Path) -> None:
    job = a_job(fake)
    fake.add_video(job, b"\x00" * 1000 + os.urandom(1000))
    fake.enqueue(Status(500, body=error_body(500, f"upstream said {fake.api_key}")))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["OPENROUTER_API_KEY"] = fake.api_key + "\n"
    cli = str(Path(sys.executable).parent / "openrouter-video")
    result = subprocess.run(
        [cli, "download", job, "--base-url", fake.base_url, "-o", str(tmp_path / "out.mp4")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert fake.api_key not in result.stdout + result.stderr
    assert "note: " in result.stderr and "<redacted API key>" in result.stderr


# -- paid requests are never redirected -----------------------------------------------------------------
@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("where", ["same-origin", "other-origin"])
def test_post_videos_never_follows_a_redirect(run: Run, status: int, where: str) -> None:
    with FakeOpenRouter(require_auth=False) as other:
        base = run.fake.base_url if where == "same-origin" else other.base_url
        run.fake.enqueue(Redirect(f"{base}/videos", status=status), route="create")
        with pytest.raises(APIStatusError) as caught:
            run("generate", MODEL, "a secret prompt")
        assert caught.value.status_code == status
        assert f"{base}/videos" in str(caught.value)
        assert [r.method for r in run.fake.requests] == ["POST"]  # sent once, never re-sent
        assert other.requests == []  # the paid body never left for another origin


# -- deadlines -------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("retry_after", [1, 30])
def test_wait_timeout_bounds_the_whole_wait_under_a_429_storm(run: Run, retry_after: int) -> None:
    job = a_job(run.fake)
    run.fake.enqueue(*(Status(429, retry_after=retry_after) for _ in range(500)), route="job")
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 1.0)
    with pytest.raises(VideoJobTimeoutError):
        run("wait", job, poll_interval=2, timeout=10, client={"retry": policy})
    assert clock.now <= 10
    assert len(run.fake.requests) <= 12


def test_get_job_timeout_bounds_retries(run: Run) -> None:
    from openrouter_video import DeadlineExceededError

    job = a_job(run.fake)
    run.fake.enqueue(*(Status(503, retry_after=4) for _ in range(10)), route="job")
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=lambda: clock.now)
    with pytest.raises(DeadlineExceededError):
        run("get_job", job, timeout=10, client={"retry": policy})
    assert clock.sleeps == [4, 4] and len(run.fake.requests) == 3


def test_a_redirect_to_a_javascript_url_is_a_package_error(run: Run, tmp_path: Path) -> None:
    from openrouter_video import APIConnectionError

    job = a_job(run.fake)
    run.fake.enqueue(Redirect("javascript:alert(1)"))
    run.fake.add_video(job, b"\x00" * 1000)
    with pytest.raises(APIConnectionError):
        run("download", job, tmp_path / "out.mp4")
    run.fake.enqueue(Redirect("javascript:alert(1)"), route="job")
    with pytest.raises(APIConnectionError):
        run("get_job", job)


# -- bounded answers -------------------------------------------------------------------------------
def test_a_gzip_bomb_answer_is_read_bounded(run: Run) -> None:
    import gzip
    import tracemalloc

    from openrouter_video import InternalServerError, UnexpectedContentError

    job = a_job(run.fake)
    bomb = gzip.compress(b" " * (200 * 1024 * 1024), compresslevel=9)  # ~200 KB that inflates to 200 MiB
    assert len(bomb) < 400_000
    gz = {"Content-Encoding": "gzip"}
    run.fake.enqueue(Status(200, body=bomb, headers=gz), route="job")
    tracemalloc.start()
    try:
        with pytest.raises(UnexpectedContentError, match="larger than"):
            run("get_job", job)
        run.fake.enqueue(Status(500, body=bomb, headers=gz), route="job")
        with pytest.raises(InternalServerError):
            run("get_job", job, client={"retry": RetryPolicy(max_attempts=1)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 80 * 1024 * 1024  # bounded: not the 200 MiB the answer inflates to
