"""The few places where sync and async truly differ, as pairs: :class:`AsyncRuntime` and :class:`Runtime`.

The async source calls ``AsyncRuntime.<name>``, which ``scripts/unasync.py`` turns into ``Runtime.<name>``.
Each pair does the same thing: the async one on the running event loop (tasks, futures woken from
the writer thread, :mod:`.threads` for blocking file work that a cancel must not outrun), the sync
one in the caller's thread (threads for connections and outputs, a :class:`threading.Event` that
Ctrl-C in the caller sets to stop them).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any, Final, TypeVar

from . import threads

T = TypeVar("T")
#: ``(result, None)`` or ``(None, error)`` for each of :meth:`Runtime.each`'s calls.
Outcome = tuple[Any, BaseException | None]
#: How long the sync workers are waited for once a segmented download is over or failed.
JOIN_SECONDS: Final = 2.0


class Cancelled(Exception):
    """A sync download was stopped from outside (the caller of ``generate_and_download`` was
    interrupted): its partial is kept like after any other exception."""


def _in_place(function: Callable[..., T], *args: Any) -> T:
    return function(*args)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _until_room(attempt: Callable[[Callable[[], None]], bool]) -> None:
    """Call ``attempt(wake)`` until it succeeds, awaiting between tries a future that ``wake``
    (called from the writer thread once it took an item) resolves."""
    loop = asyncio.get_running_loop()
    while True:
        room: asyncio.Future[None] = loop.create_future()

        def wake(room: asyncio.Future[None] = room) -> None:
            loop.call_soon_threadsafe(_resolve, room)

        if attempt(wake):
            return
        await room


class AsyncRuntime:
    """The async side: the running event loop."""

    is_async: Final = True

    @staticmethod
    async def sleep(
        delay: float, sleep: Callable[[float], object] | None = None, stop: threading.Event | None = None
    ) -> None:
        """Wait ``delay`` seconds with ``sleep`` (a policy's, which may be a coroutine function).
        (``stop`` is for the sync side: a task is cancelled instead.)"""
        result = (sleep or asyncio.sleep)(delay)
        if inspect.isawaitable(result):
            await result

    @staticmethod
    def load() -> None:
        """anyio (httpcore's async locks) and its asyncio backend unless another library's loop runs
        this (30-40 ms; a private module: if it moves, :meth:`warm_up` loads it), with the client."""
        import sniffio

        with contextlib.suppress(sniffio.AsyncLibraryNotFoundError):
            if sniffio.current_async_library() != "asyncio":
                return
        with contextlib.suppress(ImportError):
            importlib.import_module("anyio._backends._asyncio")

    @staticmethod
    async def warm_up() -> None:
        """Load what the loop's first network call would (anyio's backend, once)."""
        import anyio.lowlevel

        await anyio.lowlevel.checkpoint()

    #: Blocking file work in a thread; a cancel waits for it.
    to_thread = staticmethod(threads.until_done)
    #: A commit in a thread; once begun it finishes.
    commit = staticmethod(threads.commit)

    @staticmethod
    async def wait_room(sink: Any) -> None:
        """After the sink (a :class:`~.files.PartialFile`) refused a chunk: await the writer's room
        without blocking the loop."""
        await _until_room(sink.try_flush)

    @staticmethod
    async def put(sink: Any, region: Any, offset: int, data: bytes) -> None:
        """Queue a segment's write, awaiting room in the writer's queue."""
        await _until_room(lambda wake: bool(sink.try_put(region, offset, data, wake)))

    class Workers:
        """Tasks on the running loop, one per connection of a segmented download."""

        def __init__(self) -> None:
            self.tasks: list[asyncio.Task[None]] = []

        def spawn(self, work: Callable[[int], Awaitable[None]], worker: int) -> None:
            self.tasks.append(asyncio.ensure_future(work(worker)))

        def alive(self) -> bool:
            return not all(task.done() for task in self.tasks)

        async def wait(self, seconds: float, stop: threading.Event) -> None:
            await asyncio.wait(self.tasks, timeout=seconds)

        async def stop(self) -> None:
            for task in self.tasks:
                task.cancel()  # (a task that is done stays as it is)
            await asyncio.gather(*self.tasks, return_exceptions=True)

    #: What a download checks to stop early: nothing on the loop (tasks are cancelled).
    cancel_event = staticmethod(lambda: None)

    @staticmethod
    async def each(
        count: int, limit: int, run: Callable[[int], Awaitable[T]], cancel: threading.Event | None
    ) -> list[Outcome]:
        """``run(i)`` for each ``i < count``, ``limit`` at a time, each to its end; cancelling the
        call cancels them all (each keeps its partial)."""
        room = asyncio.Semaphore(limit)

        async def one(i: int) -> T:
            async with room:
                return await run(i)

        tasks = [asyncio.ensure_future(one(i)) for i in range(count)]
        try:
            await asyncio.wait(tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [(None, t.exception()) if t.exception() else (t.result(), None) for t in tasks]


class Runtime:
    """The sync side: the caller's thread, and threads of its own."""

    is_async: Final = False

    @staticmethod
    def sleep(
        delay: float, sleep: Callable[[float], object] | None = None, stop: threading.Event | None = None
    ) -> None:
        """Wait ``delay`` seconds with ``sleep`` (a policy's), else until ``stop`` is set or the
        time has passed."""
        if sleep is None and stop is not None:
            stop.wait(delay)
        else:
            (sleep or time.sleep)(delay)

    @staticmethod
    def warm_up() -> None:
        """Nothing to load (see :meth:`AsyncRuntime.warm_up`)."""

    #: Blocking file work, and a commit: here.
    to_thread = staticmethod(_in_place)
    commit = staticmethod(_in_place)

    @staticmethod
    def wait_room(sink: Any) -> None:
        """After the sink (a :class:`~.files.PartialFile`) refused a chunk: block until it has room."""
        sink.wait_for_room()

    @staticmethod
    def put(sink: Any, region: Any, offset: int, data: bytes) -> None:
        """Queue a segment's write, blocking while the writer's queue is full."""
        sink.put(region, offset, data)

    class Workers:
        """Daemon threads, one per connection of a segmented download."""

        def __init__(self) -> None:
            self.threads: list[threading.Thread] = []

        def spawn(self, work: Callable[[int], None], worker: int) -> None:
            name = f"openrouter-video-range:{worker}"
            thread = threading.Thread(target=work, args=(worker,), name=name, daemon=True)
            self.threads.append(thread)
            thread.start()

        def alive(self) -> bool:
            return any(thread.is_alive() for thread in self.threads)

        def wait(self, seconds: float, stop: threading.Event) -> None:
            stop.wait(seconds)

        def stop(self) -> None:
            # Workers stop at their next chunk; one stuck on a silent connection is left behind (a
            # daemon thread; only the writer thread, stopped by the caller, writes to the file).
            deadline = time.monotonic() + JOIN_SECONDS
            for thread in self.threads:
                thread.join(max(0.0, deadline - time.monotonic()))

    #: What the downloads in :meth:`each`'s threads check to stop early (Ctrl-C in the caller).
    cancel_event = staticmethod(threading.Event)

    @staticmethod
    def each(
        count: int, limit: int, run: Callable[[int], T], cancel: threading.Event | None
    ) -> list[Outcome]:
        """``run(i)`` for each ``i < count``, in ``limit`` threads, each to its end; an exception in
        the caller (Ctrl-C) sets ``cancel``, which stops them at their next chunk."""
        pool = ThreadPoolExecutor(min(limit, count), thread_name_prefix="openrouter-video-output")
        try:
            futures = [pool.submit(run, i) for i in range(count)]
            wait_for(futures)
        except BaseException:
            if cancel is not None:
                cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return [(None, f.exception()) if f.exception() else (f.result(), None) for f in futures]
