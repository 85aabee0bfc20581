"""The few primitives that differ between the async source and the sync code generated from it.

``scripts/unasync.py`` turns every ``Async<Name>`` of :mod:`._async` into ``Sync<Name>`` (or
``<Name>``), so each pair here keeps that substitution mechanical.
"""

from __future__ import annotations

import contextlib

import anyio


def AsyncShield() -> anyio.CancelScope:
    """Shields cleanup from cancellation (under asyncio and trio alike)."""
    return anyio.CancelScope(shield=True)


#: Nothing to shield: a thread is never cancelled.
SyncShield = contextlib.nullcontext
