"""A retrying httpx transport, so that calls made through the generated client get status retries.

It serves both the generated client's :class:`httpx.Client` and its :class:`httpx.AsyncClient`
(openapi-python-client passes the same ``httpx_args`` to both). Downloads bypass it (they carry the
``NO_TRANSPORT_RETRY`` extension) because the download core retries and resumes by itself.

What is retried:

* ``GET``/``HEAD``/``OPTIONS``: the policy's statuses and any connection error or timeout;
* any other method (e.g. ``POST /videos``, which creates a paid job): only a failure to connect,
  when the request cannot have reached the server, and 429 responses.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import time
from types import TracebackType

import httpx

from ._core import is_retryable_exception
from ._drivers import NO_TRANSPORT_RETRY
from ._retry import RetryPolicy, log_retry, parse_retry_after

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class _Attempts:
    """The retry decisions for one request (shared by the sync and async paths)."""

    def __init__(self, policy: RetryPolicy, request: httpx.Request) -> None:
        self.policy = policy
        self.idempotent = request.method.upper() in _IDEMPOTENT
        self.what = f"{request.method} {request.url.path}"
        self.failures = 0

    def after_response(self, response: httpx.Response) -> float | None:
        status = response.status_code
        if status not in self.policy.retry_statuses or not (self.idempotent or status == 429):
            return None
        return self._next(f"HTTP {status}", parse_retry_after(response.headers))

    def after_exception(self, exc: Exception) -> float | None:
        retryable = is_retryable_exception(exc) and (
            self.idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        )
        return self._next(f"{type(exc).__name__}: {exc}", None) if retryable else None

    def _next(self, reason: str, retry_after: float | None) -> float | None:
        self.failures += 1
        delay = self.policy.delay(self.failures, retry_after)
        if delay is not None:
            log_retry(self.what, reason, self.failures, delay)
        return delay


class RetryTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps httpx's own transports and retries per :class:`RetryPolicy`.

    Args:
        policy: The retry policy (its ``sleep`` is used for the waits).
        verify: TLS verification for the default inner transports, as for httpx: True, a CA bundle
            path, an :class:`ssl.SSLContext`, or False.
        transport: The sync transport to wrap (default: a new :class:`httpx.HTTPTransport`).
        async_transport: The async one (default: an :class:`httpx.AsyncHTTPTransport` on the lean
            asyncio backend of ``_aio.py``).
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.verify = verify
        self._transport = transport
        self._async_transport = async_transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying per the policy (see the module's rules)."""
        if self._transport is None:
            self._transport = httpx.HTTPTransport(verify=self.verify)
        if request.extensions.get(NO_TRANSPORT_RETRY):
            return self._transport.handle_request(request)
        attempts = _Attempts(self.policy, request)
        while True:
            try:
                response = self._transport.handle_request(request)
            except httpx.TransportError as exc:
                delay = attempts.after_exception(exc)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                response.read()
                response.close()
            (self.policy.sleep or time.sleep)(delay)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The async twin of :meth:`handle_request`."""
        if self._async_transport is None:
            from ._aio import async_http_transport

            self._async_transport = async_http_transport(self.verify)
        if request.extensions.get(NO_TRANSPORT_RETRY):
            return await self._async_transport.handle_async_request(request)
        attempts = _Attempts(self.policy, request)
        while True:
            try:
                response = await self._async_transport.handle_async_request(request)
            except httpx.TransportError as exc:
                delay = attempts.after_exception(exc)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                await response.aread()
                await response.aclose()
            result = (self.policy.sleep or asyncio.sleep)(delay)
            if inspect.isawaitable(result):
                await result

    def close(self) -> None:
        """Close the sync inner transport's connections."""
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Close the async inner transport's connections."""
        if self._async_transport is not None:
            await self._async_transport.aclose()

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
