"""The few primitives that differ between the async source and the sync code generated from it.

``scripts/unasync.py`` turns every ``Async<Name>`` of :mod:`._async` into ``Sync<Name>`` (or
``<Name>``), so each pair here keeps that substitution mechanical.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

import anyio


class AsyncShield:
    """Shields cleanup from cancellation (under asyncio and trio alike)."""

    def __init__(self) -> None:
        self._scope = anyio.CancelScope(shield=True)

    def __enter__(self) -> AsyncShield:
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._scope.__exit__(exc_type, exc, tb)


class SyncShield(contextlib.nullcontext[None]):
    """Nothing to shield: a thread is never cancelled."""
