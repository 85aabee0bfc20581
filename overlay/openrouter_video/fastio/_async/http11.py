"""This package's own HTTP/1.1 connections, their pool and the httpx transport over it (async source).

A :class:`httpcore.AsyncConnectionPool` subclass makes :class:`AsyncConnection`, which speaks HTTP/1.1
through h11's public API (a fresh ``h11.Connection`` per request) except for one thing: a body framed by
``Content-Length`` is read straight from the network stream, past h11, which would copy every body byte
three or four times (into its buffer, out of it, httpcore's ``bytes(event.data)``), each a fresh
allocation: most of a download's CPU after TLS, with this package's megabyte reads. Such a body's chunks
are counted and handed on as they are (lent, when the request carries :data:`~..._extensions.LEND` and the
stream can lend). A peer that closes early raises :class:`httpx.RemoteProtocolError`, as h11 would;
bytes beyond the body close the connection instead of being read as the next response (as curl does).
Chunked and close-delimited bodies, and everything before the body, go through h11.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import h11
import httpcore
import httpx

from ..._extensions import LEND, PATH_RTT, UNTIL
from .._common import MAX_HEAD, READ_BYTES, AsyncShield, State, capped, keeps_alive, mapped_exceptions, sized
from ..tcp import least_rtt


class AsyncConnection(httpcore.AsyncConnectionInterface):
    """One HTTP/1.1 connection to one origin, made on its first request."""

    def __init__(
        self,
        origin: httpcore.Origin,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        keepalive_expiry: float | None,
    ) -> None:
        self.origin, self.backend = origin, backend
        self.ssl_context, self.keepalive_expiry = ssl_context, keepalive_expiry
        self.network: httpcore.AsyncNetworkStream | None = None
        self.state = State.NEW
        self.expire_at: float | None = None
        self.requests = 0
        #: The current request's deadline (see :data:`~..._extensions.UNTIL`).
        self.until: float | None = None
        self.path: Callable[[], float | None] | None = None

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if not self.can_handle_request(request.url.origin):
            raise RuntimeError(f"a request to {request.url.origin} on a connection to {self.origin}")
        if self.state not in (State.NEW, State.IDLE):
            raise httpcore.ConnectionNotAvailable()
        self.state = State.ACTIVE
        self.expire_at = None
        timeouts = request.extensions.get("timeout", {})
        self.until = request.extensions.get(UNTIL)
        try:
            if self.network is None:
                self.network = await self._connect(request, timeouts.get("connect"))
                self.path = least_rtt(self.network.get_extra_info("socket"))
            self.requests += 1
            http = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
            await self._send(http, request, timeouts.get("write"))
            head = await self._receive_head(http, timeouts.get("read"))
        except BaseException:
            await self.aclose()
            raise
        return httpcore.Response(
            status=head.status_code,
            headers=head.headers.raw_items(),
            content=AsyncBody(self, http, request, head),
            # (no "network_stream": httpx's response and its stream refer to each other, and that
            # cycle would keep the stream, and its buffers, until the cyclic collector runs)
            extensions={
                "http_version": b"HTTP/" + head.http_version,
                "reason_phrase": head.reason,
                PATH_RTT: self.path,
            },
        )

    async def _connect(self, request: httpcore.Request, timeout: float | None) -> httpcore.AsyncNetworkStream:
        host = self.origin.host.decode("ascii")
        connect = capped(self.until, timeout, httpcore.ConnectTimeout)
        stream = await self.backend.connect_tcp(host, self.origin.port, timeout=connect)
        if self.origin.scheme == b"https":
            sni = request.extensions.get("sni_hostname") or host
            try:
                handshake = capped(self.until, timeout, httpcore.ConnectTimeout)  # what is left now
                stream = await stream.start_tls(self.ssl_context, server_hostname=sni, timeout=handshake)
            except BaseException:
                with AsyncShield():
                    await stream.aclose()
                raise
        return stream

    async def _send(self, http: h11.Connection, request: httpcore.Request, timeout: float | None) -> None:
        stream = self.network
        assert stream is not None and isinstance(request.stream, AsyncIterable)

        async def send(event: h11.Event) -> None:
            await stream.write(http.send(event) or b"", capped(self.until, timeout, httpcore.WriteTimeout))

        try:
            await send(h11.Request(method=request.method, target=request.url.target, headers=request.headers))
            async for chunk in request.stream:
                await send(h11.Data(data=chunk))
            await send(h11.EndOfMessage())
        except httpcore.WriteError:
            # A server may answer (and close) before it has read the whole request: read its answer.
            pass
        except h11.LocalProtocolError as exc:
            raise httpcore.LocalProtocolError(str(exc)) from exc

    async def _receive_head(self, http: h11.Connection, timeout: float | None) -> h11.Response:
        while True:
            event = await self.next_event(http, timeout)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # 1xx are skipped, as httpcore does
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__} before the response")

    async def next_event(self, http: h11.Connection, timeout: float | None) -> Any:
        """h11's next event, reading from the stream as it needs."""
        stream = self.network
        assert stream is not None
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpcore.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await stream.read(READ_BYTES, capped(self.until, timeout))
            if not data and http.their_state is h11.SEND_RESPONSE:
                raise httpcore.RemoteProtocolError("Server disconnected without sending a response.")
            http.receive_data(bytes(data))

    async def response_closed(self, reusable: bool) -> None:
        """The response's body ended (``reusable``: completely, and the connection may serve another
        request) or was dropped."""
        if reusable and self.state is State.ACTIVE:
            self.state = State.IDLE
            if self.keepalive_expiry is not None:
                self.expire_at = time.monotonic() + self.keepalive_expiry
        else:
            await self._close()

    async def _close(self) -> None:
        self.state = State.CLOSED
        stream, self.network = self.network, None
        if stream is not None:
            await stream.aclose()

    async def aclose(self) -> None:
        with AsyncShield():
            await self._close()

    def abandon(self) -> bool:
        """Close now, without awaiting (the client was dropped unclosed); whether it was open."""
        self.state = State.CLOSED
        stream, self.network = self.network, None
        close_now = getattr(stream, "close_now", None)
        if close_now is not None:
            close_now()
        return stream is not None

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        # NEW too: httpcore's pool may hand a new connection to a request that is cancelled before
        # it runs, and nothing else would ever use or close it (a slot lost for good). A second
        # request handed the same new connection gets ConnectionNotAvailable and the pool goes on.
        return self.state in (State.NEW, State.IDLE)

    def has_expired(self) -> bool:
        if self.state is not State.IDLE:
            return False
        if self.expire_at is not None and time.monotonic() > self.expire_at:
            return True
        # An idle connection that got data or EOF is stale (the server closed it, or misbehaved).
        return self.network is None or bool(self.network.get_extra_info("is_readable"))

    def is_idle(self) -> bool:
        return self.state is State.IDLE

    def is_closed(self) -> bool:
        return self.state is State.CLOSED

    def info(self) -> str:
        return f"HTTP/1.1, {self.state.name}, Request Count: {self.requests}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.origin}, {self.info()}]>"


