"""Blocking work on a partial file from async code, in a thread that a cancel cannot outrun.

``asyncio.to_thread`` returns as soon as its caller is cancelled, while its thread goes on. For a
download that is how files got damaged: the caller's cleanup (closing the partial file, releasing its
lock) ran while the thread still verified or committed it, which left threads waiting forever, a
destination committed under a ``CancelledError``, an orphan state file, or a lock held for the next
call. Here the caller's cleanup starts only once nothing touches the files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


async def _wait_out(task: asyncio.Future[Any]) -> int:
    """Wait for ``task`` to end, whatever cancels arrive meanwhile; how many arrived. (An anyio cancel
    scope would deliver its cancel again at every turn of the loop: shielded from those.)"""
    absorbed = 0
    with anyio.CancelScope(shield=True):
        while not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                absorbed += 1
    if not task.cancelled():
        task.exception()  # retrieved: never "exception was never retrieved"
    return absorbed


async def until_done(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread; a cancel is raised only once the thread has ended (and it
    is the cancel that is raised, whatever the thread did)."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await _wait_out(task)
        raise


async def commit(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` (a commit) in a thread; a cancel lets it finish, and its result stands
    (every cancel absorbed is taken back with ``Task.uncancel``). A commit that failed after a
    cancel raises the cancel."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        absorbed = 1 + await _wait_out(task)
        if task.cancelled() or task.exception() is not None:
            raise
        current = asyncio.current_task()
        for _ in range(absorbed if current is not None else 0):
            current.uncancel()  # type: ignore[union-attr]
        return task.result()
