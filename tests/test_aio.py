"""The async client's lean asyncio backend (:mod:`openrouter_video.fastio.asyncio_backend`) and the
lent receive buffers (:mod:`openrouter_video.fastio.lent`): the async client really connects through
it, reads in large chunks, and lends its buffers to the file writer without ever overwriting one.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import hashlib
import os
import socket
import ssl
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from openrouter_video import AsyncVideoClient, VideoClient, fastio
from openrouter_video.engine.core import OVERLAP
from openrouter_video.fastio.asyncio_backend import (
    LEND_BYTES,
    READ_BYTES,
    AsyncioBackend,
    AsyncioStream,
    _Protocol,
)
from openrouter_video.fastio.lent import POOL_SIZE, LentBuffer, Pool, give_back, is_lent
from openrouter_video.fastio.socket_backend import LargeReadStream
from openrouter_video.io._async.download import _Recent
from openrouter_video.io.files import PartialFile
from openrouter_video.testing import Cut, FakeOpenRouter
from test_tls import certificate, tls_fake  # noqa: F401 - fixtures


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
            await client.download("job-1", tmp_path / "out.mp4")
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
    async with client.stream(job) as video:
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
    tls_fake: FakeOpenRouter,  # noqa: F811
    certificate: tuple[Path, Path],  # noqa: F811
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


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


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
            await client.download("job-1", tmp_path / "warm.mp4")
            sys.meta_path.insert(0, spy)
            try:
                for i in range(3):
                    await client.download("job-1", tmp_path / f"out-{i}.mp4")
            finally:
                sys.meta_path.remove(spy)

    spy = Spy()
    asyncio.run(run())
    assert searched == []


# -- lent receive buffers: a download's body goes from the socket to os.write without a copy ------


def test_give_back_pools_the_buffer_and_releases_the_view() -> None:
    pool = Pool()
    buffer = pool.take(16)
    chunk = memoryview(buffer)[:8]
    assert is_lent(chunk) and not is_lent(bytes(chunk)) and not is_lent(memoryview(b"x"))
    give_back(chunk)
    assert pool.free == [buffer] and pool.free[0] is buffer
    with pytest.raises(ValueError):
        bytes(chunk)  # a chunk given back can no longer be read (its bytes may be overwritten)
    assert pool.take(16) is buffer
    for _ in range(POOL_SIZE + 3):
        give_back(memoryview(LentBuffer(16, pool)))
    assert len(pool.free) == POOL_SIZE  # never more than that many kept
    # Once lending stops (the body ended), buffers given back are dropped, not kept by the pool.
    late = memoryview(pool.take(16))
    pool.stop()
    give_back(late)
    assert pool.free == []


def test_a_closed_streams_buffers_are_freed_without_the_cyclic_collector() -> None:
    pool = Pool()
    buffer = pool.take(16)
    chunk = memoryview(buffer)
    freed = weakref.ref(buffer)
    del buffer
    give_back(chunk)
    del chunk
    assert freed() is not None  # kept for reuse
    del pool
    assert freed() is None  # no reference cycle between a pool and its buffers


def _receive(protocol: _Protocol, data: bytes) -> None:
    buffer = protocol.get_buffer(-1)
    buffer[: len(data)] = data
    protocol.buffer_updated(len(data))


def test_a_lent_chunk_swaps_the_receive_buffer_and_small_ones_are_copied() -> None:
    protocol = _Protocol()
    transport = _Transport()
    protocol.connection_made(transport)
    _receive(protocol, b"abc")
    small = protocol.lend()
    assert type(small) is bytes and small == b"abc"  # below LEND_BYTES: a copy, the buffer stays
    _receive(protocol, b"x" * READ_BYTES)
    # While lending, one full buffer waits for the reader and receiving goes on into another.
    assert not transport.paused and protocol.has_data()
    _receive(protocol, b"w" * READ_BYTES)
    assert transport.paused  # two full ones: the loop stops reading until the reader takes one
    lent = protocol.lend()
    assert is_lent(lent) and bytes(lent) == b"x" * READ_BYTES and not transport.paused
    # The stream goes on receiving into another buffer: the lent bytes are not overwritten.
    _receive(protocol, b"y" * LEND_BYTES)
    assert bytes(lent) == b"x" * READ_BYTES
    assert bytes(protocol.lend()) == b"w" * READ_BYTES  # in order
    second = protocol.lend()
    assert bytes(second) == b"y" * LEND_BYTES
    # Given back, a buffer is received into again, once the current one is lent (no new one made).
    lent_buffer = lent.obj
    give_back(lent)
    assert protocol.get_buffer(-1).obj is not lent_buffer
    _receive(protocol, b"z" * LEND_BYTES)
    third = protocol.lend()
    assert bytes(third) == b"z" * LEND_BYTES
    assert protocol.get_buffer(-1).obj is lent_buffer


def test_a_copying_read_after_lending_keeps_every_byte_in_order() -> None:
    protocol = _Protocol()
    transport = _Transport()
    protocol.connection_made(transport)
    assert protocol.lend() == b""
    _receive(protocol, b"a" * READ_BYTES)  # waits as a full buffer
    _receive(protocol, b"b" * READ_BYTES)  # fills the next one: paused
    assert transport.paused
    _receive(protocol, b"cd")  # the transport reads once more after the pause
    assert protocol.take() == b"a" * READ_BYTES + b"b" * READ_BYTES + b"cd"
    assert not transport.paused and not protocol.has_data()
    _receive(protocol, b"e" * READ_BYTES)
    assert transport.paused  # no longer lending: a full buffer pauses as before


def test_the_resume_overlap_copies_a_lent_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver keeps the last bytes passed on (the overlap a resume checks); from a lent buffer
    it must keep a copy, since the buffer is received into again once written."""
    recent = _Recent(b"")
    pool = Pool()
    buffer = pool.take(OVERLAP + 10)
    buffer[:] = os.urandom(len(buffer))
    expected = bytes(buffer[-OVERLAP:])
    chunk = memoryview(buffer)
    recent.add(chunk)
    give_back(chunk)
    buffer[:] = b"\x00" * len(buffer)  # the stream receives the next bytes into it
    assert recent.last() == expected


