"""The direct body reader (``_fastbody.py``): bodies with a Content-Length read past h11's buffer.

It replaces httpcore's ``HTTP11Connection._receive_response_body`` (and the async one) and keeps
h11's ``ContentLengthReader._remaining`` in step. These tests fail if a seam moves, if the clients
stop taking the direct path, or if anything h11 decides (an early close, bytes beyond the body, the
end of the message and connection reuse) comes out differently from plain httpx.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h11
import httpx
import pytest
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._sync.http11 import HTTP11Connection
from openrouter_video import AsyncVideoClient, VideoClient, _fastbody
from openrouter_video._aio import async_http_transport
from openrouter_video._sync import use_large_reads
from openrouter_video.testing import FakeOpenRouter
from test_tls import certificate, tls_fake  # noqa: F401 - fixtures
from test_wire import RawServer, Reply, response

MIB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[RawServer]:
    raw = RawServer()
    yield raw
    raw.close()


def test_the_seams_the_direct_reader_relies_on_exist() -> None:
    assert _fastbody.seams_present()
    reader = h11._readers.ContentLengthReader(10)
    assert reader._remaining == 10
    connection = h11.Connection(h11.CLIENT)
    assert connection._receive_buffer_closed is False and not connection._receive_buffer


def test_both_clients_install_it() -> None:
    VideoClient(api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1").close()
    AsyncVideoClient(api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1")
    assert HTTP11Connection._receive_response_body is _fastbody._receive_response_body
    assert AsyncHTTP11Connection._receive_response_body is _fastbody._areceive_response_body


def _count_h11_data(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the h11 ``Data`` events httpcore's connections receive (sync and async)."""
    seen: list[int] = []
    sync_original, async_original = HTTP11Connection._receive_event, AsyncHTTP11Connection._receive_event

    def sync_event(self: Any, timeout: float | None = None) -> Any:
        event = sync_original(self, timeout)
        if isinstance(event, h11.Data):
            seen.append(len(event.data))
        return event

    async def async_event(self: Any, timeout: float | None = None) -> Any:
        event = await async_original(self, timeout)
        if isinstance(event, h11.Data):
            seen.append(len(event.data))
        return event

    monkeypatch.setattr(HTTP11Connection, "_receive_event", sync_event)
    monkeypatch.setattr(AsyncHTTP11Connection, "_receive_event", async_event)
    return seen


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_downloads_take_the_direct_path(
    fake: FakeOpenRouter,
    tls_fake: FakeOpenRouter,  # noqa: F811
    certificate: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    tls: bool,
) -> None:
    server = tls_fake if tls else fake
    payload = os.urandom(4 * MIB + 17)
    server.add_video("job-1", payload)
    verify: Any = ssl.create_default_context(cafile=certificate[0]) if tls else True
    data_events = _count_h11_data(monkeypatch)
    if mode == "sync":
        with VideoClient(api_key=server.api_key, base_url=server.base_url, verify=verify) as client:
            client.download("job-1", tmp_path / "out.mp4")
    else:

        async def run() -> None:
            async with AsyncVideoClient(api_key=server.api_key, base_url=server.base_url, verify=verify) as c:
                await c.download("job-1", tmp_path / "out.mp4")

        asyncio.run(run())
    assert (tmp_path / "out.mp4").read_bytes() == payload
    # Only what arrived in the same read as the headers (one Data event, at most one read) went
    # through h11; the rest of the body's bytes never became h11 Data events. The end of the
    # message did go through h11 (the download completed and was checked against its length).
    assert len(data_events) <= 1 and sum(data_events) <= _fastbody.READ_BYTES


def _sync_get(transport: httpx.BaseTransport, url: str, count: int = 1) -> list[bytes | str]:
    results: list[bytes | str] = []
    with httpx.Client(transport=transport) as client:
        for _ in range(count):
            try:
                results.append(client.get(url).content)
            except httpx.HTTPError as exc:
                results.append(f"{type(exc).__name__}: {exc}")
    return results


