"""Secrets out of exceptions: the key's headers are redacted from every httpx request reachable from
an exception the package raises, and the package's frames in its traceback lose their locals.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar

import httpx

from .._secrets import REDACTED, redact
from .http import request_of

P = ParamSpec("P")
R = TypeVar("R")
#: Request headers that carry a secret, redacted from requests reachable from an exception.
_SECRET_HEADERS: Final = ("authorization", "proxy-authorization")


def scrub_request(request: httpx.Request) -> None:
    """Redact the secret headers of ``request`` and the signature of a signed URL (it has been sent:
    nothing reads them again)."""
    url = str(request.url)
    if (cleaned := redact(url)) != url:
        request.url = httpx.URL(cleaned)
    for name in _SECRET_HEADERS:
        if name in request.headers:
            request.headers[name] = REDACTED


def scrub(exc: BaseException) -> BaseException:
    """Redact the key from every httpx request reachable from ``exc``: through its chain
    (``__cause__``, ``__context__``, exception groups) and the requests and responses its exceptions
    carry as attributes. Error reporters (Sentry and the like) serialise exactly these.

    The local variables of the package's frames in their tracebacks are cleared too (the frames stay,
    with their file and line): they held the client, its connections, buffers and partial file in
    reference cycles with the exception itself, which only the cyclic collector would have freed
    (about 12 MiB for a download that failed for good)."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, httpx.Request):
            scrub_request(item)
        elif isinstance(item, httpx.Response):
            pending.append(request_of(item))
        elif isinstance(item, BaseException):
            _clear_package_frames(item.__traceback__)
            pending += [item.__cause__, item.__context__, request_of(item), getattr(item, "response", None)]
            if isinstance(item, BaseExceptionGroup):
                pending += item.exceptions
            pending += [v for v in vars(item).values() if isinstance(v, httpx.Request | httpx.Response)]
    return exc


def _clear_package_frames(tb: types.TracebackType | None) -> None:
    """Clear the local variables of this package's finished frames in ``tb`` (the caller's own
    frames keep theirs, for debuggers and error reporters)."""
    while tb is not None:
        frame = tb.tb_frame
        if str(frame.f_globals.get("__name__", "")).startswith("openrouter_video"):
            with contextlib.suppress(RuntimeError):  # still running (the frame handling the exception)
                frame.clear()
        tb = tb.tb_next


def scrubbed(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` (sync or async), with :func:`scrub` applied to whatever it raises."""
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await function(*args, **kwargs)
            except BaseException as exc:
                scrub(exc)
                raise

        return awrapper  # type: ignore[return-value]

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            scrub(exc)
            raise

    return wrapper
