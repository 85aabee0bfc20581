"""A sync network backend for httpcore with fewer, larger reads, used by the sync client's transport.

httpcore's own sync stream reads at most 64 KiB per call and sets the socket's timeout before every
read (an extra syscall). Each read then makes a full trip through httpcore, h11 and httpx, so a
gigabyte arrives in 16,384 trips over HTTP and 65,536 over HTTPS (one 16 KiB TLS record per read).
This stream sets the timeout only when it changes, reads up to :data:`READ_BYTES` from a plain
socket at once, and over TLS drains the records that are already waiting (without blocking) into
one chunk, so that the trips per gigabyte fall to about a thousand. h11 accepts chunks of any size.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any, Final

import httpcore

from ._common import READ_BYTES
from .lent import LEND_BYTES, Pool

_TLS_RECORD: Final = 16 * 1024 + 512

_UNSET: Final = object()


class LargeReadStream(httpcore.NetworkStream):
    """An httpcore network stream over a (TLS) socket that returns large chunks."""

    def __init__(self, sock: socket.socket, timeout: Any = _UNSET) -> None:
        self._sock = sock
        self._timeout = timeout
        self._view: memoryview | None = None
        #: Buffers given back after being lent (see :mod:`.lent`), for reuse.
        self._buffers = Pool()

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        size = self._receive(timeout)
        assert self._view is not None
        return bytes(self._view[:size])

    def read_lent(self, timeout: float | None = None) -> memoryview | bytes:
        """:meth:`read`, but a chunk of :data:`~.lent.LEND_BYTES` or more is the receive buffer itself,
        lent (see :mod:`.lent`): the next read receives into a buffer given back, or a new one."""
        size = self._receive(timeout)
        view = self._view
        assert view is not None
        if size < LEND_BYTES:
            return bytes(view[:size])
        self._view = memoryview(self._buffers.take(READ_BYTES))
        return view[:size]

    def stop_lending(self) -> None:
        """The lending body ended: buffers given back from now on are dropped (see :mod:`.lent`)."""
        self._buffers.stop()

    def _receive(self, timeout: float | None) -> int:
        """Receive into the buffer (from its start): the number of bytes, 0 at the end of the stream."""
        sock = self._sock
        size = 0
        try:
            self._set_timeout(timeout)
            if self._view is None:  # one buffer per connection, reused for every read
                self._view = memoryview(self._buffers.take(READ_BYTES))
            view = self._view
            if not isinstance(sock, ssl.SSLSocket):
                # recv(READ_BYTES) would allocate a fresh megabyte (often mmap'd) per read and
                # shrink it: page faults on every read. Receiving into a warm buffer avoids that.
                return sock.recv_into(view)
            size = more = sock.recv_into(view, _TLS_RECORD)
            sock.settimeout(0.0)  # more whole records already here: take them, not wait for one en route
            try:
                while more and size <= READ_BYTES - _TLS_RECORD and (sock.pending() or _readable(sock)):
                    more = sock.recv_into(view[size:], _TLS_RECORD)
                    size += more
            except ssl.SSLWantReadError:
                pass
            finally:
                sock.settimeout(self._timeout)
        except OSError as exc:
            if size:  # what came before the wait or the error is data; the next read raises again
                return size
            raise _mapped(exc, httpcore.ReadTimeout, httpcore.ReadError) from exc
        return size

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._set_timeout(timeout)
            self._sock.sendall(buffer)
        except OSError as exc:
            raise _mapped(exc, httpcore.WriteTimeout, httpcore.WriteError) from exc

    def close(self) -> None:
        self._buffers.stop()
        self._view = None  # no megabyte kept alive by whatever still refers to this stream
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        if isinstance(self._sock, ssl.SSLSocket):  # TLS in TLS: proxies use httpx's own transports
            raise httpcore.ConnectError("this stream does not carry TLS over TLS")
        try:
            self._set_timeout(timeout)
            sock = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except OSError as exc:
            self.close()
            raise _mapped(exc, httpcore.ConnectTimeout, httpcore.ConnectError) from exc
        return LargeReadStream(sock)

    def get_extra_info(self, info: str) -> Any:
        sock = self._sock
        if info in ("socket", "ssl_object"):  # an SSLSocket has what an SSLObject has (version, cipher...)
            return sock if info == "socket" or isinstance(sock, ssl.SSLSocket) else None
        if info == "is_readable":  # an idle pooled connection that got data or EOF is stale
            return _readable(sock)
        getters = {"client_addr": sock.getsockname, "server_addr": sock.getpeername}
        return getters[info]() if info in getters else None


def _mapped(exc: OSError, timeout: type[Exception], error: type[Exception]) -> Exception:
    """``exc`` as httpcore's ``timeout`` (for a :class:`TimeoutError`) or ``error``."""
    if isinstance(exc, TimeoutError):
        return timeout(str(exc) or "timed out")
    return error(str(exc) or type(exc).__name__)


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class LargeReadBackend(httpcore.SyncBackend):
    """httpcore's sync backend, its streams replaced by :class:`LargeReadStream`."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            sock = socket.create_connection(
                (host, port), timeout, source_address=None if local_address is None else (local_address, 0)
            )
        except OSError as exc:
            raise _mapped(exc, httpcore.ConnectTimeout, httpcore.ConnectError) from exc
        for option in socket_options or ():
            sock.setsockopt(*option)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return LargeReadStream(sock, timeout)
