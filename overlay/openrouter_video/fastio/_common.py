"""What the async connections of :mod:`._async.http11` and the sync ones generated from them share."""

from __future__ import annotations

import contextlib
import enum
import logging
import time
from types import TracebackType
from typing import Final

import anyio
import h11
import httpcore
import httpx

logger = logging.getLogger("openrouter_video.fastio")

#: Most bytes one read asks for and returns: the size of a stream's receive buffer.
READ_BYTES: Final = 1024 * 1024
#: The largest response head accepted (httpcore's limit).
MAX_HEAD: Final = 100 * 1024


# The one primitive that differs: ``scripts/unasync.py`` turns ``AsyncShield`` into ``SyncShield``.
def AsyncShield() -> anyio.CancelScope:
    """Shields cleanup from cancellation (under asyncio and trio alike)."""
    return anyio.CancelScope(shield=True)


#: Nothing to shield: a thread is never cancelled.
SyncShield = contextlib.nullcontext


class State(enum.Enum):
    """Where a connection is in its life."""

    NEW = 0
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


def header(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """The values of header ``name`` (lower case)."""
    return [value for key, value in headers if key.lower() == name]


def sized(request: httpcore.Request, head: h11.Response) -> int | None:
    """The body's length when ``Content-Length`` alone frames it, else None (h11 reads it)."""
    headers = head.headers.raw_items()
    if request.method == b"HEAD" or head.status_code in (204, 304) or header(headers, b"transfer-encoding"):
        return None
    values = header(headers, b"content-length")
    return int(values[0]) if len(values) == 1 and values[0].strip().isdigit() else None


def keeps_alive(request: httpcore.Request, head: h11.Response) -> bool:
    """Whether the connection may serve another request after this one (h11's rule)."""
    values = [*header(request.headers, b"connection"), *header(head.headers.raw_items(), b"connection")]
    closes = any(b"close" in (token.strip().lower() for token in value.split(b",")) for value in values)
    return head.http_version >= b"1.1" and not closes


#: httpcore's exceptions and httpx's of the same names (httpx's own transport maps them so too).
_MAPPED: Final = {
    cls: getattr(httpx, name)
    for name, cls in vars(httpcore).items()
    if isinstance(cls, type) and issubclass(cls, Exception) and hasattr(httpx, name)
}


class mapped_exceptions:
    """httpcore's exceptions raised as httpx's (a class, not ``@contextmanager``, whose generator
    frame would hold both exceptions in a reference cycle with their tracebacks)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None or exc is None:
            return
        for cls in exc_type.__mro__:
            mapped = _MAPPED.get(cls)
            if mapped is not None:
                error = mapped(str(exc))
                try:
                    raise error from exc
                finally:  # this frame is in the new traceback: it keeps neither exception
                    error = exc = None


def capped(
    until: float | None, timeout: float | None, error: type[Exception] = httpcore.ReadTimeout
) -> float | None:
    """``timeout`` capped by what is left until ``until``; ``error`` once nothing is left."""
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)