class AsyncBody:
    """A response's body: iterated once, then closed (which frees or closes the connection)."""

    def __init__(
        self, connection: AsyncConnection, http: h11.Connection, request: httpcore.Request, head: h11.Response
    ) -> None:
        self.connection = connection
        self.http = http
        self.timeout = request.extensions.get("timeout", {}).get("read")
        self.lend = bool(request.extensions.get(LEND))
        self.length = sized(request, head)
        self.reusable = keeps_alive(request, head) and http.our_state is h11.DONE
        self.complete = False
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            chunks = self._framed() if self.length is None else self._direct(self.length)
            async for chunk in chunks:
                yield chunk
            self.complete = True
        except BaseException:
            with AsyncShield():
                await self.aclose()
            raise

    async def _direct(self, length: int) -> AsyncIterator[bytes]:
        """A body of ``length`` bytes, read past h11 (see the module's doc)."""
        remaining = length
        data, _ = self.http.trailing_data  # what came with the head
        stream = self.connection.network
        assert stream is not None
        read_lent = getattr(stream, "read_lent", None) if self.lend else None
        read = read_lent or functools.partial(stream.read, READ_BYTES)
        if len(data) > remaining:  # bytes beyond the message (Content-Length: 0 included)
            self.reusable = False
        try:
            while remaining:
                if not data:
                    data = await read(timeout=capped(self.connection.until, self.timeout))
                    if not data:
                        raise httpcore.RemoteProtocolError(
                            "peer closed connection without sending complete message body "
                            f"(received {length - remaining} bytes, expected {length})"
                        )
                if len(data) > remaining:  # bytes beyond the message: never read as the next answer
                    self.reusable = False
                    data = data[:remaining]
                remaining -= len(data)
                chunk, data = data, b""
                yield chunk
        finally:
            if read_lent is not None:
                stream.stop_lending()  # type: ignore[attr-defined]  # an idle connection keeps none

    async def _framed(self) -> AsyncIterator[bytes]:
        """A chunked or close-delimited body, through h11."""
        while True:
            event = await self.connection.next_event(self.http, self.timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        if self.http.their_state is not h11.DONE or self.http.trailing_data[0]:
            self.reusable = False

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self.connection.response_closed(self.complete and self.reusable)


class AsyncPool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool (limits, keep-alive, waiting for a slot) of :class:`AsyncConnection`."""

    def __init__(
        self, backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext, limits: httpx.Limits
    ) -> None:
        super().__init__(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
        self.settings = (backend, ssl_context, limits.keepalive_expiry)

    def create_connection(self, origin: httpcore.Origin) -> AsyncConnection:
        return AsyncConnection(origin, *self.settings)


class AsyncResponseStream(httpx.AsyncByteStream):
    """A response body for httpx, with httpcore's exceptions mapped."""

    def __init__(self, body: Any) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with mapped_exceptions():
            async for chunk in self._body:
                yield chunk

    async def aclose(self) -> None:
        body, self._body = self._body, ()
        if body != ():
            # httpx's response and its stream refer to each other (a cycle): once closed, it keeps
            # nothing of the connection, its pool or its buffers.
            with mapped_exceptions():
                await body.aclose()


class AsyncTransport(httpx.AsyncBaseTransport):
    """An httpx transport over :class:`AsyncPool`: direct HTTP/1.1 connections (no proxy, no HTTP/2).

    Args:
        backend: The network backend the connections are made with.
        ssl_context: For ``https://`` origins (its ALPN is set to HTTP/1.1).
        limits: Connection pool limits, as for httpx.
    """

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits | None = None,
    ) -> None:
        ssl_context.set_alpn_protocols(["http/1.1"])
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults
        self.pool = AsyncPool(backend, ssl_context, limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with mapped_exceptions():
            response = await self.pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=AsyncResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()

    def abandon(self) -> bool:
        """Close every connection now, without awaiting (see :meth:`AsyncConnection.abandon`)."""
        return any([c.abandon() for c in self.pool.connections if isinstance(c, AsyncConnection)])
