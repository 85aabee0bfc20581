"""A lean asyncio network backend for httpcore, used by the async client's transport.

httpcore's default async backend goes through anyio: an event-loop round trip, a cancel scope and a copy
of the unread remainder per 64 KiB read (the async client read at a third of the sync one's speed).
Here the loop receives straight into one :data:`READ_BYTES` buffer per connection (an
:class:`asyncio.BufferedProtocol`; ``loop.start_tls`` decrypts into it too), ``read`` hands over all
that is buffered as one chunk (no timer per read), and reading pauses while the buffer is full: about
one trip through httpcore per MiB when the reader falls behind. (A lazily faulted ``mmap`` measured 10%
slower with 32 downloads at once: its pages fault inside the socket reads.)

Only asyncio's public protocol API is used, so uvloop works too. Other event loops (e.g. trio), and a
loop whose transports lack what this needs (one DEBUG line), get httpcore's own backend.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import anyio  # noqa: F401 - httpcore's async locks need it; imported with the client, not mid-request
import httpcore

from ._common import READ_BYTES, logger
from .lent import LEND_BYTES, LentBuffer, Pool


class _Protocol(asyncio.BufferedProtocol):
    """Receives into ``buffer[:end]`` (everything not yet read); ``overflow`` holds what came in
    while the buffer was full (only if the transport reads once more after being paused)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        #: Buffers given back after being lent (see :mod:`.lent`), for reuse.
        self.pool = Pool()
        self.buffer = LentBuffer(READ_BYTES, self.pool)
        self.view = memoryview(self.buffer)
        self.end = 0
        self.overflow: list[bytes | bytearray] = []
        #: While the reader lends (:meth:`lend`): a full buffer waiting for it, so that receiving
        #: goes on into another one instead of pausing (a pause and a resume cost two ``epoll_ctl``
        #: and the selector's bookkeeping, and a reader at loopback speed is 1 MiB behind often).
        self.lending = False
        self.ready: LentBuffer | None = None
        self.eof = False
        self.error: BaseException | None = None
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None
        #: The read timeout: one timer per connection, re-armed only when it fires early (a timer
        #: per read, as ``asyncio.timeout`` makes, costs a heap push and a cancel per chunk).
        self.deadline = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # whatever the loop made (uvloop's too)

    def data_received(self, data: bytes) -> None:
        """For a loop that does not support buffered protocols: the bytes are kept as they came."""
        self.overflow.append(bytes(data))
        if sum(map(len, self.overflow)) >= READ_BYTES:
            self._pause()
        _resolve(self.waiter)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.end == len(self.buffer):  # never hand out an empty buffer (asyncio treats it as EOF)
            self.overflow.append(bytes(self.view[: self.end]))
            self.end = 0
        return self.view[self.end :]

    def buffer_updated(self, nbytes: int) -> None:
        self.end += nbytes
        if self.end == len(self.buffer):
            if self.lending and self.ready is None:
                self.ready = self.buffer
                self._swap()
            else:
                self._pause()
        _resolve(self.waiter)

    def _swap(self) -> None:
        """Receive into another buffer (one given back, or a new one) from now on."""
        self.buffer = self.pool.take(READ_BYTES)
        self.view = memoryview(self.buffer)
        self._emptied()

    def has_data(self) -> bool:
        return bool(self.end or self.overflow or self.ready is not None)

    def take(self) -> bytes:
        """Everything received and not yet read, as one chunk; the buffer is then empty again."""
        self.lending = False
        if self.ready is not None:  # the oldest bytes
            self.overflow.insert(0, self.ready)
            self.ready = None
        chunk = b"".join([*self.overflow, self.view[: self.end]])
        self.overflow.clear()
        self._emptied()
        return chunk

    def lend(self) -> memoryview | bytes:
        """:meth:`take`, but a chunk of :data:`LEND_BYTES` or more is a receive buffer itself (lent,
        see :mod:`.lent`): receiving goes on into a buffer given back, or a new one."""
        if self.overflow:
            return self.take()
        self.lending = True
        if self.ready is not None:  # the oldest bytes: a full buffer
            chunk = memoryview(self.ready)
            self.ready = None
            if self.paused:  # the current one is full too: it waits in turn, receiving resumes
                self.ready = self.buffer
                self._swap()
            return chunk
        if self.end < LEND_BYTES:  # a small chunk of a lent body: copied, still lending
            small = self.take()
            self.lending = True
            return small
        chunk = self.view[: self.end]
        self._swap()
        return chunk

    def _pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def _emptied(self) -> None:
        self.end = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def release(self) -> None:
        """The stream was closed: no timer, and no receive buffers (a small one takes whatever a closing
        TLS transport still delivers), so that nothing that still refers to this protocol (a traceback,
        a reference cycle) keeps a megabyte alive."""
        self.disarm()
        self.pool.stop()
        self.buffer = LentBuffer(4096, self.pool)
        self.view = memoryview(self.buffer)
        self.end = 0
        self.ready = None
        self.overflow.clear()
        self.eof = True

    def eof_received(self) -> bool:
        self.eof = True
        _resolve(self.waiter)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self.transport = None  # the transport refers to this protocol: no cycle left behind
        _resolve(self.waiter)
        self.disarm()
        _resolve(self.drain_waiter)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        _resolve(self.drain_waiter)

    def arm(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        """The current wait times out ``timeout`` seconds from now (``None``: never). The timer is kept
        while deadlines only move later (one read after another) and made again when one moves earlier:
        a wait never inherits an earlier wait's longer (or missing) timeout."""
        self.deadline = math.inf if timeout is None else loop.time() + timeout
        if self.timer is not None and self.timer.when() > self.deadline:
            self.disarm()
        if self.timer is None and self.deadline != math.inf:
            self.timer = loop.call_at(self.deadline, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if loop.time() >= self.deadline:
            waiter.set_exception(TimeoutError())
        elif self.deadline != math.inf:  # data came, and a later wait set a later deadline
            self.timer = loop.call_at(self.deadline, self._expire, loop)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class AsyncioStream(httpcore.AsyncNetworkStream):
    """An httpcore network stream over an asyncio transport and :class:`_Protocol`."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Everything received so far as one chunk (it may exceed ``max_bytes``: h11 takes any amount)."""
        await self._received(timeout)
        return self._protocol.take()

    async def read_lent(self, timeout: float | None = None) -> memoryview | bytes:
        """:meth:`read`, but a large chunk is lent rather than copied (see :mod:`.lent`): the
        caller hands it to a file writer that gives it back, or keeps a copy of what it needs."""
        await self._received(timeout)
        return self._protocol.lend()

    def stop_lending(self) -> None:
        """The lending body ended: buffers given back from now on are dropped (see :mod:`.lent`)."""
        self._protocol.lending = False
        self._protocol.pool.stop()

    async def _received(self, timeout: float | None) -> None:
        """Wait until there is data or the end of the stream."""
        protocol = self._protocol
        while not protocol.has_data():
            if protocol.eof:
                if protocol.error is not None:
                    raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
                return
            loop = asyncio.get_running_loop()
            protocol.waiter = loop.create_future()
            protocol.arm(loop, timeout)
            try:
                await protocol.waiter
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out waiting for data") from None
            finally:
                protocol.waiter = None

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
        self._close()

    def _close(self) -> None:
        self._transport.close()
        self._protocol.release()

    def close_now(self) -> None:
        """Close from any thread, without awaiting (a client dropped unclosed, collected anywhere)."""
        loop = self._loop
        if loop.is_closed():
            return
        if _running_loop() is loop:
            self._close()
        else:
            loop.call_soon_threadsafe(self._close)

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self._protocol.disarm()
        protocol = _Protocol()
        try:
            async with asyncio.timeout(timeout):
                transport = await asyncio.get_running_loop().start_tls(
                    self._transport, protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except OSError as exc:  # ssl.SSLError too
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the TLS handshake ended without a transport")
        protocol.connection_made(transport)
        _read_tls_in_large_reads(transport)
        return AsyncioStream(transport, protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle pooled connection that got data or EOF is stale
            return self._protocol.has_data() or self._protocol.eof
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        return self._transport.get_extra_info(name)


def _read_tls_in_large_reads(transport: asyncio.Transport) -> None:
    """Let asyncio's TLS layer read up to :data:`READ_BYTES` of ciphertext at once (not 256 KiB).
    ``_ssl_protocol`` and ``SSLProtocol.max_size`` are private to asyncio (CPython 3.11 to 3.14);
    tests/test_transport.py fails if they move, and without them reads stay smaller but correct."""
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is not None and isinstance(getattr(ssl_protocol, "max_size", None), int):
        ssl_protocol.max_size = max(ssl_protocol.max_size, READ_BYTES)


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # e.g. trio, or another thread
        return None


#: What this backend needs of a loop's transports.
_TRANSPORT_METHODS = ("write", "close", "is_closing", "pause_reading", "resume_reading", "get_extra_info")


class AsyncioBackend(httpcore.AnyIOBackend):
    """httpcore's network backend on asyncio (and uvloop); other event loops get httpcore's default
    (the base class), and so does a loop whose transports lack what this one needs (:attr:`lean`)."""

    def __init__(self) -> None:
        #: False once a loop's transport fell short: every connection then uses the fallback.
        self.lean = True

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = _running_loop()
        if not self.lean or loop is None:
            return await super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        missing = [name for name in _TRANSPORT_METHODS if not callable(getattr(transport, name, None))]
        if missing or protocol.transport is not transport:
            transport.close()
            self.lean = False
            logger.debug(
                "%s's transports lack %s: using httpcore's own network backend",
                type(loop).__name__,
                ", ".join(missing) or "connection_made",
            )
            return await super().connect_tcp(host, port, timeout, local_address, socket_options)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)
