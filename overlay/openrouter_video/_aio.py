"""A lean asyncio network backend for httpcore, used by the async client's transport.

httpcore's default async backend goes through anyio, which costs an event-loop round trip, a cancel
scope and a copy of the unread remainder for every 64 KiB read; at loopback speeds the async client
then reads at about a third of the sync one. This backend is a plain :class:`asyncio.Protocol`:
``read`` hands over whole chunks as the event loop received them (no copy, no timer while data is
buffered), flow control pauses the socket above 4 MiB buffered, and TLS uses ``loop.start_tls``.
Under any other event loop library (e.g. trio) it defers to httpcore's own backend.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import anyio  # noqa: F401 - httpcore's async locks need it; imported with the client, not mid-request
import httpcore
import httpx

_HIGH_WATER = 4 * 1024 * 1024
_LOW_WATER = 1024 * 1024


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """An httpcore network stream over an asyncio transport and :class:`_Protocol`."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """The next chunk as received (it may exceed ``max_bytes``; h11 accepts any amount)."""
        protocol = self._protocol
        while not protocol.chunks:
            if protocol.eof:
                if protocol.error is not None:
                    raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
                return b""
            protocol.waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await protocol.waiter
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out waiting for data") from None
            finally:
                protocol.waiter = None
        chunk = protocol.chunks.popleft()
        protocol.buffered -= len(chunk)
        if protocol.paused and protocol.buffered < _LOW_WATER:
            protocol.paused = False
            self._transport.resume_reading()
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if self._transport.is_closing() or (protocol.eof and protocol.error is not None):
            raise httpcore.WriteError("connection closed")
        self._transport.write(buffer)
        if protocol.write_paused:
            protocol.drain_waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await protocol.drain_waiter
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out sending data") from None
            finally:
                protocol.drain_waiter = None

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        protocol = _Protocol()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(transport, asyncio.Transport)
        protocol.connection_made(transport)
        return AsyncioStream(transport, protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle pooled connection that got data or EOF is stale
            return bool(self._protocol.chunks) or self._protocol.eof
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        return self._transport.get_extra_info(info)


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # e.g. trio
        return False
    return True


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on plain asyncio; other event loops use httpcore's default."""

    def __init__(self) -> None:
        self._fallback = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not _on_asyncio():
            return await self._fallback.connect_tcp(host, port, timeout, local_address, socket_options)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._fallback.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._fallback.sleep(seconds)


def async_http_transport(
    verify: ssl.SSLContext | str | bool = True,
    *,
    limits: httpx.Limits | None = None,
    proxy: str | None = None,
) -> httpx.AsyncHTTPTransport:
    """An :class:`httpx.AsyncHTTPTransport` whose connection pool (or proxy pool) uses
    :class:`AsyncioBackend`.

    httpx offers no argument for the network backend, so the backend of the pool it builds is
    swapped. ``verify`` is as for httpx (True, a CA bundle path, an SSLContext, or False), ``limits``
    and ``proxy`` too. (``_pool`` is httpx's private attribute and ``_network_backend`` httpcore's;
    httpx is pinned below 0.29 and httpcore below 2, and tests/test_aio.py fails if either seam
    moves.)
    """
    transport = httpx.AsyncHTTPTransport(
        verify=verify,
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
        proxy=proxy,
    )
    pool = transport._pool
    if isinstance(pool, httpcore.AsyncConnectionPool):  # also the HTTP and SOCKS proxy pools
        pool._network_backend = AsyncioBackend()
    return transport
