"""A retrying httpx transport, so that calls made through the generated client get status retries.

It serves both the generated client's :class:`httpx.Client` and its :class:`httpx.AsyncClient`
(openapi-python-client passes the same ``httpx_args`` to both). Downloads bypass it (they carry the
``NO_TRANSPORT_RETRY`` extension) because the download core retries and resumes by itself.

What is retried:

* ``GET``/``HEAD``/``OPTIONS``: the policy's statuses and any connection error or timeout;
* any other method (e.g. ``POST /videos``, which creates a paid job): only a failure to connect,
  when the request cannot have reached the server, and 429 responses.

A retry never starts when its wait would end past the call's deadline (the request extension
:data:`DEADLINE`): the last answer is returned instead.

Proxies: each request goes through an inner transport chosen by its URL: through the explicit
``proxy``, else (with ``trust_env``) through ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` unless
``NO_PROXY`` says otherwise, else directly, so that retries apply whichever way it goes. (httpx
itself ignores the environment's proxies as soon as a transport is given, and its ``proxy=`` mounts
bypass the transport.)
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ssl
import time
import urllib.request
from collections.abc import Callable
from types import TracebackType
from typing import Final, Generic, TypeVar

import httpx

from .. import fastio
from .._extensions import DEADLINE, NO_TRANSPORT_RETRY
from ..engine.retry import RetryPolicy, RetryState, log_retry, parse_retry_after
from .http import is_retryable_exception, origin_of
from .scrub import scrub_request

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
#: Request extension: the clock time (``RetryPolicy.clock``) after which no retry may start.
#: Bytes of a retried answer's body read before it is dropped (its connection is then closed).
_DRAIN_LIMIT: Final = 64 * 1024

T = TypeVar("T")


def _bypassed(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (comma-separated hosts, domains, ``host:port`` or ``*``) covers ``url``."""
    host = url.host.lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        if port and str(url.port or (443 if url.scheme == "https" else 80)) != port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


