"""The lent receive buffers (:mod:`openrouter_video.fastio.lent`): a download's body goes from the socket
to os.write without a copy, and no lent buffer is ever overwritten, handed out twice or leaked."""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import hashlib
import os
import time
import weakref
from pathlib import Path
from typing import Any

import pytest
from helpers_transport import _Transport
from openrouter_video import AsyncVideoClient, VideoClient
from openrouter_video.engine.core import OVERLAP
from openrouter_video.fastio.asyncio_backend import LEND_BYTES, READ_BYTES, _Protocol
from openrouter_video.fastio.lent import POOL_SIZE, LentBuffer, Pool, give_back, is_lent
from openrouter_video.fastio.socket_backend import LargeReadStream
from openrouter_video.io._async.download import _Recent
from openrouter_video.io.files import PartialFile
from openrouter_video.testing import Cut, FakeOpenRouter

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
            return client.download("job-1", dest, max_connections=1, **options, source="api"), buffers

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return await client.download("job-1", dest, max_connections=1, **options, source="api")

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


def _download(fake: FakeOpenRouter, dest: Path, mode: str, **options: Any) -> Any:
    if mode == "sync":
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return client.download("job-1", dest, **options, source="api")

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            return await client.download("job-1", dest, **options, source="api")

    return asyncio.run(run())


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
