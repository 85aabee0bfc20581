"""Proxies, sync and async and in the CLI, against a real forward proxy started by the tests: every call
goes through it (with its retries), NO_PROXY and trust_env are honoured, and the async client goes
through httpx's own transport when proxied."""

from __future__ import annotations

import http.client
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
from helpers_run import Run, a_job
from openrouter_video import AsyncVideoClient
from openrouter_video.testing import FakeOpenRouter

# -- a tiny forward proxy ----------------------------------------------------------------------------


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, dict[str, str]]]


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
    result = run("download", job, tmp_path / "out.mp4", source="api", client=client)
    assert result.path.read_bytes() == run.fake.video(job).data
    assert run.sleeps == [0.5, 1.0, 0.5, 1.0]
    gets = [seen for seen in proxy.seen if seen[0] == "GET"]
    assert len(gets) == 6 and len(run.fake.requests) == 6  # every request went through the proxy
    assert all(path.startswith(run.fake.origin) for _, path, _ in gets)
    # the signed URL too, through the same proxy, with no key
    run.fake.add_video("job-stored", result.path.read_bytes())  # a completed job
    signed = run("download", "job-stored", tmp_path / "signed.mp4", client=client)
    assert signed.source == "signed" and signed.path.read_bytes() == result.path.read_bytes()
    stored = [seen for seen in proxy.seen if seen[1].startswith(run.fake.storage_origin)]
    assert len(stored) == 1 and "authorization" not in {name.lower() for name in stored[0][2]}
    assert run.fake.storage_authorization == []


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
