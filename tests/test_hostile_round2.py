"""The second hostile round against real servers (the fake, and raw sockets for what http.server
cannot send): the key never reachable from an exception, a deadline that bounds a trickling head,
memory returned without the cyclic collector, and a dropped async client that gives its sockets back."""

from __future__ import annotations

import asyncio
import errno
import gc
import mmap
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.errors import (
    APIStatusError,
    IncompleteDownloadError,
    OpenRouterVideoError,
)
from openrouter_video.testing import Cut, FakeOpenRouter, Status, mp4_bytes
from test_wire import RawServer, Reply, response

KEY = "sk-or-v1-" + "k3y" * 12
MIB = 1024 * 1024


def _requests_reachable(exc: BaseException) -> list[httpx.Request]:
    """Every httpx request an error reporter could find from ``exc``: its chain and the attributes
    (and their attributes) of every exception in it."""
    found: list[httpx.Request] = []
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen or isinstance(item, (str, bytes, int, float)):
            continue
        seen.add(id(item))
        if isinstance(item, httpx.Request):
            found.append(item)
            continue
        if isinstance(item, httpx.Response):
            with_request = getattr(item, "_request", None)
            pending.append(with_request)
            continue
        if isinstance(item, BaseException):
            pending += [item.__cause__, item.__context__, *vars(item).values()]
            try:
                pending.append(item.request)  # type: ignore[attr-defined]
            except (AttributeError, RuntimeError):
                pass
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("call", ["download", "get_job"])
def test_the_key_is_not_reachable_from_a_connection_error(tmp_path: Path, mode: str, call: str) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    policy = RetryPolicy(max_attempts=1)
    error: BaseException | None = None
    if mode == "sync":
        with VideoClient(api_key=KEY, base_url=base_url, retry=policy) as client:
            try:
                client.download("job-1", tmp_path / "x.mp4") if call == "download" else client.get_job(
                    "job-1"
                )
            except Exception as exc:
                error = exc
    else:

        async def run() -> BaseException | None:
            async with AsyncVideoClient(api_key=KEY, base_url=base_url, retry=policy) as client:
                try:
                    if call == "download":
                        await client.download("job-1", tmp_path / "x.mp4")
                    else:
                        await client.get_job("job-1")
                except Exception as exc:
                    return exc
            return None

        error = asyncio.run(run())
    assert error is not None
    requests = _requests_reachable(error)
    assert requests, "no request reachable: the test would prove nothing"
    for request in requests:
        assert KEY not in str(request.headers.raw) and KEY not in repr(request)


class _TricklingHead:
    """A raw-socket server that answers every request with a head that never ends: one header line
    every ``every`` seconds."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n")
                n = 0
                while not self.stop.is_set():
                    time.sleep(self.every)
                    conn.sendall(b"X-Slow-%d: still coming\r\n" % n)
                    n += 1
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def trickle() -> Iterator[_TricklingHead]:
    server = _TricklingHead()
    yield server
    server.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_deadline_bounds_a_head_that_trickles_in(
    trickle: _TricklingHead, tmp_path: Path, mode: str
) -> None:
    """One header line every 0.25 s restarts every read timeout; the call's deadline still holds (it
    used to run until the server stopped: 12 s for deadline=4)."""
    base_url = f"http://127.0.0.1:{trickle.port}/api/v1"
    started = time.monotonic()
    with pytest.raises(OpenRouterVideoError) as caught:
        if mode == "sync":
            with VideoClient(api_key=KEY, base_url=base_url, timeout=1.5) as client:
                client.download("job-1", tmp_path / "x.mp4", deadline=1.0)
        else:

            async def run() -> None:
                async with AsyncVideoClient(api_key=KEY, base_url=base_url, timeout=1.5) as client:
                    await client.download("job-1", tmp_path / "x.mp4", deadline=1.0)

            asyncio.run(run())
    took = time.monotonic() - started
    assert took < 2.5, (took, caught.value)
    assert "deadline" in str(caught.value).lower(), caught.value


def _garbage_after(action: Any) -> list[Any]:
    """What only the cyclic collector would free, of what ``action`` left behind."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        action()
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


_HEAVY_TYPES = {
    "VideoClient",
    "AsyncVideoClient",
    "RetryTransport",
    "PartialFile",
    "SegmentFile",
    "_Writer",
    "Transport",
    "AsyncTransport",
    "Pool",
    "AsyncPool",
    "Connection",
    "AsyncConnection",
    "LargeReadStream",
    "AsyncioStream",
}


