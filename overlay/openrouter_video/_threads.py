"""Blocking work on a partial file from async code, in a thread that a cancel cannot outrun.

``asyncio.to_thread`` returns as soon as its caller is cancelled, while its thread goes on. For a
download that is how files got damaged: the caller's cleanup (closing the partial file, releasing its
lock) ran while the thread still verified or committed it, which left threads waiting forever, a
destination committed under a ``CancelledError``, an orphan state file, or a lock held for the next
call. The rule here:

* :func:`until_done`: a cancel waits for the thread to end, then is raised; the caller's cleanup
  starts only once nothing touches the files;
* :func:`commit`: once a commit has begun, a cancel lets it finish and the call reports its result
  (the cancel is absorbed: ``Task.uncancel``); a commit that fails raises its error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def _wait_out(task: asyncio.Future[Any]) -> None:
    """Wait for ``task`` to end, whatever cancels arrive meanwhile."""
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
    if not task.cancelled():
        task.exception()  # retrieved: never "exception was never retrieved"


async def until_done(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread; a cancel is raised only once the thread has ended."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await _wait_out(task)
        raise


async def commit(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` (a commit) in a thread; a cancel lets it finish, and its result stands."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await _wait_out(task)
        if task.cancelled() or task.exception() is not None:
            raise
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        return task.result()
