"""The drivers (async source): they do the I/O that the engine's cores decide, and hold no decision
(retry or raise, resume or restart, how long to wait, whether a body is complete: all the core's).
httpx's exceptions become core events through :mod:`..http`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, Final

import httpx

from ..._extensions import LEND, NO_TRANSPORT_RETRY, UNTIL
from ...engine.bodies import BoundedBody
from ...engine.core import (
    DONE,
    ERROR_BODY_LIMIT,
    OVERLAP,
    Check,
    DownloadCore,
    Fail,
    Failure,
    Head,
    ReadBody,
    Retry,
    Stream,
    Verdict,
    Watchdog,
)
from ...engine.retry import log_retry
from ...engine.segments import Abandon, SegmentCore, Take, Withdraw
from ...errors import UnexpectedContentError
from ..http import capped, failure, path_of
from ..primitives import AsyncRuntime, Cancelled

#: How often :func:`run_segments` asks the ramp whether to add a connection.
TICK: Final = 0.05


async def send(
    http: httpx.AsyncClient,
    request: dict[str, Any],
    headers: dict[str, str],
    left: float | None,
    *,
    lend: bool = False,
) -> httpx.Response:
    """Send ``request`` (the generated ``_get_kwargs``) with ``headers``, no transport retries, and
    every timeout capped by ``left`` seconds (what is left of the call's deadline); the body is
    streamed. ``lend``: its chunks may be lent receive buffers (see :mod:`...fastio.lent`)."""
    timeout: Any = http.timeout
    extensions: dict[str, Any] = {NO_TRANSPORT_RETRY: True, LEND: lend}
    if left is not None:  # no single wait, and no whole request, may outlast the call's deadline
        timeout = capped(http.timeout, left)
        extensions[UNTIL] = time.monotonic() + max(left, 0.0)
    built = http.build_request(**request, headers=headers, timeout=timeout, extensions=extensions)
    return await http.send(built, stream=True)


async def read_bounded(response: httpx.Response) -> bytes:
    """The body of a response that is not the video, at most :data:`ERROR_BODY_LIMIT` bytes
    decoded (empty if it cannot be read)."""
    try:
        body = BoundedBody(response.headers.get("content-encoding"), ERROR_BODY_LIMIT)
    except UnexpectedContentError:
        return b""
    try:
        async for chunk in response.aiter_raw():
            if not body.feed(chunk):
                break
    except httpx.HTTPError:
        pass
    return body.body()


class Body:
    """The one body loop: each chunk passes the :class:`Head`'s checks (the overlap of a resume, the
    sniff of a fresh body) before it is passed on, and the :class:`Watchdog` ticks after it. How the
    body ended is in :attr:`error` (``None``: cleanly, or the head failed; see ``head.failed``)."""

    def __init__(self, response: httpx.Response, head: Head | None, watchdog: Watchdog) -> None:
        self.response, self.watchdog = response, watchdog
        self.head = head if head is not None and not head.passed else None
        self.error: Failure | Exception | None = None
        self.stream = self.chunks()  # one reader at a time (a driver hands its body over whole)

    async def aclose(self) -> None:
        await self.stream.aclose()
        await self.response.aclose()

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        head, watchdog = self.head, self.watchdog
        try:
            async for chunk in self.response.aiter_raw():
                if head is not None:
                    chunk = head.feed(chunk)
                    if head.failed:
                        return
                    if head.passed:
                        head = None
                # The length is taken before the chunk is handed on: a lent chunk may be written
                # and given back (its view released) before this generator resumes.
                size = len(chunk)
                if chunk:
                    yield chunk
                if watchdog.tick(size):
                    self.error = watchdog.reason
                    return
            if head is not None and (chunk := head.end()):
                yield chunk
        except httpx.RequestError as exc:
            self.error = failure(exc)


class _Recent:
    """The last chunks passed on, covering at least :data:`OVERLAP` bytes: references to ``bytes``
    chunks (no copies), and a copy of the last :data:`OVERLAP` bytes of any other (a lent receive
    buffer, see :mod:`...fastio.lent`, is reused once written)."""

    __slots__ = ("chunks", "size")

    def __init__(self, seed: bytes) -> None:
        self.chunks: deque[bytes] = deque([seed] if seed else [])
        self.size = len(seed)

    def add(self, chunk: bytes) -> None:
        if type(chunk) is not bytes:
            chunk = bytes(chunk[-OVERLAP:])
        chunks = self.chunks
        chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(chunks[0]) >= OVERLAP:
            self.size -= len(chunks.popleft())

    def last(self) -> bytes:
        return b"".join(self.chunks)[-OVERLAP:]


class AsyncDriver:
    """Runs a :class:`DownloadCore` over an :class:`httpx.AsyncClient`, one connection at a time.

    ``check`` verifies the bytes kept so far (the sink's box walk and digests; blocking). ``lend``:
    the chunks may be lent receive buffers (see :mod:`...fastio.lent`), for a consumer that writes
    them with a :class:`~..files.PartialFile` (which gives them back) and keeps no reference.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        request: dict[str, Any],
        core: DownloadCore,
        sleep: Callable[[float], object] | None,
        check: Callable[[], Verdict] | None = None,
        *,
        lend: bool = False,
    ) -> None:
        self.http, self.request, self.core = http, request, core
        self.lend, self.sleep, self.check = lend, sleep, check
        #: After :meth:`open`: the response whose body is read next (``None`` when there is none).
        self.response: httpx.Response | None = None
        self._stream: Stream | None = None
        self._opened = False
        self._recent = _Recent(core.tail)
        self._live: Body | None = None

    def detach(self) -> Body:
        """Hand the body being read over to a range worker (:func:`run_segments`): the driver lets
        go of it, and reads no more."""
        live, self._live, self.response = self._live, None, None
        assert live is not None
        return live

    async def open(self) -> None:
        """Send requests until one answers with the video (raises the core's error otherwise)."""
        self._opened = True
        self.response, self._stream = await self._until_stream()

    async def aclose(self) -> None:
        if self.response is not None:
            await self.response.aclose()
            self.response = None

    async def _until_stream(self) -> tuple[httpx.Response | None, Stream | None]:
        core = self.core
        while True:
            try:
                response = await send(
                    self.http, self.request, core.request_headers(), core.time_left(), lend=self.lend
                )
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # e.g. a redirect to javascript:
                action: Any = core.on_request_error(failure(exc))
            else:
                action = core.on_response(response.status_code, response.headers)
                if isinstance(action, Stream):
                    return response, action
                try:
                    if isinstance(action, ReadBody):
                        body = await read_bounded(response)
                        action = core.on_error_body(response.status_code, response.headers, body)
                finally:
                    await response.aclose()
            if action is DONE:
                return None, None
            await self._wait(action)

    async def _wait(self, action: Retry | Fail) -> None:
        if isinstance(action, Fail):
            raise action.error
        log_retry(self.core.what, action.reason, self.core.attempts, action.delay, resume=action.resume)
        if action.delay > 0:
            await AsyncRuntime.sleep(action.delay, self.sleep)

    async def chunks(self) -> AsyncGenerator[bytes | None, None]:
        """The body's chunks exactly as the transport delivers them (but the few bytes the
        :class:`Head` holds back), resuming transparently; ``None`` means "new content from byte 0"."""
        if not self._opened:
            await self.open()
        core, recent = self.core, self._recent
        while True:
            response, stream = self.response, self._stream
            if response is None or stream is None:
                return
            # New content replaces what is kept only once its first bytes passed the head's checks
            # (a 200 that is an HTML page never wipes a kept partial).
            fresh = stream.fresh
            if fresh:
                recent = self._recent = _Recent(b"")
            self._live = body = Body(response, stream.head, core.watchdog())
            received = 0
            try:
                async for chunk in body.stream:
                    if fresh:
                        fresh = False
                        yield None
                    received += len(chunk)
                    recent.add(chunk)
                    yield chunk
            finally:
                if self._live is not None:  # not handed over
                    self._live = None
                    await body.aclose()
                    self.response = None
            action: Any = core.on_body_end(received, body.error, stream.head, recent.last())
            while isinstance(action, Check):
                verdict = await AsyncRuntime.to_thread(self.check) if self.check is not None else Verdict()
                action = core.on_verdict(verdict)
            body.error = None  # its traceback holds this frame: no reference cycle left behind
            if action is DONE:
                return
            await self._wait(action)
            self.response, self._stream = await self._until_stream()