def _async_get(make: Callable[[], httpx.AsyncBaseTransport], url: str, count: int = 1) -> list[bytes | str]:
    async def run() -> list[bytes | str]:
        results: list[bytes | str] = []
        async with httpx.AsyncClient(transport=make()) as client:
            for _ in range(count):
                try:
                    results.append((await client.get(url)).content)
                except httpx.HTTPError as exc:
                    results.append(f"{type(exc).__name__}: {exc}")
        return results

    return asyncio.run(run())


def _both_ways(server: RawServer, replies: list[Reply], count: int = 1) -> dict[str, list[bytes | str]]:
    """The same replies to plain httpx and to the package's transports, sync and async."""
    url = f"{server.base_url}/x"
    outcomes: dict[str, list[bytes | str]] = {}
    runs: list[tuple[str, Callable[[], list[bytes | str]]]] = [
        ("plain sync", lambda: _sync_get(httpx.HTTPTransport(), url, count)),
        ("ours sync", lambda: _sync_get(use_large_reads(httpx.HTTPTransport()), url, count)),
        ("plain async", lambda: _async_get(httpx.AsyncHTTPTransport, url, count)),
        ("ours async", lambda: _async_get(async_http_transport, url, count)),
    ]
    for name, run in runs:
        server.script(*replies)
        outcomes[name] = run()
    return outcomes


def test_a_body_cut_short_raises_h11s_error_as_plain_httpx_does(server: RawServer) -> None:
    body = os.urandom(500)
    cut = Reply(response("200 OK", ["Content-Length: 1000"], body))
    outcomes = _both_ways(server, [cut])
    assert len({str(v) for v in outcomes.values()}) == 1, outcomes
    message = outcomes["ours sync"][0]
    assert isinstance(message, str) and message.startswith("RemoteProtocolError")
    assert "received 500 bytes, expected 1000" in message


def test_bytes_beyond_the_body_are_judged_by_h11_as_plain_httpx_does(server: RawServer) -> None:
    body = os.urandom(2 * MIB)
    extra = Reply(
        response("200 OK", [f"Content-Length: {len(body)}"], body + b"HTTP/1.1 200 junk"), end="keep"
    )
    again = Reply(response("200 OK", ["Content-Length: 3"], b"abc"))
    outcomes = _both_ways(server, [extra, again], count=2)
    assert len({repr(v) for v in outcomes.values()}) == 1, {
        k: [str(x)[:80] for x in v] for k, v in outcomes.items()
    }
    assert outcomes["ours sync"][0] == body


def test_the_connection_is_reused_after_a_direct_body(server: RawServer) -> None:
    first, second = os.urandom(MIB), os.urandom(1000)
    replies = [
        Reply(response("200 OK", [f"Content-Length: {len(first)}"], first), end="keep"),
        Reply(response("200 OK", [f"Content-Length: {len(second)}"], second)),
    ]
    outcomes = _both_ways(server, replies, count=2)
    for name, got in outcomes.items():
        assert got == [first, second], name
    # each of the four clients used one connection for both requests
    assert [seen.connection for seen in server.seen] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_chunked_and_close_delimited_bodies_still_go_through_h11(server: RawServer) -> None:
    body = os.urandom(100_000)
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 7000]), body[i : i + 7000]) for i in range(0, len(body), 7000)
    )
    replies = [
        Reply(response("200 OK", ["Transfer-Encoding: chunked"], chunked + b"0\r\n\r\n"), end="keep"),
        Reply(response("200 OK", ["Connection: close"], body)),
    ]
    outcomes = _both_ways(server, replies, count=2)
    for name, got in outcomes.items():
        assert got == [body, body], name


def test_other_httpcore_users_keep_the_original_path(
    server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_large_reads(httpx.HTTPTransport())  # installed
    data_events = _count_h11_data(monkeypatch)
    body = os.urandom(300_000)
    server.script(Reply(response("200 OK", [f"Content-Length: {len(body)}"], body)))
    with httpx.Client() as client:  # httpcore's own network stream
        assert client.get(f"{server.base_url}/x").content == body
    assert sum(data_events) == len(body)


def test_a_read_timeout_mid_body_is_httpxs_read_timeout(server: RawServer) -> None:
    body = os.urandom(1000)
    server.script(Reply(response("200 OK", ["Content-Length: 2000"], body), delay=2))
    transport = use_large_reads(httpx.HTTPTransport())
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5, read=0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{server.base_url}/x")
