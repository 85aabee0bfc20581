"""API key hygiene: validation when a client is built, and redaction of every text this package emits.

Keys are validated by construction (:func:`clean_key`): surrounding whitespace (a key read from a
mounted secret file ends in a newline) is stripped, and control or non-ASCII characters are refused
with a message that never contains the key. As defence in depth, every key a client was built with
is registered, and :func:`redact` replaces it in exception messages, log records (a filter on the
``openrouter_video``, ``httpx`` and ``httpcore`` loggers) and CLI output, whatever httpx or h11 put
in theirs.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import types
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar

import httpx

from .errors import ConfigurationError

P = ParamSpec("P")
R = TypeVar("R")
#: Request headers that carry a secret, redacted from requests reachable from an exception.
_SECRET_HEADERS: Final = ("authorization", "proxy-authorization")

#: What a redacted key becomes.
REDACTED: Final = "<redacted API key>"
#: Keys shorter than this are not redacted from text (they would match ordinary words).
_MIN_REDACTED = 8

_keys: set[str] = set()
_lock = threading.Lock()


def clean_key(key: str) -> str:
    """``key`` without surrounding whitespace; :class:`ConfigurationError` for an empty key or one
    with control, space or non-ASCII characters (the message says where, never what)."""
    if not isinstance(key, str):
        raise ConfigurationError(f"the API key must be a str, not {type(key).__name__}")
    stripped = key.strip()
    if not stripped:
        raise ConfigurationError("the API key is empty (or only whitespace)")
    for position, char in enumerate(stripped):
        if not "!" <= char <= "~":
            kind = "non-ASCII" if ord(char) > 0x7F else "control or space"
            raise ConfigurationError(
                f"the API key contains a {kind} character at position {position} of {len(stripped)}; "
                "check the secret it was read from"
            )
    register(stripped)
    return stripped


def register(key: str) -> None:
    """Redact ``key`` from everything this package emits from now on."""
    if len(key) >= _MIN_REDACTED:
        with _lock:
            _keys.add(key)
        _install_filter()


def redact(text: str) -> str:
    """``text`` with every registered key replaced by :data:`REDACTED`."""
    if not _keys:
        return text
    for key in tuple(_keys):
        if key in text:
            text = text.replace(key, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Replaces registered API keys in a log record's message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _keys:
            try:
                message = record.getMessage()
            except Exception:  # a broken record: leave it to logging's own error handling
                return True
            cleaned = redact(message)
            if cleaned != message or (record.exc_text and any(k in record.exc_text for k in _keys)):
                record.msg, record.args = cleaned, None
                if record.exc_text:
                    record.exc_text = redact(record.exc_text)
        return True


_FILTER: Final = RedactingFilter()
#: Logger filters apply only to records logged on that very logger, so every one is named.
_LOGGERS: Final = (
    "openrouter_video",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_installed = False


def _install_filter() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def scrub_request(request: httpx.Request) -> None:
    """Redact the secret headers of ``request`` (it has been sent: nothing reads them again)."""
    for name in _SECRET_HEADERS:
        if name in request.headers:
            request.headers[name] = REDACTED


def _request_of(item: Any) -> httpx.Request | None:
    try:
        request = item.request  # httpx's exceptions and responses raise when it is not set
    except (AttributeError, RuntimeError):
        return None
    return request if isinstance(request, httpx.Request) else None


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
            continue
        if isinstance(item, httpx.Response):
            pending.append(_request_of(item))
            continue
        if not isinstance(item, BaseException):
            continue
        _clear_package_frames(item.__traceback__)
        pending += [item.__cause__, item.__context__, _request_of(item)]
        if isinstance(item, BaseExceptionGroup):
            pending += item.exceptions
        pending += [
            value for value in vars(item).values() if isinstance(value, (httpx.Request, httpx.Response))
        ]
        pending.append(getattr(item, "response", None))
    return exc


def _clear_package_frames(tb: types.TracebackType | None) -> None:
    """Clear the local variables of this package's finished frames in ``tb`` (the caller's own
    frames keep theirs, for debuggers and error reporters)."""
    while tb is not None:
        frame = tb.tb_frame
        if str(frame.f_globals.get("__name__", "")).startswith("openrouter_video"):
            try:
                frame.clear()
            except RuntimeError:  # still running (the frame handling the exception)
                pass
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