def _heavy(garbage: list[Any]) -> list[str]:
    """Among ``garbage``: the package's clients, transports, pools, connections, streams and partial
    files, TLS contexts, open sockets, and buffers of 64 KiB or more."""
    found = []
    for item in garbage:
        kind = type(item)
        if kind.__module__.startswith("openrouter_video") and kind.__name__ in _HEAVY_TYPES:
            found.append(kind.__qualname__)
        elif isinstance(item, ssl.SSLContext):
            found.append("SSLContext")
        elif isinstance(item, socket.socket) and item.fileno() != -1:
            found.append("open socket")
        elif isinstance(item, (bytes, bytearray, mmap.mmap)) and len(item) >= 64 * 1024:
            found.append(f"{kind.__name__} of {len(item)} bytes")
    return sorted(set(found))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_download_and_a_closed_client_leave_nothing_to_the_cyclic_collector(
    fake: FakeOpenRouter, tmp_path: Path, mode: str
) -> None:
    fake.add_video("job-1", os.urandom(4 * MIB))
    for _ in range(3):
        fake.enqueue(Cut(at=2 * MIB))  # bytes kept, then it fails for good
    policy = RetryPolicy(max_attempts=2, resume_window=0, sleep=lambda s: None)

    def sync() -> None:
        client = VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy)
        with pytest.raises(OpenRouterVideoError):
            client.download("job-1", tmp_path / "x.mp4", max_connections=1)
        client.close()

    def aio() -> None:
        async def run() -> None:
            client = AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy)
            with pytest.raises(OpenRouterVideoError):
                await client.download("job-1", tmp_path / "x.mp4", max_connections=1)
            await client.aclose()

        asyncio.run(run())

    assert _heavy(_garbage_after(sync if mode == "sync" else aio)) == []


