"""Thin sync and async drivers: they do the I/O that :class:`~._core.DownloadCore` decides.

The two classes mirror each other line for line and hold no decisions of their own; every choice
(retry or raise, resume or restart, how long to wait, whether a body is complete) is the core's.

:meth:`SyncDriver.chunks` yields the body's chunks exactly as the transport delivers them (no
re-chunking, apart from the few bytes a :class:`~._core.Head` holds back) and ``None`` when new
content starts from byte 0 (the consumer discards what it holds).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any, Final

import httpx

from ..engine.bodies import BoundedBody
from ..engine.core import (
    DONE,
    ERROR_BODY_LIMIT,
    OVERLAP,
    Check,
    DownloadCore,
    Fail,
    ReadBody,
    Retry,
    Stream,
    Verdict,
)
from ..engine.retry import log_retry
from ..errors import UnexpectedContentError
from ..fastio._common import UNTIL
from ..fastio.lent import LEND
from .threads import until_done

#: Request extension that tells :class:`~._transport.RetryTransport` to leave retries to the driver.
NO_TRANSPORT_RETRY: Final = "openrouter_video.no_retry"

#: Verifies the bytes kept so far (the sink's box walk and digests); blocking.
CheckKept = Callable[[], Verdict]


def _build(
    http: httpx.Client | httpx.AsyncClient, request: dict[str, Any], core: DownloadCore, lend: bool = False
) -> httpx.Request:
    return build_request(http, request, core.request_headers(), core.time_left(), lend=lend)


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    request: dict[str, Any],
    headers: dict[str, str],
    left: float | None,
    *,
    lend: bool = False,
) -> httpx.Request:
    """The request for ``request`` (the generated ``_get_kwargs``) with ``headers``, no transport
    retries, and every timeout capped by ``left`` seconds (what is left of the call's deadline).
    ``lend``: the body's chunks may be lent receive buffers (see :mod:`.fastio.lent`)."""
    timeout: Any = http.timeout
    if left is not None:  # no single wait may outlast the call's deadline
        t = http.timeout
        timeout = httpx.Timeout(
            connect=_cap(t.connect, left),
            read=_cap(t.read, left),
            write=_cap(t.write, left),
            pool=_cap(t.pool, left),
        )
    extensions: dict[str, Any] = {NO_TRANSPORT_RETRY: True}
    if left is not None:  # and the whole request too, a head that trickles in included
        extensions[UNTIL] = time.monotonic() + max(left, 0.0)
    if lend:
        extensions[LEND] = True
    return http.build_request(**request, headers=headers, timeout=timeout, extensions=extensions)


def _cap(value: float | None, left: float) -> float:
    return left if value is None else min(value, left)


def read_bounded(response: httpx.Response) -> bytes:
    """The body of a response that is not the video, at most :data:`~._core.ERROR_BODY_LIMIT`
    bytes decoded (empty if it cannot be read)."""
    try:
        body = BoundedBody(response.headers.get("content-encoding"), ERROR_BODY_LIMIT)
    except UnexpectedContentError:
        return b""
    try:
        for chunk in response.iter_raw():
            if not body.feed(chunk):
                break
    except httpx.HTTPError:
        pass
    return body.body()


async def aread_bounded(response: httpx.Response) -> bytes:
    """:func:`read_bounded` for the async client."""
    try:
        body = BoundedBody(response.headers.get("content-encoding"), ERROR_BODY_LIMIT)
    except UnexpectedContentError:
        return b""
    try:
        async for chunk in response.aiter_raw():
            if not body.feed(chunk):
                break
    except httpx.HTTPError:
        pass
    return body.body()


class _Recent:
    """The last chunks passed on, covering at least :data:`OVERLAP` bytes: references to ``bytes``
    chunks (no copies), and a copy of the last :data:`OVERLAP` bytes of any other (a lent receive
    buffer, see :mod:`.fastio.lent`, is reused once written)."""

    __slots__ = ("chunks", "size")

    def __init__(self, seed: bytes) -> None:
        self.chunks: deque[bytes] = deque([seed] if seed else [])
        self.size = len(seed)

    def add(self, chunk: bytes) -> None:
        if type(chunk) is not bytes:
            chunk = bytes(chunk[-OVERLAP:])
        chunks = self.chunks
        chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(chunks[0]) >= OVERLAP:
            self.size -= len(chunks.popleft())

    def clear(self) -> None:
        self.chunks.clear()
        self.size = 0

    def last(self) -> bytes:
        return b"".join(self.chunks)[-OVERLAP:]


class SyncDriver:
    """Runs a :class:`DownloadCore` over an :class:`httpx.Client`.

    ``lend``: the chunks may be lent receive buffers (see :mod:`.fastio.lent`), for a consumer that writes
    them with a :class:`~._files.PartialFile` (which gives them back) and keeps no reference.
    """

    def __init__(
        self,
        http: httpx.Client,
        request: dict[str, Any],
        core: DownloadCore,
        sleep: Any,
        check: CheckKept | None = None,
        *,
        lend: bool = False,
    ) -> None:
        self.http, self.request, self.core = http, request, core
        self.lend = lend
        self.sleep = sleep or time.sleep
        self.check = check
        self._response: httpx.Response | None = None
        self._stream: Stream | None = None
        self._opened = False
        self._recent = _Recent(core.tail)

    def open(self) -> None:
        """Send requests until one answers with the video (raises the core's error otherwise)."""
        self._opened = True
        self._response, self._stream = self._until_stream()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    @property
    def response(self) -> httpx.Response | None:
        """After :meth:`open`: the response whose body is read next (``None`` when there is none)."""
        return self._response

    def _until_stream(self) -> tuple[httpx.Response | None, Stream | None]:
        core = self.core
        while True:
            try:
                built = _build(self.http, self.request, core, self.lend)
                response = self.http.send(built, stream=True)
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # e.g. a redirect to javascript:
                action: Any = core.on_request_error(exc)
            else:
                action = core.on_response(response.status_code, response.headers)
                if isinstance(action, Stream):
                    return response, action
                try:
                    if isinstance(action, ReadBody):
                        body = read_bounded(response)
                        action = core.on_error_body(response.status_code, response.headers, body)
                finally:
                    response.close()
            if action is DONE:
                return None, None
            self._wait(action)

    def _wait(self, action: Retry | Fail) -> None:
        if isinstance(action, Fail):
            raise action.error
        log_retry(self.core.what, action.reason, self.core.attempts, action.delay, resume=action.resume)
        if action.delay > 0:
            self.sleep(action.delay)

    def _settle(self, action: Any) -> Any:
        while isinstance(action, Check):
            action = self.core.on_verdict(self.check() if self.check is not None else Verdict())
        return action

    def chunks(self) -> Iterator[bytes | None]:
        """The body's chunks as they arrive, resuming transparently; ``None`` means "from byte 0"."""
        if not self._opened:
            self.open()
        core, recent = self.core, self._recent
        while True:
            response, stream = self._response, self._stream
            if response is None or stream is None:
                return
            # New content replaces what is kept only once its first bytes passed the head's checks
            # (a 200 that is an HTML page never wipes a kept partial).
            fresh = stream.fresh
            if fresh:
                recent.clear()
            head = stream.head if stream.head is not None and not stream.head.passed else None
            watchdog = core.watchdog()
            tick = watchdog.tick
            received = 0
            error: Exception | None = None
            try:
                for chunk in response.iter_raw():
                    if head is not None:
                        chunk = head.feed(chunk)
                        if head.failed:
                            break
                        if head.passed:
                            head = None
                    # The length is taken before the chunk is handed on: a lent chunk may be written
                    # and given back (its view released) before this generator resumes.
                    size = len(chunk)
                    if chunk:
                        if fresh:
                            fresh = False
                            yield None
                        received += size
                        recent.add(chunk)
                        yield chunk
                    if tick(size):
                        error = watchdog.reason
                        break
                else:
                    if head is not None and (chunk := head.end()):
                        if fresh:
                            fresh = False
                            yield None
                        received += len(chunk)
                        recent.add(chunk)
                        yield chunk
            except httpx.RequestError as exc:
                error = exc
            finally:
                self.close()
            action = self._settle(core.on_body_end(received, error, stream.head, recent.last()))
            error = None  # its traceback holds this frame: no reference cycle left behind
            if action is DONE:
                return
            self._wait(action)
            self._response, self._stream = self._until_stream()


class AsyncDriver:
    """Runs a :class:`DownloadCore` over an :class:`httpx.AsyncClient` (mirrors SyncDriver)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        request: dict[str, Any],
        core: DownloadCore,
        sleep: Any,
        check: CheckKept | None = None,
        *,
        lend: bool = False,
    ) -> None:
        self.http, self.request, self.core = http, request, core
        self.lend = lend
        self.sleep = sleep or asyncio.sleep
        self.check = check
        self._response: httpx.Response | None = None
        self._stream: Stream | None = None
        self._opened = False
        self._recent = _Recent(core.tail)

    async def open(self) -> None:
        """Send requests until one answers with the video (raises the core's error otherwise)."""
        self._opened = True
        self._response, self._stream = await self._until_stream()

    async def close(self) -> None:
        if self._response is not None:
            await self._response.aclose()
            self._response = None

    @property
    def response(self) -> httpx.Response | None:
        """:attr:`SyncDriver.response`."""
        return self._response

    async def _until_stream(self) -> tuple[httpx.Response | None, Stream | None]:
        core = self.core
        while True:
            try:
                built = _build(self.http, self.request, core, self.lend)
                response = await self.http.send(built, stream=True)
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # e.g. a redirect to javascript:
                action: Any = core.on_request_error(exc)
            else:
                action = core.on_response(response.status_code, response.headers)
                if isinstance(action, Stream):
                    return response, action
                try:
                    if isinstance(action, ReadBody):
                        body = await aread_bounded(response)
                        action = core.on_error_body(response.status_code, response.headers, body)
                finally:
                    await response.aclose()
            if action is DONE:
                return None, None
            await self._wait(action)

    async def _wait(self, action: Retry | Fail) -> None:
        if isinstance(action, Fail):
            raise action.error
        log_retry(self.core.what, action.reason, self.core.attempts, action.delay, resume=action.resume)
        if action.delay > 0:
            result = self.sleep(action.delay)
            if inspect.isawaitable(result):
                await result

    async def _settle(self, action: Any) -> Any:
        while isinstance(action, Check):
            verdict = await until_done(self.check) if self.check is not None else Verdict()
            action = self.core.on_verdict(verdict)
        return action

    async def chunks(self) -> AsyncGenerator[bytes | None, None]:
        """The body's chunks as they arrive, resuming transparently; ``None`` means "from byte 0"."""
        if not self._opened:
            await self.open()
        core, recent = self.core, self._recent
        while True:
            response, stream = self._response, self._stream
            if response is None or stream is None:
                return
            # New content replaces what is kept only once its first bytes passed the head's checks
            # (a 200 that is an HTML page never wipes a kept partial).
            fresh = stream.fresh
            if fresh:
                recent.clear()
            head = stream.head if stream.head is not None and not stream.head.passed else None
            watchdog = core.watchdog()
            tick = watchdog.tick
            received = 0
            error: Exception | None = None
            try:
                async for chunk in response.aiter_raw():
                    if head is not None:
                        chunk = head.feed(chunk)
                        if head.failed:
                            break
                        if head.passed:
                            head = None
                    # The length is taken before the chunk is handed on: a lent chunk may be written
                    # and given back (its view released) before this generator resumes.
                    size = len(chunk)
                    if chunk:
                        if fresh:
                            fresh = False
                            yield None
                        received += size
                        recent.add(chunk)
                        yield chunk
                    if tick(size):
                        error = watchdog.reason
                        break
                else:
                    if head is not None and (chunk := head.end()):
                        if fresh:
                            fresh = False
                            yield None
                        received += len(chunk)
                        recent.add(chunk)
                        yield chunk
            except httpx.RequestError as exc:
                error = exc
            finally:
                await self.close()
            action = await self._settle(core.on_body_end(received, error, stream.head, recent.last()))
            error = None
            if action is DONE:
                return
            await self._wait(action)
            self._response, self._stream = await self._until_stream()