def _lending_download(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, **options: Any
) -> tuple[Any, list[int]]:
    """Download ``job-1`` with ``mode``'s client and a consumer slow enough that data piles up
    (large, lent reads); returns the result and the id of the buffer behind each lent chunk."""
    buffers: list[int] = []
    original = PartialFile.add

    def add(self: PartialFile, chunk: bytes) -> bool:
        if is_lent(chunk):
            buffers.append(id(chunk.obj))
        time.sleep(0.002)
        return original(self, chunk)

    monkeypatch.setattr(PartialFile, "add", add)
    dest = tmp_path / "out.mp4"
    if mode == "sync":
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return client.download("job-1", dest, max_connections=1, **options), buffers

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return await client.download("job-1", dest, max_connections=1, **options)

    return asyncio.run(run()), buffers


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("checksum", [None, "sha256"])
def test_a_download_writes_lent_buffers_and_reuses_them(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checksum: str | None, mode: str
) -> None:
    payload = os.urandom(24 * 1024 * 1024)
    fake.add_video("job-1", payload)
    result, buffers = _lending_download(fake, tmp_path, monkeypatch, mode, checksum=checksum)
    assert (tmp_path / "out.mp4").read_bytes() == payload
    if checksum:
        assert result.sha256 == hashlib.sha256(payload).hexdigest()
    # Most of the body came lent, through a few buffers that the writer (or hasher) gave back.
    assert len(buffers) >= 12
    assert len(set(buffers)) <= POOL_SIZE + 2 < len(buffers)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_resume_after_lent_chunks_checks_the_overlap_and_splices_nothing(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    payload = os.urandom(12 * 1024 * 1024)
    fake.add_video("job-1", payload)
    fake.enqueue(Cut(at=7 * 1024 * 1024 + 12345))
    result, buffers = _lending_download(fake, tmp_path, monkeypatch, mode)
    assert result.resumes == 1 and len(buffers) >= 4
    assert (tmp_path / "out.mp4").read_bytes() == payload


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_nothing_touches_a_lent_chunk_once_the_writer_gave_it_back(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The fastest writer: every lent chunk is written and given back (its view released) before the
    driver resumes. On a driver that took the chunk's length after handing it on, this failed with
    "operation forbidden on released memoryview object"."""
    payload = os.urandom(16 * 1024 * 1024)
    fake.add_video("job-1", payload)
    lent: list[int] = []
    original = PartialFile.add

    def add(self: PartialFile, chunk: bytes) -> bool:
        time.sleep(0.002)  # data piles up: large reads, lent
        if is_lent(chunk):
            lent.append(len(chunk))
            data = bytes(chunk)
            give_back(chunk)
            return original(self, data)
        return original(self, chunk)

    monkeypatch.setattr(PartialFile, "add", add)
    _download(fake, tmp_path / "out.mp4", mode, max_connections=1)
    assert lent and (tmp_path / "out.mp4").read_bytes() == payload


def _download(fake: FakeOpenRouter, dest: Path, mode: str, **options: Any) -> Any:
    if mode == "sync":
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return client.download("job-1", dest, **options)

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return await client.download("job-1", dest, **options)

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_lending_under_stress_small_and_large_chunks_and_a_slow_writer(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Many downloads, chunks small and large (lent), a writer that stalls now and then and one that
    sometimes gives a buffer back at once: every file is byte-exact and no download fails.
    (``OPENROUTER_VIDEO_STRESS=N`` runs N times as many rounds.)"""
    import random

    from openrouter_video.io import files as _files

    rng = random.Random(7)
    seen = {"chunks": 0, "lent": 0}
    original_add, original_write = PartialFile.add, _files.write_all

    def add(self: PartialFile, chunk: bytes) -> bool:
        seen["chunks"] += 1
        if rng.random() < 0.3:
            time.sleep(0.001)  # the network loop falls behind: the next read is large (lent)
        if is_lent(chunk):
            seen["lent"] += 1
            if rng.random() < 0.3:  # written at once, before the driver resumes
                data = bytes(chunk)
                give_back(chunk)
                return original_add(self, data)
        return original_add(self, chunk)

    def write_all(fd: int, data: memoryview) -> int:
        if rng.random() < 0.2:
            time.sleep(0.0005)  # the disk stalls
        return original_write(fd, data)

    monkeypatch.setattr(PartialFile, "add", add)
    monkeypatch.setattr(_files, "write_all", write_all)
    rounds = 30 * int(os.environ.get("OPENROUTER_VIDEO_STRESS", "1"))
    for round_ in range(rounds):
        payload = os.urandom(rng.randrange(1, 6 * 1024 * 1024))
        fake.add_video("job-1", payload)
        fake.chunk_size = rng.choice([4096, 65536, 1024 * 1024])
        dest = tmp_path / f"out-{round_}.mp4"
        _download(fake, dest, mode, max_connections=1)
        assert dest.read_bytes() == payload, round_
        dest.unlink()
    assert seen["lent"] >= rounds and seen["chunks"] >= 4 * rounds


class _Socket:
    """Enough of a socket for :class:`LargeReadStream`: each receive returns the next piece."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    def settimeout(self, timeout: float | None) -> None:
        pass

    def recv_into(self, buffer: memoryview) -> int:
        piece = self.pieces.pop(0) if self.pieces else b""
        buffer[: len(piece)] = piece
        return len(piece)

    def close(self) -> None:
        pass


def test_the_sync_stream_lends_only_large_chunks_and_never_overwrites_one() -> None:
    big, small = LEND_BYTES, LEND_BYTES - 1
    stream = LargeReadStream(
        _Socket(b"a" * big, b"b" * READ_BYTES, b"c" * small, b"d" * big)  # type: ignore[arg-type]
    )
    first = stream.read_lent(timeout=5)
    assert is_lent(first) and bytes(first) == b"a" * big
    second = stream.read_lent(timeout=5)
    assert bytes(second) == b"b" * READ_BYTES and bytes(first) == b"a" * big
    assert second.obj is not first.obj  # received into another buffer: nothing overwritten
    copied = stream.read_lent(timeout=5)
    assert type(copied) is bytes and copied == b"c" * small  # under half a buffer: a copy
    plain = stream.read(READ_BYTES, timeout=5)
    assert type(plain) is bytes and plain == b"d" * big  # read() never lends
    assert stream.read_lent(timeout=5) == b""


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
            await client.download("job-1", tmp_path / "a.mp4")
            await client.download("job-1", tmp_path / "b.mp4")
            pools = client.transport.async_routes.transports.values()
            return [c.backend.lean for p in pools for c in p.pool.connections]  # type: ignore[attr-defined]

    with asyncio.Runner(loop_factory=_ShortLoop) as runner:
        lean = runner.run(run())
    assert (tmp_path / "a.mp4").read_bytes() == payload == (tmp_path / "b.mp4").read_bytes()
    assert lean and not any(lean)
    lines = [r for r in caplog.records if "httpcore's own network backend" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "DEBUG"
