"""The sending half of :class:`~..transport.RetryTransport` (async source)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import httpx

from ..._extensions import NO_TRANSPORT_RETRY
from ..._secrets import register_signed_url
from ..http import Attempts
from ..primitives import AsyncRuntime
from ..scrub import scrub_request

if TYPE_CHECKING:
    from ...engine.retry import RetryPolicy
    from ..transport import Routes

#: Bytes of a retried answer's body read before it is dropped (its connection is then closed).
DRAIN_LIMIT: Final = 64 * 1024


class AsyncRetrying:
    """Sends through the inner transport for the request's route, retrying per the policy (the
    context manager is :class:`httpx.AsyncBaseTransport`'s, a base of the transport)."""

    policy: RetryPolicy
    _async_transport: httpx.AsyncBaseTransport | None
    async_routes: Routes[httpx.AsyncBaseTransport]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying per the policy (see :mod:`..transport`). A query string that may
        be a signature (a signed URL, or a redirect's target) is redacted from every log from now on:
        httpx logs the URL once the answer is in."""
        if len(request.url.query) >= 12:
            register_signed_url(str(request.url))
        try:
            return await self._send_async(request)
        except BaseException:
            scrub_request(request)  # sent and failed: the key is not reachable from the error
            raise

    async def _send_async(self, request: httpx.Request) -> httpx.Response:
        inner = self._async_transport or self.async_routes.pick(request.url)
        if request.extensions.get(NO_TRANSPORT_RETRY):
            return await inner.handle_async_request(request)
        attempts = Attempts(self.policy, request)
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
                await _drain_async(response)
            await AsyncRuntime.sleep(delay, self.policy.sleep)

    async def aclose(self) -> None:
        """Close the inner transports' connections."""
        for transport in [self._async_transport, *self.async_routes.transports.values()]:
            if transport is not None:
                await transport.aclose()


async def _drain_async(response: httpx.Response) -> None:
    """Read a little of a retried answer's body (so that a small one keeps its connection), then close."""
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > DRAIN_LIMIT:
                break
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()