def test_a_dropped_async_client_gives_its_sockets_back(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """Without aclose(), the loop held its sockets and 1 MiB receive buffers until it closed."""
    fake.add_video("job-1", os.urandom(2 * MIB))

    async def run() -> tuple[int, list[warnings.WarningMessage]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client = AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url)
            await client.download("job-1", tmp_path / "x.mp4")
            assert fake.open_connections >= 1
            del client  # dropped, never closed
            gc.collect()
            for _ in range(50):  # the server sees the connection close
                await asyncio.sleep(0.01)
                if fake.open_connections == 0:
                    break
            return fake.open_connections, list(caught)

    still_open, caught = asyncio.run(run())
    assert still_open == 0
    assert any(issubclass(w.category, ResourceWarning) and "aclose" in str(w.message) for w in caught)


class _Clock:
    """A fake monotonic clock that only the retries' sleeps move forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _content_requests(fake: FakeOpenRouter) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/content"))


def test_retry_after_zero_after_progress_is_no_request_storm(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """After progress, 503 with Retry-After: 0 was retried at once, about 1,000 requests a second for
    the whole resume_window: every retry now waits at least a floor that backs off."""
    fake.add_video("job-1", os.urandom(2 * MIB))
    fake.enqueue(Cut(at=MIB))
    for _ in range(40):
        fake.enqueue(Status(503, retry_after=0))
    clock = _Clock()
    policy = RetryPolicy(max_attempts=3, resume_window=5, sleep=clock.sleep, clock=clock)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(APIStatusError) as caught:
            client.download("job-1", tmp_path / "x.mp4", max_connections=1)
    assert caught.value.status_code == 503
    waits = clock.sleeps[1:]  # the first is the free resume after the cut
    assert waits and all(w >= 0.1 for w in waits), clock.sleeps
    assert waits == sorted(waits)  # backing off
    assert _content_requests(fake) <= 9, clock.sleeps


def test_attempts_that_bring_no_new_bytes_count_against_max_attempts(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """A server that cuts every answer at the same byte: once max_attempts answers in a row brought
    nothing new, the download stops, resume_window or not (the CLI's --max-attempts 3 made 13
    requests over 61 s)."""
    fake.add_video("job-1", os.urandom(2 * MIB))
    for _ in range(30):
        fake.enqueue(Cut(at=MIB))
    clock = _Clock()
    policy = RetryPolicy(max_attempts=3, resume_window=60, sleep=clock.sleep, clock=clock)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError):
            client.download("job-1", tmp_path / "x.mp4", max_connections=1)
    assert _content_requests(fake) == 1 + 3  # the one that made progress, then three that did not


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def test_a_chunked_body_shorter_than_its_content_length_is_never_committed(
    raw: RawServer, tmp_path: Path
) -> None:
    """Transfer-Encoding: chunked and Content-Length: 1000000, a chunked body that ends cleanly at
    400,000 bytes of a WebM: it was committed as complete (verified="chunked")."""
    webm = b"\x1a\x45\xdf\xa3" + os.urandom(400_000 - 4)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(webm[i : i + 50_000]), webm[i : i + 50_000])
        for i in range(0, len(webm), 50_000)
    )
    head = ["Content-Type: video/webm", "Transfer-Encoding: chunked", "Content-Length: 1000000", 'ETag: "v1"']
    for _ in range(10):
        raw.script(Reply(response("200 OK", head, chunks + b"0\r\n\r\n")))
    policy = RetryPolicy(max_attempts=2, sleep=lambda s: None)
    with VideoClient(api_key=KEY, base_url=raw.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError):
            client.download("job-1", tmp_path / "x.webm", max_connections=1)
    assert not (tmp_path / "x.webm").exists()


def test_a_complete_but_malformed_mp4_is_fetched_twice_at_most_and_named_plainly(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """Content-Length met, but no moov box: it was fetched five times and called "incomplete"."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isommp41"
    mdat = struct.pack(">I", 8 + 100_000) + b"mdat" + os.urandom(100_000)
    fake.add_video("job-1", ftyp + mdat)
    policy = RetryPolicy(max_attempts=5, sleep=lambda s: None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError) as caught:
            client.download("job-1", tmp_path / "x.mp4", max_connections=1)
    assert "the server's file is not a complete MP4" in str(caught.value) and "moov" in str(caught.value)
    assert _content_requests(fake) == 2


def test_a_full_disk_keeps_what_was_written_and_says_how_much_room_is_needed(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """After ENOSPC the partial was deleted and the next run started from byte 0."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        payload = os.urandom(6 * MIB)
        fake.add_video("job-1", payload)
        policy = RetryPolicy(max_attempts=1)
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
            with pytest.raises(OSError) as caught:
                client.download("job-1", disk / "x.mp4", max_connections=1)
        assert caught.value.errno == errno.ENOSPC
        message = str(caught.value)
        assert "more bytes are needed" in message and "written and kept" in message, message
        part = disk / ".x.mp4.part"
        kept = part.stat().st_size
        assert kept >= MIB and part.read_bytes() == payload[:kept]
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            result = client.download("job-1", disk / "x.mp4", max_connections=1)
        assert result.resumed_from == kept and (disk / "x.mp4").read_bytes() == payload
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


_WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + os.urandom(200_000)
_MP4 = mp4_bytes(200_000)
_QUICKTIME = _MP4[:8] + b"qt  " + _MP4[12:]  # the ftyp box's major brand


@pytest.mark.parametrize(
    ("body", "content_type", "suffix"),
    [(_WEBM, "video/webm", ".webm"), (_QUICKTIME, "video/quicktime", ".mov"), (_MP4, "video/mp4", ".mp4")],
    ids=["webm", "quicktime", "mp4"],
)
def test_a_file_named_by_the_package_takes_the_suffix_of_its_content(
    fake: FakeOpenRouter, tmp_path: Path, body: bytes, content_type: str, suffix: str
) -> None:
    """A WebM or QuickTime body was saved under an .mp4 name. When the caller names the file, the
    name is the caller's."""
    fake.add_video("clip", body, content_type=content_type)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        into_directory = client.download("clip", f"{tmp_path / 'videos'}/", max_connections=1)
        named = client.download("clip", tmp_path / "mine.mp4", max_connections=1)
    assert into_directory.path == tmp_path / "videos" / f"clip{suffix}"
    assert into_directory.path.read_bytes() == body
    assert named.path == tmp_path / "mine.mp4" and named.path.read_bytes() == body


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
        a = client.download("job-a", tmp_path / "a.mp4", max_connections=1)
        b = client.download("job-b", tmp_path / "b.mp4", max_connections=1)
    assert a.path.read_bytes() == first and b.path.read_bytes() == second
    assert [seen.connection for seen in raw.seen] == [1, 2]


def test_clients_created_and_closed_leave_nothing_to_the_cyclic_collector(fake: FakeOpenRouter) -> None:
    """1,000 clients created and closed grew RSS by 35 KiB each: each closed client's transports and
    their TLS contexts waited for the cyclic collector (a bound method made a cycle)."""

    def many() -> None:
        for _ in range(20):
            VideoClient(api_key=fake.api_key, base_url=fake.base_url).close()

            async def run() -> None:
                async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
                    await client.list_models()

            asyncio.run(run())

    assert _heavy(_garbage_after(many)) == []
