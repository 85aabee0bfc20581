"""Regression tests for what a second review of the service-safety work found: a read timer kept
from an earlier read, cancels lost or spun on in the thread helpers, a new connection orphaned in the
pool by a cancel, and bytes past an empty body (each fails on the commit before the fixes); and the
key out of reach of an error caught inside a stream's with-block."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpcore
import httpx
import pytest
from openrouter_video import RetryPolicy, VideoClient, fastio
from openrouter_video.fastio._async.http11 import AsyncPool
from openrouter_video.fastio.asyncio_backend import AsyncioBackend
from openrouter_video.io import threads as _threads
from openrouter_video.testing import FakeOpenRouter, Outage
from test_hostile_round2 import _requests_reachable
from test_wire import RawServer, Reply, response

KEY = "sk-or-v1-" + "r3v" * 12
MIB = 1024 * 1024


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


def test_a_cancel_during_until_done_is_raised_even_when_the_thread_then_fails() -> None:
    def fails() -> None:
        time.sleep(0.2)
        raise OSError("disk error after the cancel")

    async def run() -> str:
        task = asyncio.ensure_future(_threads.until_done(fails))
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        except OSError:
            return "OSError"
        return "returned"

    assert asyncio.run(run()) == "cancelled"


def test_waiting_out_a_thread_under_an_anyio_scope_does_not_spin() -> None:
    """anyio delivers its cancel again at every turn of the loop: 143,613 shield calls and a whole
    core for one second of a thread's work."""

    async def run() -> float:
        started = time.process_time()
        with anyio.move_on_after(0.05):
            await _threads.until_done(time.sleep, 0.6)
        return time.process_time() - started

    assert asyncio.run(run()) < 0.3


def test_a_commit_that_absorbed_two_cancels_takes_both_back() -> None:
    async def run() -> tuple[int, object]:
        task = asyncio.ensure_future(_threads.commit(time.sleep, 0.2))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()
        result = await task  # the commit finished: its result stands
        return task.cancelling(), result

    assert asyncio.run(run()) == (0, None)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self) -> None:
        self.out = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.out.pop(0) if self.out else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _Stream()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_a_cancel_racing_the_slot_handover_orphans_no_connection() -> None:
    """With max_connections=1: request A ends (Connection: close), the pool makes a new connection
    for the waiting request B, and B is cancelled in the same tick. That new connection was neither
    idle, closed, expired nor available: the slot was lost and every later request timed out."""

    def request() -> httpcore.Request:
        return httpcore.Request(
            b"GET",
            "http://example.test/",
            headers=[(b"Host", b"example.test")],
            extensions={"timeout": {"pool": 1.0}},
        )

    async def run() -> bytes:
        pool = AsyncPool(_Backend(), ssl.create_default_context(), httpx.Limits(max_connections=1))
        first = await pool.handle_async_request(request())
        waiting = asyncio.ensure_future(pool.handle_async_request(request()))
        await asyncio.sleep(0.01)
        async for _ in first.stream:  # type: ignore[union-attr]
            pass
        await first.stream.aclose()  # type: ignore[union-attr]
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        third = await pool.handle_async_request(request())
        body = b"".join([chunk async for chunk in third.stream])  # type: ignore[union-attr]
        await pool.aclose()
        return body

    assert asyncio.run(run()) == b"hi"


def test_the_key_is_not_reachable_from_an_error_caught_inside_a_streams_with_block(
    fake: FakeOpenRouter,
) -> None:
    """The body is cut and the server goes down: the resume's connection error is raised from
    iter_bytes, inside the with-block, where an error reporter catches it. (This one the transport
    already scrubbed; iter_bytes now scrubs whatever it raises, errors read from a body included.)"""
    fake.add_video("job-1", b"\x00" * (3 * MIB))
    fake.enqueue(Outage(at=MIB, seconds=3))
    policy = RetryPolicy(max_attempts=1, resume_window=0, sleep=lambda s: None)
    caught: BaseException | None = None
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with client.stream("job-1") as video:
            try:
                for _ in video.iter_bytes():
                    pass
            except Exception as exc:  # as an error reporter would, inside the block
                caught = exc
                requests = _requests_reachable(exc)
    assert caught is not None
    assert requests and all(fake.api_key not in str(r.headers.raw) for r in requests)


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


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()
