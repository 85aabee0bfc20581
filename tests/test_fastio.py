"""This package's own HTTP/1.1 transports (:mod:`openrouter_video.fastio`) against a raw-socket server,
side by side with plain httpx: the same answers, the same errors, the same connection reuse, and
nothing changed for other httpx and httpcore users in the process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h11
import httpx
import pytest
from helpers_wire import RawServer, Reply, response
from openrouter_video import AsyncVideoClient, VideoClient, fastio
from openrouter_video.fastio import tcp as _tcp  # noqa: F401  (fastio.tcp below)
from openrouter_video.io.http import path_of
from openrouter_video.testing import FakeOpenRouter

MIB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[RawServer]:
    raw = RawServer()
    yield raw
    raw.close()


def _count_h11_data(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the h11 ``Data`` events any connection (ours or httpcore's) takes out of h11."""
    seen: list[int] = []
    original = h11.Connection.next_event

    def next_event(self: h11.Connection) -> Any:
        event = original(self)
        if isinstance(event, h11.Data):
            seen.append(len(event.data))
        return event

    monkeypatch.setattr(h11.Connection, "next_event", next_event)
    return seen


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_downloads_read_the_body_past_h11(
    fake: FakeOpenRouter,
    tls_fake: FakeOpenRouter,
    certificate: tuple[Path, Path],
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
            client.download("job-1", tmp_path / "out.mp4", source="api")
    else:

        async def run() -> None:
            async with AsyncVideoClient(api_key=server.api_key, base_url=server.base_url, verify=verify) as c:
                await c.download("job-1", tmp_path / "out.mp4", source="api")

        asyncio.run(run())
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert data_events == []  # not one body byte became an h11 Data event


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
        ("ours sync", lambda: _sync_get(fastio.sync_transport(), url, count)),
        ("plain async", lambda: _async_get(httpx.AsyncHTTPTransport, url, count)),
        ("ours async", lambda: _async_get(fastio.async_transport, url, count)),
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


def test_bytes_beyond_the_body_close_the_connection_instead_of_answering_the_next_request(
    server: RawServer,
) -> None:
    """Plain httpx reads the extra bytes as the next response (a smuggled answer); this package
    closes such a connection, as curl does, and asks again on a new one."""
    body = os.urandom(2 * MIB)
    smuggled = response("200 OK", ["Content-Length: 5"], b"EVIL!")
    extra = Reply(response("200 OK", [f"Content-Length: {len(body)}"], body + smuggled), end="keep")
    again = Reply(response("200 OK", ["Content-Length: 3"], b"abc"))
    for name in ("ours sync", "ours async"):
        server.script(extra, again)
        url = f"{server.base_url}/x"
        got = (
            _sync_get(fastio.sync_transport(), url, 2)
            if "sync" in name
            else _async_get(fastio.async_transport, url, 2)
        )
        assert got == [body, b"abc"], name
    assert [seen.connection for seen in server.seen] == [1, 2, 3, 4]
    server.script(extra)
    assert _sync_get(httpx.HTTPTransport(), f"{server.base_url}/x", 2) == [body, b"EVIL!"]  # plain httpx


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


_SNAPSHOT = """
import h11, httpcore, httpx, inspect, json, sys
def snapshot():
    out = {}
    for module in (h11, httpcore, httpx):
        for name in dir(module):
            cls = getattr(module, name)
            if inspect.isclass(cls):
                out[module.__name__ + "." + name] = sorted(f"{k}={v!r}" for k, v in vars(cls).items())
    return out
before = snapshot()
"""


def test_the_package_changes_nothing_in_httpx_httpcore_or_h11(fake: FakeOpenRouter) -> None:
    """In a fresh process: every class of h11, httpcore and httpx is the same before the package is
    imported and after both clients downloaded through it."""
    fake.add_video("job-1", os.urandom(3 * MIB))
    script = (
        _SNAPSHOT
        + f"""
import asyncio, tempfile, pathlib
from openrouter_video import AsyncVideoClient, VideoClient
where = pathlib.Path(tempfile.mkdtemp())
with VideoClient(api_key={fake.api_key!r}, base_url={fake.base_url!r}) as client:
    client.download("job-1", where / "a.mp4")
async def run():
    async with AsyncVideoClient(api_key={fake.api_key!r}, base_url={fake.base_url!r}) as client:
        await client.download("job-1", where / "b.mp4")
asyncio.run(run())
after = snapshot()
changed = sorted(name for name in before if before[name] != after.get(name))
print(json.dumps(changed))
assert (where / "a.mp4").stat().st_size == (where / "b.mp4").stat().st_size == {3 * MIB}
"""
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_plain_httpx_in_the_same_process_still_reads_through_h11(
    server: RawServer, monkeypatch: pytest.MonkeyPatch, fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.add_video("job-1", os.urandom(MIB))
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:  # the package in use
        client.download("job-1", tmp_path / "out.mp4", source="api")
    data_events = _count_h11_data(monkeypatch)
    body = os.urandom(300_000)
    server.script(Reply(response("200 OK", [f"Content-Length: {len(body)}"], body)))
    with httpx.Client() as plain:
        assert plain.get(f"{server.base_url}/x").content == body
    assert sum(data_events) == len(body)


def test_a_read_timeout_mid_body_is_httpxs_read_timeout(server: RawServer) -> None:
    body = os.urandom(1000)
    server.script(Reply(response("200 OK", ["Content-Length: 2000"], body), delay=2))
    with httpx.Client(transport=fastio.sync_transport(), timeout=httpx.Timeout(5, read=0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{server.base_url}/x")


def _round_trip_after_body(client: Any, url: str, headers: dict[str, str]) -> Any:
    with client.stream("GET", url, headers=headers) as response:
        response.read()
        reader = path_of(response)
        return reader() if reader is not None else "no reader"


async def _round_trip_after_body_async(client: Any, url: str, headers: dict[str, str]) -> Any:
    async with client.stream("GET", url, headers=headers) as response:
        await response.aread()
        reader = path_of(response)
        return reader() if reader is not None else "no reader"


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="the kernel's view is Linux's TCP_INFO")
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_every_transport_shows_the_kernels_round_trip_of_the_connection_that_answered(
    fake: FakeOpenRouter, tls_fake: FakeOpenRouter, certificate: tuple[Path, Path], tls: bool
) -> None:
    """What the segment ramp reads to tell a full queue (:func:`openrouter_video.fastio.tcp.least_rtt`):
    from this package's transports and from plain httpx's (httpcore's ``network_stream``), over
    TLS too (an ``SSLSocket``, asyncio's and anyio's TLS streams)."""
    server = tls_fake if tls else fake
    server.add_video("job-1", os.urandom(8 * MIB))
    url, headers = f"{server.base_url}/videos/job-1/content", {"Authorization": f"Bearer {server.api_key}"}
    verify: Any = ssl.create_default_context(cafile=certificate[0]) if tls else True
    seen: dict[str, Any] = {}
    transports = (
        ("ours", fastio.sync_transport(verify=verify)),
        ("plain", httpx.HTTPTransport(verify=verify)),
    )
    for name, transport in transports:
        with httpx.Client(transport=transport) as client:
            seen[f"{name} sync"] = _round_trip_after_body(client, url, headers)

    async def run() -> None:
        ours: Any = fastio.async_transport(verify=verify)
        for name, transport in (("ours", ours), ("plain", httpx.AsyncHTTPTransport(verify=verify))):
            async with httpx.AsyncClient(transport=transport) as client:
                seen[f"{name} async"] = await _round_trip_after_body_async(client, url, headers)

    asyncio.run(run())
    assert set(seen) == {"ours sync", "plain sync", "ours async", "plain async"}
    for name, reading in seen.items():
        assert isinstance(reading, float) and 0 < reading < 0.5, (name, reading)  # seconds, over loopback
    closed = socket.create_server(("127.0.0.1", 0))
    reader = fastio.tcp.least_rtt(closed)
    closed.close()
    assert reader is not None and reader() is None  # a closed socket: no view, no error
    assert fastio.tcp.least_rtt(None) is None and fastio.tcp.least_rtt(object()) is None

    class Odd:  # a socket-like object of some event loop or proxy stream, without the option
        def getsockopt(self, *args: object) -> bytes:
            raise NotImplementedError

    assert fastio.tcp.least_rtt(Odd()) is None


@pytest.mark.parametrize("where", ["outside a loop", "inside a loop"])
def test_building_an_async_client_loads_the_event_loops_backend(where: str) -> None:
    """anyio's asyncio backend (30 to 40 ms to import) loads when the client is built (a service's
    start-up), not in its first download's time."""
    build = "asyncio.run(build())" if where == "inside a loop" else "AsyncVideoClient(api_key='x')"
    code = (
        "import asyncio, sys\nfrom openrouter_video import AsyncVideoClient\n"
        "async def build(): return AsyncVideoClient(api_key='x')\n"
        f"client = {build}\nprint('anyio._backends._asyncio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"]


def test_the_first_answer_the_ramp_times_excludes_the_event_loops_first_call(tmp_path: Path) -> None:
    """anyio loads its asyncio backend (~20 ms) on a loop's first network call. It used to land in the
    first answer's time, which the ramp compares probes with: at 20 ms, 128 MiB, a probe that waited
    in a full queue looked like none, and the async default split a full link (0.74x curl)."""
    code = """
import asyncio, os, sys
from openrouter_video import AsyncVideoClient
from openrouter_video.io._async.download import AsyncDriver
from openrouter_video.testing import FakeOpenRouter
loaded = []
original = AsyncDriver.open
async def open(self):
    loaded.append("anyio._backends._asyncio" in sys.modules)
    await original(self)
AsyncDriver.open = open
async def main(fake):
    async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        await client.download("job-1", sys.argv[1], source="api", max_connections=4)
with FakeOpenRouter() as fake:
    fake.add_video("job-1", os.urandom(1 << 20))
    asyncio.run(main(fake))
print(loaded)
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.mp4")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "[True]"
