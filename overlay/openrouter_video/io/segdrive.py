"""Segmented downloads, the shells: :func:`run_sync` (threads) and :func:`run_async` (tasks) do the
requests that :class:`~..engine.segments.SegmentCore` decides, and add connections when its ramp
says so. Both return ``None`` when every byte is written, or the
:class:`~..engine.segments.Abandon` that stopped them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx

from ..engine.core import Fail, ReadBody, Retry, Watchdog
from ..engine.retry import log_retry
from ..engine.segments import Abandon, Region, SegmentCore, Take
from .drivers import aread_bounded, build_request, read_bounded
from .segment_file import Cancelled, SegmentFile

# -- the shells --------------------------------------------------------------------------------------


#: How often the shells ask the ramp whether to add a connection.
TICK: Final = 0.05
#: How long the sync shell waits for its workers to stop once the download is over or failed.
JOIN_SECONDS: Final = 2.0


class _Outcome:
    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.abandon: Abandon | None = None
        self.stop = threading.Event()

    def fail(self, error: BaseException) -> None:
        if self.error is None and self.abandon is None:
            self.error = error
        self.stop.set()

    def give_up(self, abandon: Abandon) -> None:
        if self.error is None and self.abandon is None:
            self.abandon = abandon
        self.stop.set()


def run_sync(
    http: httpx.Client,
    request: dict[str, Any],
    core: SegmentCore,
    sink: SegmentFile,
    sleep: Callable[[float], object] | None,
    progress: Callable[[], None],
    cancel: threading.Event | None = None,
) -> Abandon | None:
    """Fetch every region with threads, one per connection; ``cancel``: stop (raise
    :class:`Cancelled`) once set."""
    outcome = _Outcome()

    def wait(delay: float) -> None:
        if sleep is not None:
            sleep(delay)
        else:
            outcome.stop.wait(delay)

    def fetch(worker: int, response: httpx.Response | None) -> bool:
        while not outcome.stop.is_set():
            if response is None:
                headers = core.request_headers(worker)
                try:
                    response = http.send(build_request(http, request, headers, core.time_left()), stream=True)
                except (httpx.RequestError, httpx.InvalidURL) as exc:
                    action: Any = core.on_request_error(worker, exc)
                    if isinstance(action, Fail):
                        raise action.error from exc
                    log_retry(core.what, action.reason, core.attempts, action.delay)
                    wait(action.delay)
                    continue
            try:
                action = core.on_response(worker, response.status_code, response.headers)
                if isinstance(action, Abandon):
                    outcome.give_up(action)
                    return False
                if isinstance(action, ReadBody):
                    body = read_bounded(response)
                    action = core.on_error_body(worker, response.status_code, response.headers, body)
                else:
                    assert isinstance(action, Take)
                    action = _read_body(
                        core, worker, response.iter_raw(), action, sink.put, progress, outcome
                    )
                    if action is None:
                        return True
            finally:
                response.close()
                response = None
            if isinstance(action, Abandon):
                outcome.give_up(action)
                return False
            if isinstance(action, Fail):
                raise action.error
            if outcome.stop.is_set():
                return False
            log_retry(core.what, action.reason, core.attempts, action.delay, resume=action.resume)
            wait(action.delay)
        return False

    def work(worker: int, response: httpx.Response | None) -> None:
        try:
            while not outcome.stop.is_set():
                if response is None and core.claim(worker) is None:
                    return
                if not fetch(worker, response):
                    if response is not None:
                        response.close()
                    return
                response = None
        except BaseException as exc:
            outcome.fail(exc)
        finally:
            if response is not None:
                response.close()

    threads: list[threading.Thread] = []

    def add() -> None:
        worker = core.add_worker()
        thread = threading.Thread(target=work, args=(worker, None), name=f"openrouter-video-range:{worker}")
        thread.daemon = True
        threads.append(thread)
        thread.start()

    sink.start()
    try:
        add()
        while any(t.is_alive() for t in threads):
            if outcome.stop.wait(TICK):
                break
            if cancel is not None and cancel.is_set():
                outcome.fail(Cancelled("the call was interrupted"))
                break
            for _ in range(core.want_workers()):
                add()
    finally:
        # Workers stop at their next chunk; one stuck on a silent connection is left behind (it is
        # a daemon thread, and only the writer thread, stopped by the caller, writes to the file).
        outcome.stop.set()
        deadline = time.monotonic() + JOIN_SECONDS
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    if outcome.error is not None:
        raise outcome.error
    return outcome.abandon


async def run_async(
    http: httpx.AsyncClient,
    request: dict[str, Any],
    core: SegmentCore,
    sink: SegmentFile,
    sleep: Callable[[float], Awaitable[object] | object] | None,
    progress: Callable[[], None],
) -> Abandon | None:
    """:func:`run_sync` with tasks on the running event loop (the writes go to the writer thread)."""
    outcome = _Outcome()
    loop = asyncio.get_running_loop()

    async def wait(delay: float) -> None:
        if sleep is not None:
            result = sleep(delay)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result
        else:
            await asyncio.sleep(delay)

    async def put(region: Region, offset: int, data: bytes) -> None:
        while True:
            room: asyncio.Future[None] = loop.create_future()

            def wake(room: asyncio.Future[None] = room) -> None:
                loop.call_soon_threadsafe(_resolve, room)

            if sink.try_put(region, offset, data, wake):
                return
            await room

    async def fetch(worker: int, response: httpx.Response | None) -> bool:
        while not outcome.stop.is_set():
            if response is None:
                headers = core.request_headers(worker)
                try:
                    response = await http.send(
                        build_request(http, request, headers, core.time_left()), stream=True
                    )
                except (httpx.RequestError, httpx.InvalidURL) as exc:
                    action: Any = core.on_request_error(worker, exc)
                    if isinstance(action, Fail):
                        raise action.error from exc
                    log_retry(core.what, action.reason, core.attempts, action.delay)
                    await wait(action.delay)
                    continue
            try:
                action = core.on_response(worker, response.status_code, response.headers)
                if isinstance(action, Abandon):
                    outcome.give_up(action)
                    return False
                if isinstance(action, ReadBody):
                    body = await aread_bounded(response)
                    action = core.on_error_body(worker, response.status_code, response.headers, body)
                else:
                    assert isinstance(action, Take)
                    action = await _aread_body(core, worker, response, action, put, progress, outcome)
                    if action is None:
                        return True
            finally:
                await response.aclose()
                response = None
            if isinstance(action, Abandon):
                outcome.give_up(action)
                return False
            if isinstance(action, Fail):
                raise action.error
            if outcome.stop.is_set():
                return False
            log_retry(core.what, action.reason, core.attempts, action.delay, resume=action.resume)
            await wait(action.delay)
        return False

    async def work(worker: int, response: httpx.Response | None) -> None:
        try:
            while not outcome.stop.is_set():
                if response is None and core.claim(worker) is None:
                    return
                taken, response = response, None
                if not await fetch(worker, taken):
                    return
        except Exception as exc:
            outcome.fail(exc)
        finally:
            if response is not None:
                await response.aclose()

    tasks: list[asyncio.Task[None]] = []

    def add() -> None:
        tasks.append(asyncio.ensure_future(work(core.add_worker(), None)))

    sink.start()
    try:
        add()
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=TICK)
            if outcome.stop.is_set():
                break
            for _ in range(core.want_workers()):
                add()
        await asyncio.gather(*tasks)
    finally:
        outcome.stop.set()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if outcome.error is not None:
        raise outcome.error
    return outcome.abandon


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _read_body(
    core: SegmentCore,
    worker: int,
    chunks: Any,
    take: Take,
    put: Callable[[Region, int, bytes], None],
    progress: Callable[[], None],
    outcome: _Outcome,
) -> Any:
    """Read a range body into the file; returns what :meth:`SegmentCore.on_body_end` decided."""
    head: Any = take.head if not take.head.passed else None
    watchdog = Watchdog(core.policy, core.deadline)
    error: Exception | None = None
    try:
        for chunk in chunks:
            if head is not None:
                chunk = head.feed(chunk)
                if head.failed:
                    break
                if head.passed:
                    head = None
            if chunk:
                region, at, data, done = core.on_chunk(worker, chunk)
                if data:
                    put(region, at, data)
                    progress()
                if done:
                    return core.on_body_end(worker, None, take.head)
            if watchdog.tick(len(chunk)):
                error = watchdog.reason
                break
            if outcome.stop.is_set():
                return None if core.plan.complete else Retry(0.0, "stopped")
        else:
            if head is not None and (chunk := head.end()):
                region, at, data, _ = core.on_chunk(worker, chunk)
                if data:
                    put(region, at, data)
    except httpx.RequestError as exc:
        error = exc
    try:
        return core.on_body_end(worker, error, take.head)
    finally:
        error = None  # its traceback holds this frame: no reference cycle left behind


async def _aread_body(
    core: SegmentCore,
    worker: int,
    response: httpx.Response,
    take: Take,
    put: Callable[[Region, int, bytes], Awaitable[None]],
    progress: Callable[[], None],
    outcome: _Outcome,
) -> Any:
    """:func:`_read_body` for the async client."""
    head: Any = take.head if not take.head.passed else None
    watchdog = Watchdog(core.policy, core.deadline)
    error: Exception | None = None
    try:
        async for chunk in response.aiter_raw():
            if head is not None:
                chunk = head.feed(chunk)
                if head.failed:
                    break
                if head.passed:
                    head = None
            if chunk:
                region, at, data, done = core.on_chunk(worker, chunk)
                if data:
                    await put(region, at, data)
                    progress()
                if done:
                    return core.on_body_end(worker, None, take.head)
            if watchdog.tick(len(chunk)):
                error = watchdog.reason
                break
            if outcome.stop.is_set():
                return None if core.plan.complete else Retry(0.0, "stopped")
        else:
            if head is not None and (chunk := head.end()):
                region, at, data, _ = core.on_chunk(worker, chunk)
                if data:
                    await put(region, at, data)
    except httpx.RequestError as exc:
        error = exc
    try:
        return core.on_body_end(worker, error, take.head)
    finally:
        error = None  # its traceback holds this frame: no reference cycle left behind
