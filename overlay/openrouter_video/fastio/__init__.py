"""The network I/O of this package's own clients: HTTP/1.1 connections, their pool and transport
(``_async/http11.py``; ``_sync/http11.py`` is generated from it by ``scripts/unasync.py``), on the
network backends of :mod:`.asyncio_backend` and :mod:`.socket_backend` (large reads), and receive
buffers lent to the file writer (:mod:`.lent`).

Built on httpcore's and httpx's public extension points and used only by the transports made below, it
changes nothing for any other httpx or httpcore user in the process. Requests through a proxy use
httpx's own transports (see :mod:`..io.transport`).
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

from ._async.http11 import AsyncTransport
from ._sync.http11 import Transport
from .asyncio_backend import AsyncioBackend
from .socket_backend import LargeReadBackend

__all__ = ["AsyncTransport", "Transport", "async_transport", "ssl_context", "sync_transport"]
_Verify = ssl.SSLContext | str | bool


def ssl_context(verify: _Verify) -> ssl.SSLContext:
    """The TLS context for ``verify``, as httpx reads it: an :class:`ssl.SSLContext` as it is, a CA
    bundle file or directory, True (certifi's CAs, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) or False
    (no verification): those two made once per process (loading the CAs takes ~20 ms), for every client."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return _default_context(bool(verify), os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _default_context(verify: bool, *environment: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify)


def sync_transport(verify: _Verify = True, limits: httpx.Limits | None = None) -> Transport:
    """A transport for direct requests, on :class:`~.socket_backend.LargeReadBackend`."""
    return Transport(LargeReadBackend(), ssl_context(verify), limits)


def async_transport(verify: _Verify = True, limits: httpx.Limits | None = None) -> AsyncTransport:
    """A transport for direct requests, on :class:`~.asyncio_backend.AsyncioBackend` (httpcore's own
    backend under other event loops)."""
    return AsyncTransport(AsyncioBackend(), ssl_context(verify), limits)