class _Outcome:
    """How a segmented download stopped: the first error or abandon, and the stop signal."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.abandon: Abandon | None = None
        self.stop = threading.Event()

    def end(self, error: BaseException | None = None, abandon: Abandon | None = None) -> None:
        """Stop every worker; the first of ``error`` and ``abandon`` to come is what stopped them."""
        if self.error is None and self.abandon is None:
            self.error, self.abandon = error, abandon
        self.stop.set()


async def run_segments(
    http: httpx.AsyncClient,
    request: dict[str, Any],
    core: SegmentCore,
    sink: Any,
    sleep: Callable[[float], object] | None,
    progress: Callable[[], None],
    cancel: threading.Event | None = None,
    live: Body | None = None,
) -> Abandon | None:
    """Fetch every region of ``sink`` (a :class:`~..segment_file.SegmentFile`), one worker per
    connection (tasks on the loop; threads in the sync code), adding one when the ramp says so;
    ``cancel``: stop (raise :class:`~..primitives.Cancelled`) once set; ``live``: the single stream's
    body, which worker 0 reads on as its first range. ``None`` when every byte is written, else the
    :class:`Abandon` that stopped it."""
    outcome = _Outcome()

    async def read(worker: int, response: httpx.Response, take: Take | None, live: Body | None) -> Any:
        """Read a range body (or the live one) into the file; what :meth:`SegmentCore.on_body_end` decided."""
        head = None if take is None else take.head
        body = live or Body(response, head, Watchdog(core.policy, core.deadline))
        async with aclosing(body.stream) as chunks:
            async for chunk in chunks:
                region, at, data, done = core.on_chunk(worker, chunk)
                if data:
                    await AsyncRuntime.put(sink, region, at, data)
                    progress()
                if done:
                    return core.on_body_end(worker, None, head)
                if outcome.stop.is_set():
                    return None if core.plan.complete else Retry(0.0, "stopped")
        try:
            return core.on_body_end(worker, body.error, head)
        finally:
            body.error = None  # its traceback holds this frame: no reference cycle left behind

    async def fetch(worker: int, live: Body | None) -> bool:
        action: Any
        while not outcome.stop.is_set():
            if live is not None:
                core.continued(worker)
                response, action = live.response, None
            else:
                try:
                    response = await send(http, request, core.request_headers(worker), core.time_left())
                except (httpx.RequestError, httpx.InvalidURL) as exc:
                    action = core.on_request_error(worker, failure(exc))
                    if isinstance(action, Fail):
                        raise action.error from exc
                    log_retry(core.what, action.reason, core.attempts, action.delay)
                    await AsyncRuntime.sleep(action.delay, sleep, outcome.stop)
                    continue
                action = core.on_response(worker, response.status_code, response.headers, path_of(response))
            try:
                if isinstance(action, Withdraw):
                    return False
                if isinstance(action, ReadBody):
                    body = await read_bounded(response)
                    action = core.on_error_body(worker, response.status_code, response.headers, body)
                elif live is not None or isinstance(action, Take):
                    action = await read(worker, response, action, live)
                    if action is None:
                        return True
            finally:
                live = None
                await response.aclose()
            if isinstance(action, Abandon):
                outcome.end(abandon=action)
                return False
            if isinstance(action, Fail):
                raise action.error
            if outcome.stop.is_set():
                return False
            log_retry(core.what, action.reason, core.attempts, action.delay, resume=action.resume)
            await AsyncRuntime.sleep(action.delay, sleep, outcome.stop)
        return False

    async def work(worker: int) -> None:
        nonlocal live
        mine, live = (live, None) if worker == first else (None, live)
        try:
            while not outcome.stop.is_set() and (mine is not None or core.claim(worker) is not None):
                if not await fetch(worker, mine):
                    return
                mine = None
        except BaseException as exc:  # Ctrl-C in a sync worker too: the caller raises it (its partial kept)
            outcome.end(exc)
        finally:
            if mine is not None:
                await mine.aclose()

    workers = AsyncRuntime.Workers()
    first = core.add_worker()
    try:
        sink.start()
        if live is not None:
            core.claim(first)  # the region the live body goes on with, before any other worker splits it
        workers.spawn(work, first)
        while workers.alive():
            for _ in range(core.want_workers()):  # at once: an upgrade's, an explicit count's
                workers.spawn(work, core.add_worker())
            await workers.wait(TICK, outcome.stop)
            if outcome.stop.is_set():
                break
            if cancel is not None and cancel.is_set():
                outcome.end(Cancelled("the call was interrupted"))
                break
    finally:
        outcome.stop.set()
        await workers.stop()
        if live is not None:  # its worker never ran
            await live.aclose()
    if outcome.error is not None:
        raise outcome.error
    return outcome.abandon
