"""Thin sync and async drivers: they do the I/O that :class:`~._core.DownloadCore` decides.

The two classes mirror each other line for line and hold no decisions of their own; every choice
(retry or raise, resume or restart, how long to wait) is the core's.

:meth:`SyncDriver.chunks` yields the body's chunks exactly as the transport delivers them (no
re-chunking) and ``None`` when what was yielded before must be discarded (a restart).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, Iterator
from typing import Any, Final

import httpx

from ._core import DONE, ERROR_BODY_LIMIT, DownloadCore, Fail, ReadBody, Retry, Stream
from ._retry import log_retry

#: Request extension that tells :class:`~._transport.RetryTransport` to leave retries to the driver.
NO_TRANSPORT_RETRY: Final = "openrouter_video.no_retry"


def _build(
    http: httpx.Client | httpx.AsyncClient, request: dict[str, Any], core: DownloadCore
) -> httpx.Request:
    return http.build_request(
        **request, headers=core.request_headers(), extensions={NO_TRANSPORT_RETRY: True}
    )


class SyncDriver:
    """Runs a :class:`DownloadCore` over an :class:`httpx.Client`."""

    def __init__(self, http: httpx.Client, request: dict[str, Any], core: DownloadCore, sleep: Any) -> None:
        self.http, self.request, self.core = http, request, core
        self.sleep = sleep or time.sleep
        self._response: httpx.Response | None = None
        self._restart = False

    def open(self) -> None:
        """Send requests until one answers with the video (raises the core's error otherwise)."""
        self._response, self._restart = self._until_stream()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def _until_stream(self) -> tuple[httpx.Response, bool]:
        core = self.core
        while True:
            try:
                response = self.http.send(_build(self.http, self.request, core), stream=True)
            except httpx.RequestError as exc:
                action: Any = core.on_request_error(exc)
            else:
                action = core.on_response(response.status_code, response.headers)
                if isinstance(action, Stream):
                    return response, action.restart
                try:
                    if isinstance(action, ReadBody):
                        body = self._read_bounded(response)
                        action = core.on_error_body(response.status_code, response.headers, body)
                finally:
                    response.close()
            self._wait(action)

    @staticmethod
    def _read_bounded(response: httpx.Response) -> bytes:
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        return bytes(body[:ERROR_BODY_LIMIT])

    def _wait(self, action: Retry | Fail) -> None:
        if isinstance(action, Fail):
            raise action.error
        log_retry(self.core.what, action.reason, self.core.attempts, action.delay)
        if action.delay > 0:
            self.sleep(action.delay)

    def chunks(self) -> Iterator[bytes | None]:
        """The body's chunks as they arrive, resuming transparently; ``None`` means "discard"."""
        if self._response is None:
            self.open()
        core = self.core
        while True:
            response, restart = self._response, self._restart
            assert response is not None
            if restart:
                yield None
            received = 0
            error: Exception | None = None
            try:
                for chunk in response.iter_raw():
                    received += len(chunk)
                    yield chunk
            except httpx.RequestError as exc:
                error = exc
            finally:
                self.close()
            action = core.on_body_end(received, error)
            if action is DONE:
                return
            self._wait(action)  # type: ignore[arg-type]
            self._response, self._restart = self._until_stream()


class AsyncDriver:
    """Runs a :class:`DownloadCore` over an :class:`httpx.AsyncClient` (mirrors SyncDriver)."""

    def __init__(
        self, http: httpx.AsyncClient, request: dict[str, Any], core: DownloadCore, sleep: Any
    ) -> None:
        self.http, self.request, self.core = http, request, core
        self.sleep = sleep or asyncio.sleep
        self._response: httpx.Response | None = None
        self._restart = False

    async def open(self) -> None:
        """Send requests until one answers with the video (raises the core's error otherwise)."""
        self._response, self._restart = await self._until_stream()

    async def close(self) -> None:
        if self._response is not None:
            await self._response.aclose()
            self._response = None

    async def _until_stream(self) -> tuple[httpx.Response, bool]:
        core = self.core
        while True:
            try:
                response = await self.http.send(_build(self.http, self.request, core), stream=True)
            except httpx.RequestError as exc:
                action: Any = core.on_request_error(exc)
            else:
                action = core.on_response(response.status_code, response.headers)
                if isinstance(action, Stream):
                    return response, action.restart
                try:
                    if isinstance(action, ReadBody):
                        body = await self._read_bounded(response)
                        action = core.on_error_body(response.status_code, response.headers, body)
                finally:
                    await response.aclose()
            await self._wait(action)

    @staticmethod
    async def _read_bounded(response: httpx.Response) -> bytes:
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        return bytes(body[:ERROR_BODY_LIMIT])

    async def _wait(self, action: Retry | Fail) -> None:
        if isinstance(action, Fail):
            raise action.error
        log_retry(self.core.what, action.reason, self.core.attempts, action.delay)
        if action.delay > 0:
            result = self.sleep(action.delay)
            if inspect.isawaitable(result):
                await result

    async def chunks(self) -> AsyncGenerator[bytes | None, None]:
        """The body's chunks as they arrive, resuming transparently; ``None`` means "discard"."""
        if self._response is None:
            await self.open()
        core = self.core
        while True:
            response, restart = self._response, self._restart
            assert response is not None
            if restart:
                yield None
            received = 0
            error: Exception | None = None
            try:
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    yield chunk
            except httpx.RequestError as exc:
                error = exc
            finally:
                await self.close()
            action = core.on_body_end(received, error)
            if action is DONE:
                return
            await self._wait(action)  # type: ignore[arg-type]
            self._response, self._restart = await self._until_stream()
