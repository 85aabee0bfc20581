"""The high-level clients: :class:`VideoClient` (sync) and :class:`AsyncVideoClient` (async).

Both build their requests with the generated ``openrouter_video_api`` endpoint functions and parse
error bodies with its models; the generated :class:`~openrouter_video_api.AuthenticatedClient` stays
reachable as ``client.api`` for direct calls, which go through the same retrying transport.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx
from openrouter_video_api import AuthenticatedClient
from openrouter_video_api.api.video_generation import list_videos_content

from . import jobs
from ._aio import async_http_transport
from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._core import DownloadCore, connection_error
from ._drivers import AsyncDriver, SyncDriver
from ._files import AtomicFile, resolve_destination
from ._retry import RetryPolicy
from ._transport import RetryTransport
from .errors import ConfigurationError, RateLimitError
from .jobs import JobWaiter, VideoJob, VideoModelInfo

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "ApiClient",
    "AsyncVideoClient",
    "AsyncVideoStream",
    "DownloadResult",
    "ProgressCallback",
    "VideoClient",
    "VideoStream",
]

#: ``on_progress(done, total)``: bytes written so far and the size (``None`` when unknown).
ProgressCallback = Callable[[int, int | None], None]

#: Redirects followed before giving up.
MAX_REDIRECTS = 5
#: Seconds between status polls in ``wait``.
DEFAULT_POLL_INTERVAL = 5.0
#: Seconds ``wait`` waits for a job before :class:`~openrouter_video.errors.VideoJobTimeoutError`.
DEFAULT_WAIT_TIMEOUT = 1800.0


class ApiClient(AuthenticatedClient):
    """The generated :class:`AuthenticatedClient`, with a repr that never shows the API key."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, token='***')"


@dataclass(frozen=True)
class DownloadResult:
    """What :meth:`VideoClient.download` wrote.

    Attributes:
        path: The file written.
        size: Its size in bytes.
        content_type: The response's media type, e.g. ``"video/mp4"``.
        attempts: HTTP requests made, retries and resumes included.
        resumes: Range requests that continued a cut download.
        sha256: Hex SHA-256 of the file, computed while streaming, when ``checksum="sha256"``.
    """

    path: Path
    size: int
    content_type: str | None
    attempts: int
    resumes: int
    sha256: str | None = None


