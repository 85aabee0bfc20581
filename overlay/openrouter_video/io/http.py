"""httpx at the edge of the engine: its exceptions become :class:`~..engine.core.Failure` events,
its timeouts are capped by deadlines, and the generated parsers read error bodies.

The engine (:mod:`..engine`) never imports httpx; the drivers, the transport and the clients call
these.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from .._extensions import DEADLINE, PATH_RTT
from .._secrets import redact
from ..engine.core import Failure
from ..engine.retry import RetryPolicy, RetryState, log_retry, parse_retry_after
from ..engine.segments import PathRtt
from ..fastio.tcp import least_rtt


def path_of(response: httpx.Response | None) -> PathRtt | None:
    """The kernel's view of the connection that answered (:func:`..fastio.tcp.least_rtt`): from this
    package's transport, else from httpcore's ``network_stream``."""
    extensions = {} if response is None else response.extensions
    if PATH_RTT in extensions:
        return extensions[PATH_RTT]  # type: ignore[no-any-return]
    stream = extensions.get("network_stream")
    return None if stream is None else least_rtt(stream.get_extra_info("socket"))


def request_of(item: Any) -> httpx.Request | None:
    """The ``request`` of an httpx exception or response, if set."""
    try:
        request = item.request  # httpx's exceptions and responses raise when it is not set
    except (AttributeError, RuntimeError):
        return None
    return request if isinstance(request, httpx.Request) else None


def origin_of(exc: BaseException) -> str | None:
    """``scheme://host:port`` of the request ``exc`` failed on (never a path, query or header)."""
    request = request_of(exc)
    if request is None or not (url := request.url).host:
        return None
    default = {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.scheme}://{url.host}:{url.port or default}"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(9):  # ten links of the chain at most: the last one is judged below
        if seen is None or isinstance(seen, kind):
            break
        seen = seen.__cause__ or seen.__context__
    return isinstance(seen, kind)


def is_retryable_exception(exc: BaseException) -> bool:
    """Connection failures, resets and timeouts are retried; too many redirects, bad URLs and a
    certificate that fails verification are not."""
    return (
        isinstance(exc, httpx.TransportError)
        and not isinstance(exc, httpx.UnsupportedProtocol)
        and not _caused_by(exc, ssl.SSLCertVerificationError)
    )


def failure(exc: BaseException) -> Failure:
    """The engine's event for a request or body that failed with the httpx error ``exc``."""
    kind: Literal["timeout", "connect", "other"] = "other"
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
    retryable = is_retryable_exception(exc)
    return Failure(
        type(exc).__name__, redact(str(exc)), kind=kind, origin=origin_of(exc), retryable=retryable, cause=exc
    )


def capped(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """``timeout`` with no wait longer than ``left`` seconds (what is left of a deadline)."""
    return httpx.Timeout(**{k: left if v is None else min(v, left) for k, v in timeout.as_dict().items()})


def parser(module: Any, api: Any) -> Callable[[int, Mapping[str, str], bytes], Any]:
    """The generated endpoint ``module``'s parser of an answer, for
    :func:`~..engine.core.build_status_error`; ``api``: the generated client, or a function that
    makes it (only an error answer needs it)."""

    def parse(status: int, headers: Mapping[str, str], body: bytes) -> Any:
        response = httpx.Response(status, headers=dict(headers), content=body)
        return module._build_response(client=api() if callable(api) else api, response=response).parsed

    return parse


class Attempts:
    """The retry decisions of :class:`~.transport.RetryTransport` for one request."""

    def __init__(self, policy: RetryPolicy, request: httpx.Request) -> None:
        self.idempotent = request.method.upper() in ("GET", "HEAD", "OPTIONS")
        self.what = f"{request.method} {request.url.path}"
        self.retries = RetryState(policy, request.extensions.get(DEADLINE))

    def after_response(self, response: httpx.Response) -> float | None:
        status = response.status_code
        if status not in self.retries.policy.retry_statuses or not (self.idempotent or status == 429):
            return None
        return self._next(f"HTTP {status}", parse_retry_after(response.headers))

    def after_exception(self, exc: Exception) -> float | None:
        if not is_retryable_exception(exc) or not (
            self.idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        ):
            return None
        origin = origin_of(exc)
        reason = f"{type(exc).__name__}{f' from {origin}' if origin else ''}: {exc}"
        if isinstance(exc, httpx.ConnectError) and origin:
            reason = f"cannot connect to {origin}: {exc}"
        return self._next(reason, None)

    def _next(self, reason: str, retry_after: float | None) -> float | None:
        """The wait before the next attempt, or ``None``: the answer stands (no retry left, or the
        wait would end past the call's deadline)."""
        self.retries = self.retries.increment()
        delay = self.retries.next_delay(retry_after)
        if delay is not None:
            log_retry(self.what, reason, self.retries.failures, delay)
        return delay