class Routes(Generic[T]):
    """Picks the inner transport for a URL: direct, or through a proxy (explicit or from the
    environment, ``NO_PROXY`` honoured); one transport per proxy, made by ``make(proxy_or_None)``."""

    def __init__(self, make: Callable[[str | None], T], *, proxy: str | None, trust_env: bool) -> None:
        self._make = make
        self._explicit = proxy
        self._env = urllib.request.getproxies_environment() if proxy is None and trust_env else {}
        self.transports: dict[str | None, T] = {}

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL that ``url`` goes through, or ``None``."""
        if self._explicit is not None:
            return self._explicit
        if not self._env:
            return None
        if _bypassed(url, self._env.get("no", "")):
            return None
        return self._env.get(url.scheme) or self._env.get("all")

    def pick(self, url: httpx.URL) -> T:
        """The inner transport for ``url`` (made on first use)."""
        proxy = self.proxy_for(url)
        transport = self.transports.get(proxy)
        if transport is None:
            transport = self.transports[proxy] = self._make(proxy)
        return transport


class _Attempts:
    """The retry decisions for one request (shared by the sync and async paths)."""

    def __init__(self, policy: RetryPolicy, request: httpx.Request) -> None:
        self.idempotent = request.method.upper() in _IDEMPOTENT
        self.what = f"{request.method} {request.url.path}"
        self.retries = RetryState(policy, request.extensions.get(DEADLINE))

    def after_response(self, response: httpx.Response) -> float | None:
        status = response.status_code
        if status not in self.retries.policy.retry_statuses or not (self.idempotent or status == 429):
            return None
        return self._next(f"HTTP {status}", parse_retry_after(response.headers))

    def after_exception(self, exc: Exception) -> float | None:
        retryable = is_retryable_exception(exc) and (
            self.idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        )
        if not retryable:
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


class RetryTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps httpx's own transports and retries per :class:`RetryPolicy`.

    Args:
        policy: The retry policy (its ``sleep`` is used for the waits).
        verify: TLS verification for the default inner transports, as for httpx: True, a CA bundle
            path, an :class:`ssl.SSLContext`, or False.
        transport: The sync transport to wrap, for every request (default: per route, this
            package's own transport of :mod:`.fastio` for direct requests, httpx's for each proxy).
        async_transport: The async one (default: per route, see ``transport``).
        proxy: A proxy URL for every request (``http://``, ``https://``; ``socks5://`` needs the
            ``socksio`` package); overrides the environment.
        trust_env: Use ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (and their
            lower-case forms), as curl and httpx do.
        limits: Connection pool limits of the default inner transports.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.verify = verify
        self.limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._transport = transport
        self._async_transport = async_transport
        # Factories that do not refer back to this object (a bound method would make a reference
        # cycle that keeps every inner transport, and its TLS contexts, alive until the cyclic GC).
        self.routes: Routes[httpx.BaseTransport] = Routes(
            functools.partial(_make_sync, verify, self.limits), proxy=proxy, trust_env=trust_env
        )
        self.async_routes: Routes[httpx.AsyncBaseTransport] = Routes(
            functools.partial(_make_async, verify, self.limits), proxy=proxy, trust_env=trust_env
        )

    def prepare(self, url: httpx.URL) -> None:
        """Build the inner transports ``url`` will use now (creating a TLS context takes ~20 ms)."""
        if self._transport is None:
            self.routes.pick(url)
        if self._async_transport is None:
            self.async_routes.pick(url)

    def _inner(self, request: httpx.Request) -> httpx.BaseTransport:
        return self._transport if self._transport is not None else self.routes.pick(request.url)

    def _async_inner(self, request: httpx.Request) -> httpx.AsyncBaseTransport:
        if self._async_transport is not None:
            return self._async_transport
        return self.async_routes.pick(request.url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying per the policy (see the module's rules)."""
        try:
            return self._handle(request)
        except BaseException:
            scrub_request(request)  # sent and failed: the key is not reachable from the error
            raise

    def _handle(self, request: httpx.Request) -> httpx.Response:
        inner = self._inner(request)
        if request.extensions.get(NO_TRANSPORT_RETRY):
            return inner.handle_request(request)
        attempts = _Attempts(self.policy, request)
        while True:
            try:
                response = inner.handle_request(request)
            except httpx.TransportError as exc:
                delay = attempts.after_exception(exc)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                _drain(response)
            (self.policy.sleep or time.sleep)(delay)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The async twin of :meth:`handle_request`."""
        try:
            return await self._ahandle(request)
        except BaseException:
            scrub_request(request)
            raise

    async def _ahandle(self, request: httpx.Request) -> httpx.Response:
        inner = self._async_inner(request)
        if request.extensions.get(NO_TRANSPORT_RETRY):
            return await inner.handle_async_request(request)
        attempts = _Attempts(self.policy, request)
        while True:
            try:
                response = await inner.handle_async_request(request)
            except httpx.TransportError as exc:
                delay = attempts.after_exception(exc)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                await _adrain(response)
            result = (self.policy.sleep or asyncio.sleep)(delay)
            if inspect.isawaitable(result):
                await result

    def close(self) -> None:
        """Close the sync inner transports' connections."""
        for transport in [self._transport, *self.routes.transports.values()]:
            if transport is not None:
                transport.close()

    async def aclose(self) -> None:
        """Close the async inner transports' connections."""
        for transport in [self._async_transport, *self.async_routes.transports.values()]:
            if transport is not None:
                await transport.aclose()

    def __enter__(self) -> RetryTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> RetryTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.aclose()


def _make_sync(
    verify: ssl.SSLContext | str | bool, limits: httpx.Limits, proxy: str | None
) -> httpx.BaseTransport:
    if proxy is None:
        return fastio.sync_transport(verify, limits)
    return httpx.HTTPTransport(verify=fastio.ssl_context(verify), limits=limits, proxy=proxy)


def _make_async(
    verify: ssl.SSLContext | str | bool, limits: httpx.Limits, proxy: str | None
) -> httpx.AsyncBaseTransport:
    if proxy is None:
        return fastio.async_transport(verify, limits)
    return httpx.AsyncHTTPTransport(verify=fastio.ssl_context(verify), limits=limits, proxy=proxy)


def abandon(transport: RetryTransport) -> bool:
    """Close the async inner transports' connections now, without awaiting (their client was dropped
    unclosed); whether there were any."""
    had = False
    for inner in list(transport.async_routes.transports.values()):
        if isinstance(inner, fastio.AsyncTransport):
            had = inner.abandon() or had
    return had


def _drain(response: httpx.Response) -> None:
    """Read a little of a retried answer's body (so that a small one keeps its connection), then close."""
    try:
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                break
    except httpx.HTTPError:
        pass
    finally:
        response.close()


async def _adrain(response: httpx.Response) -> None:
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                break
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()
