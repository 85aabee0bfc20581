"""Response bodies with a known length read straight from the network stream, past h11's buffer.

h11 copies every body byte four times on its way up (into its receive buffer, two slices out of it,
and httpcore's ``bytes(event.data)``), each a fresh allocation: with the megabyte chunks of this
package's network streams that is about a page fault per 4 KiB received, and most of the CPU time of
a download after TLS. For a body framed by ``Content-Length`` there is nothing to parse, so this
reader hands the network stream's chunks over as they are and only keeps h11's count of the bytes
left (``ContentLengthReader._remaining``) in step. Everything else goes through h11 as before:
headers, chunked and close-delimited bodies, whatever h11 already buffered, the end of the message
(so that the connection is reused or closed exactly as before), a peer that closes early (h11
raises its usual error) and bytes beyond the body (handed to h11 to judge).

It replaces ``_receive_response_body`` of httpcore's ``HTTP11Connection`` and
``AsyncHTTP11Connection`` (private; httpcore is pinned below 2 and h11 below 1), and takes the direct
path only for connections on this package's own network streams (:mod:`._sync`, :mod:`._aio`):
every other httpcore user in the process keeps the original method's behaviour. If a seam it relies
on is missing it stays on the original path; tests/test_fastbody.py fails if a seam moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import h11
import httpcore
from h11._readers import ContentLengthReader
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._sync.http11 import HTTP11Connection

from ._lent import LEND

#: Most bytes asked of the stream per read (this package's streams return at most 1 MiB anyway).
READ_BYTES: Final = 1024 * 1024

_original_sync = HTTP11Connection._receive_response_body
_original_async = AsyncHTTP11Connection._receive_response_body
_sync_streams: tuple[type, ...] = ()
_async_streams: tuple[type, ...] = ()


def seams_present() -> bool:
    """Whether h11 and httpcore still have what the direct reader relies on."""
    connection = h11.Connection(h11.CLIENT)
    reader = ContentLengthReader(1)
    return (
        hasattr(reader, "_remaining")
        and hasattr(connection, "_reader")
        and hasattr(connection, "_receive_buffer")
        and hasattr(connection, "_receive_buffer_closed")
        and all(
            hasattr(cls, name)
            for cls in (HTTP11Connection, AsyncHTTP11Connection)
            for name in ("_receive_response_body", "_receive_event")
        )
    )


def _direct(state: h11.Connection) -> Any:
    """h11's reader when the rest of the body can be read past it, else None."""
    reader = getattr(state, "_reader", None)
    if (
        type(reader) is ContentLengthReader
        and reader._remaining > 0
        and state.their_state is h11.SEND_BODY
        and not state._receive_buffer
        and not state._receive_buffer_closed
    ):
        return reader
    return None


def _take(state: h11.Connection, reader: Any, data: Any) -> Any:
    """Count ``data`` as body; anything beyond the body's end goes to h11."""
    remaining = reader._remaining
    if len(data) > remaining:
        state.receive_data(data[remaining:])
        data = data[:remaining]
    reader._remaining = remaining - len(data)
    return data


def _receive_response_body(self: HTTP11Connection, request: httpcore.Request) -> Iterator[bytes]:
    if not isinstance(self._network_stream, _sync_streams):
        yield from _original_sync(self, request)
        return
    timeout = request.extensions.get("timeout", {}).get("read", None)
    state = self._h11_state
    stream: Any = self._network_stream
    # A download's chunks may be the stream's receive buffers themselves (see ._lent).
    read_lent = stream.read_lent if request.extensions.get(LEND) else None
    try:
        while True:
            reader = _direct(state)
            if reader is not None:
                if read_lent is not None:
                    data = read_lent(timeout=timeout)
                else:
                    data = stream.read(READ_BYTES, timeout=timeout)
                if data:
                    yield _take(state, reader, data)
                    continue
                state.receive_data(b"")  # closed before the end: h11 raises its usual error below
            event = self._receive_event(timeout=timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, (h11.EndOfMessage, h11.PAUSED)):
                break
    finally:
        if read_lent is not None:
            stream.stop_lending()  # an idle connection keeps no lent buffers


async def _areceive_response_body(
    self: AsyncHTTP11Connection, request: httpcore.Request
) -> AsyncIterator[bytes]:
    if not isinstance(self._network_stream, _async_streams):
        async for chunk in _original_async(self, request):
            yield chunk
        return
    timeout = request.extensions.get("timeout", {}).get("read", None)
    state = self._h11_state
    stream: Any = self._network_stream
    # A download's chunks may be the stream's receive buffers themselves (see ._lent).
    read_lent = stream.read_lent if request.extensions.get(LEND) else None
    try:
        while True:
            reader = _direct(state)
            if reader is not None:
                if read_lent is not None:
                    data = await read_lent(timeout=timeout)
                else:
                    data = await stream.read(READ_BYTES, timeout=timeout)
                if data:
                    yield _take(state, reader, data)
                    continue
                state.receive_data(b"")
            event = await self._receive_event(timeout=timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, (h11.EndOfMessage, h11.PAUSED)):
                break
    finally:
        if read_lent is not None:
            stream.stop_lending()  # an idle connection keeps no lent buffers


def install(*, sync_stream: type | None = None, async_stream: type | None = None) -> bool:
    """Read bodies directly on connections over ``sync_stream`` / ``async_stream`` (idempotent).
    False (and nothing changed) if a seam is missing."""
    global _sync_streams, _async_streams
    if not seams_present():
        return False
    if sync_stream is not None and sync_stream not in _sync_streams:
        _sync_streams = (*_sync_streams, sync_stream)
        HTTP11Connection._receive_response_body = _receive_response_body  # type: ignore[method-assign]
    if async_stream is not None and async_stream not in _async_streams:
        _async_streams = (*_async_streams, async_stream)
        AsyncHTTP11Connection._receive_response_body = _areceive_response_body  # type: ignore[method-assign]
    return True