class _Progress:
    """Calls ``callback(done, total)`` at most every ``interval`` seconds, and once at the end."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self.callback = callback
        self.interval = interval
        self._next = 0.0

    def update(self, done: int, total: int | None, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if force or now >= self._next:
            self._next = now + self.interval
            self.callback(done, total)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _DownloadJob:
    """Consumes a driver's chunks into an :class:`AtomicFile` (shared by sync and async).

    ``None`` from the driver means "restart": the file is emptied and progress goes back to 0.
    """

    def __init__(self, core: DownloadCore, sink: AtomicFile, on_progress: ProgressCallback | None):
        self.core = core
        self.sink = sink
        self.progress = _Progress(on_progress)

    def offer(self, chunk: bytes) -> bool:
        """Take ``chunk`` without blocking; False if the writer is behind (then call :meth:`wait`)."""
        accepted = self.sink.add(chunk)
        self.progress.update(self.sink.size, self.core.total)
        return accepted

    def wait(self) -> None:
        """After :meth:`offer` returned False: wait until the writer has taken the full batch."""
        self.sink.flush()

    async def wait_async(self) -> None:
        """:meth:`wait` without blocking the event loop: the writer thread wakes it up."""
        loop = asyncio.get_running_loop()
        while True:
            room: asyncio.Future[None] = loop.create_future()

            def wake(room: asyncio.Future[None] = room) -> None:
                loop.call_soon_threadsafe(_resolve, room)

            if self.sink.try_flush(wake):
                return
            await room

    def restart(self) -> None:
        """Discard what was written; progress goes back to 0."""
        self.sink.restart()
        self.progress.update(0, self.core.total, force=True)

    def feed(self, chunk: bytes | None) -> None:
        """Take ``chunk`` (``None``: restart), waiting while the writer is behind."""
        if chunk is None:
            self.restart()
        elif not self.offer(chunk):
            self.wait()

    def finish(self) -> DownloadResult:
        """Wait for the writer, check the size and move the file into place."""
        self.sink.commit(self.core.total)
        self.progress.update(self.sink.size, self.core.total, force=True)
        return DownloadResult(
            path=self.sink.path,
            size=self.sink.size,
            content_type=self.core.content_type,
            attempts=self.core.attempts,
            resumes=self.core.resumes,
            sha256=self.sink.sha256,
        )


class _ClientBase:
    """Configuration shared by :class:`VideoClient` and :class:`AsyncVideoClient`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 60.0,
        *,
        verify: ssl.SSLContext | str | bool = True,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        key = api_key or os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(
                f"no OpenRouter API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
            )
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        args: dict[str, Any] = {
            "transport": self._transport(self.retry, verify),
            "max_redirects": MAX_REDIRECTS,
        }
        args.update(httpx_args or {})
        #: The generated client (``openrouter_video_api``) for direct calls; same key, retries, timeout.
        self.api = ApiClient(
            base_url=self.base_url,
            token=key,
            timeout=self.timeout,
            verify_ssl=verify,
            follow_redirects=True,
            httpx_args=args,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @staticmethod
    def _transport(policy: RetryPolicy, verify: ssl.SSLContext | str | bool) -> RetryTransport:
        """The retrying transport; each client builds its own kind of inner transport up front."""
        raise NotImplementedError

    def _core(self, job_id: str, index: int, *, can_restart: bool) -> tuple[DownloadCore, dict[str, Any]]:
        request = list_videos_content._get_kwargs(job_id, index=index)
        core = DownloadCore(
            self.retry,
            what=f"GET /videos/{job_id}/content?index={index}",
            parse_model=lambda response: (
                list_videos_content._build_response(client=self.api, response=response).parsed
            ),
            can_restart=can_restart,
        )
        return core, request

    def _poll_call(self, waiter: JobWaiter) -> jobs.Call:
        call = jobs.get_call(self.api, waiter.job.id)
        url = waiter.poll_url()
        if url is not None:  # follow the job's own polling_url (same origin only)
            call.request = {"method": "get", "url": url}
        return call

    @staticmethod
    def _output_dir(dest_dir: str | os.PathLike[str]) -> Path:
        path = Path(dest_dir)
        if not path.is_dir():  # checked before a paid job is submitted
            raise NotADirectoryError(f"not an existing directory: {path}")
        return path

    @staticmethod
    def _sink(
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        overwrite: bool,
        checksum: Literal["sha256"] | None,
    ) -> AtomicFile:
        if checksum not in (None, "sha256"):
            raise ValueError(f"checksum must be None or 'sha256', not {checksum!r}")
        path = resolve_destination(dest, job_id, index, overwrite)
        return AtomicFile(path, overwrite=overwrite, sha256=checksum == "sha256")


class _StreamState:
    """What :class:`VideoStream` and :class:`AsyncVideoStream` report, read from the core."""

    _core: DownloadCore

    @property
    def content_type(self) -> str | None:
        """The media type of the video."""
        return self._core.content_type

    @property
    def total(self) -> int | None:
        """Its size in bytes, when the server told it."""
        return self._core.total

    @property
    def attempts(self) -> int:
        """Requests made so far."""
        return self._core.attempts

    @property
    def resumes(self) -> int:
        """Resumed range requests so far."""
        return self._core.resumes


class VideoStream(_StreamState):
    """An open video response (from :meth:`VideoClient.stream`) that resumes transparently."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._core = driver.core

    def iter_bytes(self) -> Iterator[bytes]:
        """The video's bytes, in the transport's chunks; a cut is resumed where it stopped.

        Raises :class:`~openrouter_video.errors.IncompleteDownloadError` when the server cannot
        continue the same content (bytes already yielded cannot be taken back).
        """
        for chunk in self._driver.chunks():
            if chunk is not None:  # a restart is impossible here: the core fails instead
                yield chunk

    def __enter__(self) -> VideoStream:
        self._driver.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._driver.close()


class AsyncVideoStream(_StreamState):
    """The async twin of :class:`VideoStream` (from :meth:`AsyncVideoClient.stream`)."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._core = driver.core

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The video's bytes, in the transport's chunks; a cut is resumed where it stopped."""
        async with aclosing(self._driver.chunks()) as chunks:
            async for chunk in chunks:
                if chunk is not None:
                    yield chunk

    async def __aenter__(self) -> AsyncVideoStream:
        await self._driver.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._driver.close()


class VideoClient(_ClientBase):
    """Downloads generated videos from OpenRouter, resuming and retrying; use it as a context manager.

    Args:
        api_key: The OpenRouter API key; defaults to ``$OPENROUTER_API_KEY``. Without either,
            :class:`~openrouter_video.errors.ConfigurationError` is raised.
        base_url: The API root; defaults to ``$OPENROUTER_BASE_URL``, then the server in
            openapi.yaml (``https://openrouter.ai/api/v1``).
        retry: The :class:`RetryPolicy`.
        timeout: Seconds allowed to connect and between bytes (or an :class:`httpx.Timeout`); a
            stalled body times out and is resumed.
        verify: TLS verification, as for httpx: True (the system's CAs), a CA bundle path, an
            :class:`ssl.SSLContext`, or False.
        httpx_args: Extra arguments for the underlying :class:`httpx.Client`.
    """

    @staticmethod
    def _transport(policy: RetryPolicy, verify: ssl.SSLContext | str | bool) -> RetryTransport:
        # Built now, not on the first request: creating the TLS context takes ~20 ms.
        return RetryTransport(policy, verify=verify, transport=httpx.HTTPTransport(verify=verify))

    def download(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        *,
        index: int = 0,
        overwrite: bool = False,
        on_progress: ProgressCallback | None = None,
        checksum: Literal["sha256"] | None = None,
    ) -> DownloadResult:
        """Download output ``index`` of job ``job_id`` to ``dest`` atomically.

        ``dest`` is a file path or an existing directory (the file is then ``<job_id>.mp4``, or
        ``<job_id>-<index>.mp4``). The body streams into a temporary file beside the destination,
        which replaces it only when complete; on any failure the destination is untouched and the
        temporary file removed. Raises :class:`FileExistsError` / :class:`FileNotFoundError` before
        any request, and the :mod:`openrouter_video.errors` exceptions after retries.
        """
        core, request = self._core(job_id, index, can_restart=True)
        with self._sink(job_id, dest, index, overwrite, checksum) as sink:
            job = _DownloadJob(core, sink, on_progress)
            driver = SyncDriver(self.api.get_httpx_client(), request, core, self.retry.sleep)
            try:
                for chunk in driver.chunks():
                    job.feed(chunk)
            finally:
                driver.close()
            return job.finish()

    def stream(self, job_id: str, *, index: int = 0) -> VideoStream:
        """Open output ``index`` of ``job_id`` for streaming; use as ``with client.stream(...) as v``."""
        core, request = self._core(job_id, index, can_restart=False)
        return VideoStream(SyncDriver(self.api.get_httpx_client(), request, core, self.retry.sleep))

    # -- the whole flow: submit, wait, download ----------------------------------------------------------
    def _call(self, call: jobs.Call) -> Any:
        try:
            response = self.api.get_httpx_client().request(**call.request)
        except httpx.RequestError as exc:
            raise connection_error(exc, call.what) from exc
        return call.result(response)

    def generate(self, model: str, prompt: str | None = None, **options: Any) -> VideoJob:
        """Submit a video generation job (``POST /videos``, answered 202) and return it.

        ``options`` are the request's other fields, passed through as the spec allows: duration,
        resolution, aspect_ratio, size, frame_images, input_references, generate_audio, seed,
        callback_url, provider, ... This creates a paid job, so it is never retried once the request
        may have reached the server: only a failure to connect and 429 responses are retried.
        """
        return self._call(jobs.create_call(self.api, model, prompt, options))  # type: ignore[no-any-return]

    def get_job(self, job_id: str) -> VideoJob:
        """The job's current state (``GET /videos/{jobId}``)."""
        return self._call(jobs.get_call(self.api, job_id))  # type: ignore[no-any-return]

    def list_models(self) -> list[VideoModelInfo]:
        """The video generation models (``GET /videos/models``)."""
        return self._call(jobs.models_call(self.api))  # type: ignore[no-any-return]

    def wait(
        self,
        job: VideoJob | str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_status: Callable[[VideoJob], None] | None = None,
    ) -> VideoJob:
        """Poll until the job completes and return it.

        Follows the job's ``polling_url`` (relative or absolute, on the API's origin only), calls
        ``on_status(job)`` when the status changes, waits out a 429's Retry-After, and keeps waiting
        through statuses it does not know. Raises
        :class:`~openrouter_video.errors.VideoJobFailedError` when the job ends ``failed``,
        ``cancelled`` or ``expired``, and :class:`~openrouter_video.errors.VideoJobTimeoutError`
        after ``timeout`` seconds.
        """
        waiter = JobWaiter(
            job, self.base_url, poll_interval=poll_interval, timeout=timeout, on_status=on_status
        )
        sleep = self.retry.sleep or time.sleep
        while True:
            try:
                polled: VideoJob = self._call(self._poll_call(waiter))
            except RateLimitError as exc:
                delay = waiter.on_rate_limited(exc)
            else:
                next_delay = waiter.on_job(polled)
                if next_delay is None:
                    return polled
                delay = next_delay
            sleep(delay)

    def generate_and_download(
        self,
        dest_dir: str | os.PathLike[str],
        *,
        model: str,
        prompt: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_status: Callable[[VideoJob], None] | None = None,
        on_progress: ProgressCallback | None = None,
        overwrite: bool = False,
        checksum: Literal["sha256"] | None = None,
        **options: Any,
    ) -> list[DownloadResult]:
        """Submit a job, wait for it, and download every output into the existing ``dest_dir``.

        Output *i* (0 <= i < ``len(job.unsigned_urls)``, at least one) goes to ``<job_id>.mp4`` /
        ``<job_id>-<i>.mp4`` with the resumable :meth:`download`.
        """
        directory = self._output_dir(dest_dir)
        done = self.wait(
            self.generate(model, prompt, **options),
            poll_interval=poll_interval,
            timeout=timeout,
            on_status=on_status,
        )
        return [
            self.download(
                done.id, directory, index=i, overwrite=overwrite, on_progress=on_progress, checksum=checksum
            )
            for i in range(max(1, done.outputs))
        ]

    def close(self) -> None:
        """Close the connections."""
        self.api.get_httpx_client().close()

    def __enter__(self) -> VideoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncVideoClient(_ClientBase):
    """The async twin of :class:`VideoClient`: same arguments, same behaviour, awaitable methods."""

    @staticmethod
    def _transport(policy: RetryPolicy, verify: ssl.SSLContext | str | bool) -> RetryTransport:
        # Built now, not on the first request: creating the TLS context takes ~20 ms, and the async
        # stack (anyio, used by httpcore's locks) takes ~15 ms to import.

        return RetryTransport(policy, verify=verify, async_transport=async_http_transport(verify))

    async def download(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        *,
        index: int = 0,
        overwrite: bool = False,
        on_progress: ProgressCallback | None = None,
        checksum: Literal["sha256"] | None = None,
    ) -> DownloadResult:
        """Download output ``index`` of ``job_id`` to ``dest``; see :meth:`VideoClient.download`."""
        core, request = self._core(job_id, index, can_restart=True)
        with self._sink(job_id, dest, index, overwrite, checksum) as sink:
            job = _DownloadJob(core, sink, on_progress)
            driver = AsyncDriver(self.api.get_async_httpx_client(), request, core, self.retry.sleep)
            try:
                async with aclosing(driver.chunks()) as chunks:
                    async for chunk in chunks:
                        if chunk is None:
                            await asyncio.to_thread(job.restart)
                        elif not job.offer(chunk):  # the disk is behind: wait for the writer
                            await job.wait_async()
            finally:
                await driver.close()
            return await asyncio.to_thread(job.finish)

    def stream(self, job_id: str, *, index: int = 0) -> AsyncVideoStream:
        """Open output ``index`` of ``job_id``; use as ``async with client.stream(...) as v``."""
        core, request = self._core(job_id, index, can_restart=False)
        return AsyncVideoStream(
            AsyncDriver(self.api.get_async_httpx_client(), request, core, self.retry.sleep)
        )

    # -- the whole flow: submit, wait, download ----------------------------------------------------------
    async def _call(self, call: jobs.Call) -> Any:
        try:
            response = await self.api.get_async_httpx_client().request(**call.request)
        except httpx.RequestError as exc:
            raise connection_error(exc, call.what) from exc
        return call.result(response)

    async def generate(self, model: str, prompt: str | None = None, **options: Any) -> VideoJob:
        """Submit a video generation job; see :meth:`VideoClient.generate` (never retried once sent)."""
        return await self._call(jobs.create_call(self.api, model, prompt, options))  # type: ignore[no-any-return]

    async def get_job(self, job_id: str) -> VideoJob:
        """The job's current state (``GET /videos/{jobId}``)."""
        return await self._call(jobs.get_call(self.api, job_id))  # type: ignore[no-any-return]

    async def list_models(self) -> list[VideoModelInfo]:
        """The video generation models (``GET /videos/models``)."""
        return await self._call(jobs.models_call(self.api))  # type: ignore[no-any-return]

    async def wait(
        self,
        job: VideoJob | str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_status: Callable[[VideoJob], None] | None = None,
    ) -> VideoJob:
        """Poll until the job completes; see :meth:`VideoClient.wait`."""
        waiter = JobWaiter(
            job, self.base_url, poll_interval=poll_interval, timeout=timeout, on_status=on_status
        )
        sleep = self.retry.sleep or asyncio.sleep
        while True:
            try:
                polled: VideoJob = await self._call(self._poll_call(waiter))
            except RateLimitError as exc:
                delay = waiter.on_rate_limited(exc)
            else:
                next_delay = waiter.on_job(polled)
                if next_delay is None:
                    return polled
                delay = next_delay
            result = sleep(delay)
            if inspect.isawaitable(result):
                await result

    async def generate_and_download(
        self,
        dest_dir: str | os.PathLike[str],
        *,
        model: str,
        prompt: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_status: Callable[[VideoJob], None] | None = None,
        on_progress: ProgressCallback | None = None,
        overwrite: bool = False,
        checksum: Literal["sha256"] | None = None,
        **options: Any,
    ) -> list[DownloadResult]:
        """Submit, wait, download every output; see :meth:`VideoClient.generate_and_download`."""
        directory = self._output_dir(dest_dir)
        done = await self.wait(
            await self.generate(model, prompt, **options),
            poll_interval=poll_interval,
            timeout=timeout,
            on_status=on_status,
        )
        return [
            await self.download(
                done.id, directory, index=i, overwrite=overwrite, on_progress=on_progress, checksum=checksum
            )
            for i in range(max(1, done.outputs))
        ]

    async def aclose(self) -> None:
        """Close the connections."""
        await self.api.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncVideoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
