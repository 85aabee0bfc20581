"""The connections under the clients: the async client's lean asyncio backend
(:mod:`openrouter_video.fastio.asyncio_backend`) and the sync client's large-read socket backend
(:mod:`openrouter_video.fastio.socket_backend`): they really connect, read in large chunks, keep one read
timer per connection, never hand the next request bytes past a body, and run on the event loop the suite
was asked for (``--loop=uvloop``). The lent receive buffers are in test_lending.py.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from helpers_transport import _Transport
from helpers_wire import RawServer, Reply, response
from openrouter_video import AsyncVideoClient, VideoClient, fastio
from openrouter_video.fastio import Transport
from openrouter_video.fastio.asyncio_backend import READ_BYTES, AsyncioBackend, AsyncioStream, _Protocol
from openrouter_video.fastio.socket_backend import LargeReadBackend, LargeReadStream
from openrouter_video.testing import Cut, FakeOpenRouter, mp4_bytes

KEY = "sk-or-v1-" + "k3y" * 12


def test_the_async_transport_is_on_the_asyncio_backend_with_the_limits_given() -> None:
    transport = fastio.async_transport(True, httpx.Limits(max_connections=7))
    connection = transport.pool.create_connection(httpcore.Origin(b"http", b"127.0.0.1", 80))
    assert isinstance(connection.backend, AsyncioBackend)
    assert transport.pool.settings[2] == 5.0  # httpx's keep-alive expiry


def test_the_async_client_really_connects_through_the_asyncio_backend(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects: list[tuple[str, int]] = []
    original = AsyncioBackend.connect_tcp

    async def counting(self: AsyncioBackend, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        stream = await original(self, host, port, *args, **kwargs)
        assert isinstance(stream, AsyncioStream)  # the lean stream, not the fallback (uvloop too)
        connects.append((host, port))
        return stream

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", counting)
    fake.add_video("job-1", b"\x00" * 1000 + b"video")

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            await client.download("job-1", tmp_path / "out.mp4", source="api")
            await client.list_models()

    asyncio.run(run())
    assert connects and all(port == fake.port for _, port in connects)
    assert (tmp_path / "out.mp4").read_bytes().endswith(b"video")


# -- large reads: one receive buffer per connection, up to READ_BYTES per trip ----------------------


def _record_async_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    original = AsyncioStream.read

    async def read(self: AsyncioStream, max_bytes: int, timeout: float | None = None) -> Any:
        data = await original(self, max_bytes, timeout)
        sizes.append(len(data))
        return data

    monkeypatch.setattr(AsyncioStream, "read", read)
    return sizes


async def _slow_read(client: AsyncVideoClient, job: str) -> bytes:
    """Read a video while blocking the event loop a little per chunk, so that data piles up in the
    socket (as it does whenever the consumer is busier than the network is slow)."""
    parts = []
    async with client.stream(job, source="api") as video:
        async for chunk in video.aiter_bytes():
            parts.append(chunk)
            time.sleep(0.005)
    return b"".join(parts)


def test_reads_grow_past_asyncios_256_KiB_when_data_waits(
    fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = os.urandom(8 * 1024 * 1024)
    fake.add_video("job-1", payload)
    sizes = _record_async_reads(monkeypatch)

    async def run() -> bytes:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return await _slow_read(client, "job-1")

    assert asyncio.run(run()) == payload
    assert max(sizes) > 256 * 1024 and max(sizes) <= READ_BYTES


def test_tls_reads_grow_past_asyncios_256_KiB_too(
    tls_fake: FakeOpenRouter,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """asyncio's TLS layer reads at most ``SSLProtocol.max_size`` (256 KiB) of ciphertext per read;
    the backend raises it through ``transport._ssl_protocol``. This fails if that seam moves."""
    assert isinstance(asyncio.sslproto.SSLProtocol.max_size, int)
    payload = os.urandom(8 * 1024 * 1024)
    tls_fake.add_video("job-1", payload)
    sizes = _record_async_reads(monkeypatch)
    verify = ssl.create_default_context(cafile=certificate[0])

    async def run() -> bytes:
        async with AsyncVideoClient(
            api_key=tls_fake.api_key, base_url=tls_fake.base_url, verify=verify
        ) as client:
            return await _slow_read(client, "job-1")

    assert asyncio.run(run()) == payload
    assert max(sizes) > 256 * 1024 and max(sizes) <= READ_BYTES


def test_the_receive_buffer_pauses_when_full_and_never_hands_out_nothing() -> None:
    protocol = _Protocol()
    transport = _Transport()
    protocol.connection_made(transport)
    for round_ in range(3):
        buffer = protocol.get_buffer(-1)
        assert len(buffer) == READ_BYTES
        buffer[:] = bytes([round_]) * len(buffer)
        protocol.buffer_updated(len(buffer))
        assert transport.paused  # full: the loop stops reading until the reader takes it
        assert protocol.take() == bytes([round_]) * READ_BYTES
        assert not transport.paused
    # Reads that do not fill it are handed over together.
    for piece in (b"ab", b"cd"):
        buffer = protocol.get_buffer(-1)
        buffer[: len(piece)] = piece
        protocol.buffer_updated(len(piece))
    assert not transport.paused and protocol.take() == b"abcd"
    # Even when the transport reads once more after the pause, the buffer handed out is not empty
    # and nothing is lost.
    first = protocol.get_buffer(-1)
    first[:] = b"a" * len(first)
    protocol.buffer_updated(len(first))
    second = protocol.get_buffer(-1)
    assert len(second) == READ_BYTES
    second[:3] = b"bcd"
    protocol.buffer_updated(3)
    assert protocol.take() == b"a" * READ_BYTES + b"bcd"
    assert not protocol.has_data()


# -- the read timeout: one timer per connection --------------------------------------------------


class _Trickler:
    """Answers one request with a Content-Length body sent in ``pieces`` pieces ``gap`` seconds
    apart, then (``stall``) stops sending without closing."""

    def __init__(self, pieces: int, gap: float, stall: bool = False) -> None:
        self.body = os.urandom(pieces * 1000)
        self.pieces, self.gap, self.stall = pieces, gap, stall
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            while b"\r\n\r\n" not in conn.recv(65536):
                pass
            length = len(self.body) + (1000 if self.stall else 0)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length)
            for i in range(self.pieces):
                conn.sendall(self.body[i * 1000 : (i + 1) * 1000])
                time.sleep(self.gap)
            self.done.wait(5)

    def close(self) -> None:
        self.done.set()
        self.listener.close()


async def _get(port: int, read_timeout: float) -> bytes:
    timeout = httpx.Timeout(5, read=read_timeout)
    async with httpx.AsyncClient(transport=fastio.async_transport(), timeout=timeout) as client:
        return (await client.get(f"http://127.0.0.1:{port}/x")).content


def test_a_body_slower_in_total_than_the_read_timeout_is_not_cut() -> None:
    """Each wait is shorter than the read timeout, all of them together much longer: the one timer
    per connection must follow the latest wait, not the first."""
    server = _Trickler(pieces=8, gap=0.1)
    try:
        assert asyncio.run(_get(server.port, read_timeout=0.35)) == server.body
    finally:
        server.close()


def test_a_stalled_body_times_out_after_the_read_timeout() -> None:
    server = _Trickler(pieces=3, gap=0.01, stall=True)
    try:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            asyncio.run(_get(server.port, read_timeout=0.3))
        assert 0.25 <= time.monotonic() - started < 3
    finally:
        server.close()


def test_async_downloads_make_no_failed_imports(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """httpcore tries ``import sniffio`` several times per async request; sniffio is a declared
    dependency, so none of those tries searches sys.path (a failed import is never cached)."""
    import importlib.abc
    import sys

    searched: list[str] = []

    class Spy(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            searched.append(name)
            return None

    fake.add_video("job-1", b"\x00" * 1000 + b"video")

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            await client.download("job-1", tmp_path / "warm.mp4", source="api")
            sys.meta_path.insert(0, spy)
            try:
                for i in range(3):
                    await client.download("job-1", tmp_path / f"out-{i}.mp4", source="api")
            finally:
                sys.meta_path.remove(spy)

    spy = Spy()
    asyncio.run(run())
    assert searched == []


# -- the event loop -----------------------------------------------------------------------------------


def test_asyncio_run_is_on_the_loop_the_suite_was_asked_for(request: pytest.FixtureRequest) -> None:
    """`make test-uvloop` runs the async suites with ``--loop=uvloop``: prove they really are on it."""

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    expected = "uvloop" if request.config.getoption("--loop") == "uvloop" else "asyncio"
    assert asyncio.run(loop_module()).split(".")[0] == expected


class _ShortTransport:
    """A wrapper a loop hands out instead of the transport its protocol was given: the lean backend
    cannot rely on it (httpcore's own backend, through anyio, can)."""

    def __init__(self, inner: asyncio.BaseTransport) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _ShortLoop(asyncio.SelectorEventLoop):
    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        transport, protocol = await super().create_connection(*args, **kwargs)
        return _ShortTransport(transport), protocol


def test_a_loop_whose_transports_fall_short_gets_httpcores_backend_with_one_debug_line(
    fake: FakeOpenRouter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    fake.add_video("job-1", payload)
    caplog.set_level("DEBUG", logger="openrouter_video.fastio")

    async def run() -> list[bool]:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, timeout=5) as client:
            await client.download("job-1", tmp_path / "a.mp4", source="api")
            await client.download("job-1", tmp_path / "b.mp4", source="api")
            pools = client.transport.async_routes.transports.values()
            return [c.backend.lean for p in pools for c in p.pool.connections]  # type: ignore[attr-defined]

    with asyncio.Runner(loop_factory=_ShortLoop) as runner:
        lean = runner.run(run())
    assert (tmp_path / "a.mp4").read_bytes() == payload == (tmp_path / "b.mp4").read_bytes()
    assert lean and not any(lean)
    lines = [r for r in caplog.records if "httpcore's own network backend" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "DEBUG"


# -- the sync client's large-read socket backend ------------------------------------------------------


def test_the_sync_client_is_on_the_large_read_backend_and_proxies_on_httpxs_transport() -> None:
    client = VideoClient(api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1")
    inner = client.transport.routes.pick(httpx.URL("http://127.0.0.1:9/"))
    assert isinstance(inner, Transport)
    connection = inner.pool.create_connection(httpcore.Origin(b"http", b"127.0.0.1", 9))
    assert isinstance(connection.backend, LargeReadBackend)
    client.close()
    proxied = VideoClient(
        api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1", proxy="http://127.0.0.1:3128"
    )
    assert type(proxied.transport.routes.pick(httpx.URL("http://127.0.0.1:9/"))) is httpx.HTTPTransport
    proxied.close()


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every receive (``read`` and a download's ``read_lent`` both go through it)."""
    sizes: list[int] = []
    original = LargeReadStream._receive

    def receive(self: LargeReadStream, timeout: float | None) -> int:
        size = original(self, timeout)
        sizes.append(size)
        return size

    monkeypatch.setattr(LargeReadStream, "_receive", receive)
    return sizes


def test_reads_are_larger_than_httpcores_64_KiB(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = os.urandom(8 * 1024 * 1024)
    fake.add_video("job-1", payload)
    fake.enqueue(Cut(at=5_000_000))  # and a resume on the same backend
    sizes = _record_reads(monkeypatch)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert max(sizes) > 64 * 1024 and max(sizes) <= READ_BYTES


def test_tls_records_already_waiting_are_drained_into_one_read(
    tls_fake: FakeOpenRouter,
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = os.urandom(4 * 1024 * 1024)
    tls_fake.add_video("job-1", payload)
    sizes = _record_reads(monkeypatch)
    verify = ssl.create_default_context(cafile=certificate[0])
    with VideoClient(api_key=tls_fake.api_key, base_url=tls_fake.base_url, verify=verify) as client:
        client.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert max(sizes) > 16 * 1024 + 512  # more than one TLS record per read


# -- connections and bytes past a body ---------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    yield server, accepted
    for conn in accepted:
        conn.close()
    server.close()


def test_a_read_never_inherits_an_earlier_reads_longer_timeout(
    listener: tuple[socket.socket, list[socket.socket]],
) -> None:
    """One timer per connection was moved only later: after a read with a 2 s timeout, a read with
    0.2 s timed out after about 2 s, and a read with no timeout then failed."""
    server, accepted = listener

    async def run() -> tuple[float, bool]:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", server.getsockname()[1], timeout=5)
        conn, _ = await asyncio.to_thread(server.accept)
        accepted.append(conn)
        conn.sendall(b"x")
        assert await stream.read(100, timeout=2.0) == b"x"
        started = time.monotonic()
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.2)
        took = time.monotonic() - started
        # no timeout at all: still waiting after the earlier deadlines, then data comes
        threading.Timer(2.5, conn.sendall, args=(b"y",)).start()
        got = await stream.read(100, timeout=None)
        await stream.aclose()
        return took, got == b"y"

    took, untimed_ok = asyncio.run(run())
    assert took < 1.0, took
    assert untimed_ok


def test_bytes_past_an_empty_body_close_the_connection(raw: RawServer) -> None:
    raw.script(
        Reply(
            response("200 OK", ["Content-Length: 0"], response("200 OK", ["Content-Length: 4"], b"EVIL")),
            end="keep",
        ),
        Reply(response("200 OK", ["Content-Length: 2"], b"ok")),
    )
    with httpx.Client(transport=fastio.sync_transport()) as client:
        assert client.get(f"{raw.base_url}/a").content == b""
        assert client.get(f"{raw.base_url}/b").content == b"ok"
    assert [seen.connection for seen in raw.seen] == [1, 2]


def test_bytes_past_a_body_are_never_the_next_downloads_answer(raw: RawServer, tmp_path: Path) -> None:
    """Response smuggling on a kept-alive connection: bytes past Content-Length were served as the
    next download's body on the same client. Such a connection is now closed (as curl does)."""
    first, second, smuggled = mp4_bytes(100_000, seed=1), mp4_bytes(100_000, seed=2), mp4_bytes(50, seed=3)
    extra = response("200 OK", ["Content-Type: video/mp4", f"Content-Length: {len(smuggled)}"], smuggled)
    head = ["Content-Type: video/mp4", 'ETag: "a"']
    raw.script(
        Reply(response("200 OK", [*head, f"Content-Length: {len(first)}"], first + extra), end="keep"),
        Reply(response("200 OK", [*head, f"Content-Length: {len(second)}"], second)),
    )
    with VideoClient(api_key=KEY, base_url=raw.base_url) as client:
        a = client.download("job-a", tmp_path / "a.mp4", max_connections=1, source="api")
        b = client.download("job-b", tmp_path / "b.mp4", max_connections=1, source="api")
    assert a.path.read_bytes() == first and b.path.read_bytes() == second
    assert [seen.connection for seen in raw.seen] == [1, 2]
