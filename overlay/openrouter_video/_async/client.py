"""The client and its streams (async source): ``scripts/unasync.py`` writes the sync ones from it.
Where sync and async truly differ, the code calls the paired :class:`~..io.primitives.AsyncRuntime`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Unpack

import httpx

from .._base import (
    DEFAULT_CONCURRENT_OUTPUTS,
    DEFAULT_EXPIRY_MARGIN,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    MAX_CONCURRENT_OUTPUTS,
    MAX_REFRESHES,
    DownloadResult,
    OutputProgressCallback,
    ProgressCallback,
    Source,
    _choose,
    _ClientBase,
    _connections,
    _DownloadJob,
    _From,
    _Outputs,
    _Progress,
    _refreshed,
    _refused,
    _Segmented,
    _StreamState,
    _Target,
    _whole,
)
from ..engine.bodies import BoundedBody
from ..engine.retry import logger
from ..engine.segments import Connections, Upgrade, Watch
from ..errors import (
    APIStatusError,
    DeadlineExceededError,
    GoneError,
    OpenRouterVideoError,
    RateLimitError,
    VideoExpiredError,
    VideoJobTimeoutError,
)
from ..io._async.download import AsyncDriver, run_segments
from ..io.files import PartialFile, ensure_directory, resolve_destination
from ..io.http import failure, path_of
from ..io.journal import DEFAULT_PARTIAL_TTL
from ..io.primitives import AsyncRuntime
from ..io.scrub import scrub, scrubbed
from ..io.segment_file import SegmentFile

if TYPE_CHECKING:  # the jobs, the spec checks and the generated package: imported on first use
    from .. import jobs
    from .._options import GenerateOptions
    from ..jobs import VideoJob, VideoModelInfo


class AsyncVideoStream(_StreamState):
    """An open video response (from :meth:`AsyncVideoClient.stream`) that resumes transparently."""

    def __init__(self, driver: AsyncDriver | None, opener: Any = None) -> None:
        self._opener = opener  # fetches the job first: the source depends on its URLs
        if driver is not None:
            self._attach(driver)

    def _attach(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._core = driver.core
        self._hashes: dict[str, Any] = {}
        driver.check = self._verdict

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        """The video's bytes, in the transport's chunks; a cut is resumed where it stopped.

        Raises :class:`~openrouter_video.errors.IncompleteDownloadError` when the server cannot
        continue the same content (bytes already yielded cannot be taken back), and
        :class:`~openrouter_video.errors.IntegrityError` at the end when the bytes do not match a
        digest the server sent.
        """
        try:
            async with aclosing(self._driver.chunks()) as chunks:
                async for chunk in chunks:
                    if chunk is None:  # new content from byte 0 (a restart fails in the core instead)
                        self._reset_digests()
                        continue
                    for digest in self._hashes.values():
                        digest.update(chunk)
                    yield chunk
        except BaseException as exc:  # caught inside the with-block, it must not carry the key
            scrub(exc)
            raise

    @scrubbed
    async def __aenter__(self) -> AsyncVideoStream:
        if self._opener is not None:
            self._attach(await self._opener())
        await self._driver.open()
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            scrub(exc)  # what the with-block raised: the key is not reachable from it
        await self._driver.aclose()


class AsyncVideoClient(_ClientBase):
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
        httpx_args: Extra arguments for the underlying :class:`httpx.AsyncClient`.
    """

    _runtime = AsyncRuntime

    @scrubbed
    async def download(
        self,
        job: VideoJob | str,
        dest: str | os.PathLike[str],
        *,
        index: int = 0,
        source: Source = "auto",
        overwrite: bool = False,
        on_progress: ProgressCallback | None = None,
        checksum: Literal["sha256"] | None = None,
        deadline: float | None = None,
        durable: bool = True,
        keep_partial: bool = True,
        partial_ttl: float | None = DEFAULT_PARTIAL_TTL,
        max_connections: int | None = None,
    ) -> DownloadResult:
        """Download output ``index`` of ``job`` (a :class:`VideoJob` or its id) to ``dest``
        atomically, resuming as needed.

        ``source``: ``"auto"`` (the default) takes the job's signed URL to OpenRouter's stored copy
        (``job.urls[index]``) while it has not expired, else the content endpoint; given only a job
        id, it first fetches the job (one ``GET /videos/{id}``). ``"signed"`` takes only the signed URL
        (:class:`~openrouter_video.errors.VideoExpiredError` when it expired,
        :class:`~openrouter_video.errors.InvalidRequestError` when there is none), ``"api"`` only the
        content endpoint, with no extra request. A signed URL is fetched by a client with no key; when
        it is refused (403 or 401, or 400 saying it expired), the job is fetched again for a fresh one
        (at most twice; ``"auto"`` falls back to the content endpoint), and the download resumes from
        its bytes by the origin switch rule of :meth:`~.engine.core.DownloadCore.resume` (the total
        size and the overlap bytes must match; never a splice). A 410 from the content endpoint raises
        :class:`~openrouter_video.errors.VideoExpiredError` with the date. :attr:`DownloadResult.source`
        says which source served the file.

        ``dest`` is a file path, or a directory (an existing one or a path ending in ``/``; a missing
        one is created, as by ``wget -P``, and a file in the way raises :class:`NotADirectoryError`
        naming it) where the file is ``<job_id>.mp4`` or ``<job_id>-<index>.mp4`` (see
        :func:`~openrouter_video.safe_filename`). The body streams into ``.<name>.part`` beside the
        destination, which replaces it only once complete and proven so (:attr:`DownloadResult.verified`).

        If the call fails (an exception, Ctrl-C, a signal turned into an exception, a cancel), the
        destination is untouched and the partial file and its state file are kept: the exception's
        ``partial_path`` names it, and the next download of the same output to the same destination
        continues from it. ``keep_partial=False`` deletes them instead. Partials in the destination's
        directory older than ``partial_ttl`` seconds (``None``: never) and not being downloaded are
        removed when a download starts there, at most once a minute per directory.

        ``deadline``: seconds the whole call may take (retries and waits included), else
        :class:`~openrouter_video.errors.DeadlineExceededError`. ``durable``: fsync the file before
        it is renamed into place and the directory after, so that a power loss never leaves an
        empty or short file under the destination's name.

        ``max_connections``: fetch the video as byte ranges over up to this many connections at once
        (1 to 16; ``None``, the default: up to 4), for links that cap each connection. Every download
        starts as one stream. When the server takes ranges (``Accept-Ranges: bytes``, 2 MiB or more, a
        strong ETag or a Last-Modified date), a number given here opens that many ranges at once, the
        first stream going on as the first of them; the default waits until the stream is out of slow
        start, then adds connections unless a probe's first answer waited in a full queue (see
        docs/api.md). Every range keeps the safety rules of a single stream, and a content change seen
        by any of them starts the whole file again over one connection. The partial records every
        range, so a later call continues each one (even with ``max_connections=1``). ``1`` is one
        stream, exactly.

        Raises :class:`FileExistsError` / :class:`FileNotFoundError` before any request,
        :class:`~openrouter_video.errors.DownloadLockedError` when another process is downloading to
        the same destination, and the :mod:`openrouter_video.errors` exceptions after retries.
        """
        job_id = job if isinstance(job, str) else job.id
        target = _Target(
            job_id, dest, index, overwrite, checksum, durable, keep_partial, partial_ttl, on_progress
        )
        known = None if isinstance(job, str) else job
        end = self._deadline(deadline)
        return await self._download_file(target, _connections(max_connections), end, source, known)

    async def _download_file(
        self,
        target: _Target,
        connections: Connections,
        end: float | None,
        source: Source,
        job: VideoJob | None,
    ) -> DownloadResult:
        """Choose the source (fetching the job when ``auto`` needs its URLs), download by the clock
        time ``end``, and when a signed URL (or a redirect's) is refused, fetch the job again and go
        on from the partial."""
        _choose(None, target.index, source)  # a wrong source, a bad job id or destination: refused
        self._core(target, _From(), can_restart=True)  # before any request
        resolve_destination(target.dest, target.job_id, target.index, target.overwrite)
        # Kept across refreshes; keep_partial=False applies at the end, to a partial this call made.
        keep = target if target.keep_partial else replace(target, keep_partial=True)
        fetched = False
        try:
            if job is None and source != "api":
                job = await self.get_job(target.job_id, timeout=self._left(end))
            frm = _From() if job is None else _choose(job, target.index, source)
            refreshes = 0
            while True:
                try:
                    fetched = True
                    result = await self._fetch(keep, connections, end, frm)
                    return replace(result, source=frm.source, refreshes=refreshes)
                except OpenRouterVideoError as exc:
                    if isinstance(exc, GoneError) and frm.url is None:  # the output is no more
                        raise VideoExpiredError(target.job_id, frm.expires_at, f" ({exc})") from exc
                    if not _refused(exc, frm.source) or refreshes >= MAX_REFRESHES:
                        raise
                    refreshes += 1
                    logger.warning("%s; fetching the job again for a fresh URL", exc)
                    try:
                        job = await self.get_job(target.job_id, timeout=self._left(end))
                    except OpenRouterVideoError:
                        raise exc from None
                    frm = _refreshed(job, target.index, source, frm, exc)
        except BaseException as exc:
            if keep is not target and fetched:
                await AsyncRuntime.to_thread(self._drop_partial, target, exc)
            raise

    async def _fetch(
        self, target: _Target, connections: Connections, end: float | None, frm: _From
    ) -> DownloadResult:
        """One stream first; by ranges when it is slow (or a segmented partial is kept here); one
        stream again from byte 0 when the ranges must give up."""
        upgrade: Upgrade | None = None
        kept = self._segmented_partial(target)
        if kept is not None and kept != frm.origin:
            # Ranges kept from another origin: their validators mean nothing here. The gap-free
            # prefix goes on as one stream, by the switch rule (the total and the overlap).
            await AsyncRuntime.to_thread(self._partial(SegmentFile, target).keep_as_single)
            kept = None
        if kept is None:
            done = await self._download_one(target, frm, end, connections)
            if isinstance(done, DownloadResult):
                return done
            upgrade = done  # one stream was too slow: its partial goes on by ranges
        result = await self._download_segmented(target, frm, end, connections, upgrade)
        if result is not None:
            return result
        done = await self._download_one(target, frm, end, Connections(1))
        assert isinstance(done, DownloadResult)
        return done

    async def _download_one(
        self, target: _Target, frm: _From, end: float | None, connections: Connections
    ) -> DownloadResult | Upgrade:
        """Download from ``frm`` over one stream, by the clock time ``end``. With more than one
        connection and a first answer worth splitting (see :func:`~..engine.segments.worth_segmenting`),
        a stream that the ramp splits stops being written here: its partial is kept, and the
        :class:`Upgrade` returned carries the ramp and the live body, which the caller's ranges go on with."""
        core, request = self._core(target, frm, can_restart=True, deadline=end)
        # Made on the event loop (a lock, a state file, a directory listing: milliseconds), so that a
        # cancel can never leave it behind half made, with its lock held.
        with self._partial(PartialFile, target) as sink:
            job = _DownloadJob(core, sink, target.on_progress)
            # The chunks only go to the sink, which gives lent receive buffers back once written.
            sleep = target.sleep(self.retry.sleep)
            driver = AsyncDriver(self._http(frm), request, core, sleep, sink.check, lend=True)
            watch: Watch | None = None
            upgrade: Upgrade | None = None
            try:
                if connections.most > 1 and sink.resumable is None:
                    await AsyncRuntime.warm_up()  # not in the first answer's time, which the ramp uses
                    asked = self.retry.clock()
                    await driver.open()
                    rtt = self.retry.clock() - asked
                    path = path_of(driver.response)
                    watch = Watch(core, self.retry.clock, job.resumed_from, connections, rtt, path)
                    watch = watch.start(driver.response, sink.size)
                async with aclosing(driver.chunks()) as chunks:
                    async for chunk in chunks:
                        if chunk is None:
                            await AsyncRuntime.to_thread(job.restart)
                            watch = watch.restarted(sink.size) if watch is not None else None
                        elif not job.offer(chunk):  # the disk is behind: wait for the writer
                            await AsyncRuntime.wait_room(sink)
                        target.check_cancel()
                        if chunk is not None and watch is not None and (upgrade := watch.upgrade(sink.size)):
                            upgrade.live = driver.detach()  # this stream goes on as the first range
                            break
            finally:
                await driver.aclose()
            if upgrade is None:
                return await AsyncRuntime.commit(job.finish)
            try:
                sink.abort(keep=True)  # the bytes so far: the first range of the segmented download
            except BaseException:
                await upgrade.live.aclose()
                raise
            return upgrade

    async def _download_segmented(
        self,
        target: _Target,
        frm: _From,
        end: float | None,
        connections: Connections,
        upgrade: Upgrade | None,
    ) -> DownloadResult | None:
        """Fetch the video from ``frm`` by ranges, by the clock time ``end``: continue the segmented
        partial at ``dest``, or (``upgrade``) the single stream's partial this call just kept.
        ``None``: one stream must go on."""
        live = None if upgrade is None else upgrade.live
        try:
            core, request = self._core(target, frm, can_restart=True, deadline=end)
            # No sweep when taking over the partial this call just kept (a tiny partial_ttl would take it).
            sink = self._partial(
                SegmentFile, target if upgrade is None else replace(target, partial_ttl=None)
            )
        except BaseException:
            if live is not None:
                await live.aclose()
            raise
        run = _Segmented(self.retry, core, sink)
        try:
            # Off the loop: turning a kept partial into a segmented one may fsync it (durable).
            segments = await AsyncRuntime.to_thread(run.begin, connections, upgrade)
            if segments is None:
                return None
            progress = _Progress(target.on_progress)
            total = segments.total
            handed, live = live, None  # run_segments closes it
            outcome = await run_segments(
                self._http(frm),
                request,
                segments,
                sink,
                target.sleep(self.retry.sleep),
                lambda: progress.update(lambda: segments.plan.received, total),
                target.cancel,
                handed,
            )
            result = await AsyncRuntime.commit(run.finish, segments, outcome, upgrade)
            if result is not None:
                progress.update(total, total, force=True)
            return result
        except BaseException as exc:  # Ctrl-C and a cancel too: the caller learns what was kept
            kept = sink.abort()
            if kept is not None:
                with suppress(AttributeError):
                    exc.partial_path = kept  # type: ignore[attr-defined]
            raise
        finally:
            if live is not None:  # the ranges did not start
                await live.aclose()

    def stream(self, job: VideoJob | str, *, index: int = 0, source: Source = "auto") -> AsyncVideoStream:
        """Open output ``index`` of ``job`` (a :class:`VideoJob` or its id) for streaming: ``async
        with client.stream(...) as video``, then iterate ``video.aiter_bytes()``. ``source`` is that
        of :meth:`download` (given only an id, ``auto`` fetches the job when the stream opens); a
        stream does not refresh a signed URL refused mid-way (:meth:`download` does)."""
        job_id = job if isinstance(job, str) else job.id
        known = None if isinstance(job, str) else job
        _choose(None, index, source)
        if known is None and source != "api":

            async def opener() -> AsyncDriver:
                return self._stream_driver(job_id, index, _choose(await self.get_job(job_id), index, source))

            return AsyncVideoStream(None, opener)
        return AsyncVideoStream(self._stream_driver(job_id, index, _choose(known, index, source)))

    def _stream_driver(self, job_id: str, index: int, frm: _From) -> AsyncDriver:
        core, request = self._core(_Target(job_id, "", index), frm, can_restart=False)
        return AsyncDriver(self._http(frm), request, core, self.retry.sleep)

    # -- the whole flow: submit, wait, download ----------------------------------------------------------
    async def _call(self, call: jobs.Call, timeout: float | None = None) -> Any:
        if timeout is not None:
            call.deadline = self._deadline(timeout)
        http = self.api.get_async_httpx_client()
        try:
            response = await http.send(
                call.build(http, self.retry.clock), stream=True, follow_redirects=call.follow_redirects
            )
            try:
                body = BoundedBody(response.headers.get("content-encoding"), call.limit(response.status_code))
                async for chunk in response.aiter_raw():
                    if not body.feed(chunk):
                        break
            finally:
                await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if isinstance(exc, httpx.TimeoutException) and self._past(call):
                raise DeadlineExceededError(
                    f"{call.what}: the call's timeout passed ({type(exc).__name__})"
                ) from exc
            raise failure(exc).error(call.what) from exc
        status = response.status_code
        try:
            return call.result(status, response.headers, body.body(), truncated=body.truncated)
        except APIStatusError as exc:
            # The transport stops retrying when its next wait would end past the deadline.
            if status in self.retry.retry_statuses and self._past(call, exc.retry_after or 0.0):
                raise DeadlineExceededError(
                    f"{call.what}: the call's timeout would pass before the next retry ({exc})"
                ) from exc
            raise

    @scrubbed
    async def generate(
        self,
        model: str,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **options: Unpack[GenerateOptions],
    ) -> VideoJob:
        """Submit a video generation job (``POST /videos``, answered 202) and return it.

        ``options`` are the request's other fields, typed by :class:`~openrouter_video.GenerateOptions`
        (written from the spec). They, ``model`` and ``prompt`` are checked against the spec before
        anything is sent: an unknown name (the message suggests the likely one), a wrong type, a value
        outside the spec's enum (the message lists the allowed values) or below its minimum, or a
        ``callback_url`` that is not ``https://`` raises
        :class:`~openrouter_video.errors.InvalidRequestError`, and no request is made.

        ``extra_body`` is merged into the JSON body as is, unchecked: for fields this version does
        not know, or values newer than its enums. A key given both there and as an argument raises
        :class:`~openrouter_video.errors.InvalidRequestError` (neither silently wins).

        This creates a paid job, so it is never retried once the request may have reached the
        server: only a failure to connect and 429 responses are retried, and a redirect is never
        followed (it raises an :class:`~openrouter_video.errors.APIStatusError` naming the
        Location). ``timeout`` bounds the whole call, retries included.
        """
        call = self._jobs.create_call(self.api, model, prompt, options, extra_body)
        return await self._call(call, timeout)  # type: ignore[no-any-return]

    @scrubbed
    async def get_job(self, job_id: str, *, timeout: float | None = None) -> VideoJob:
        """The job's current state (``GET /videos/{jobId}``); ``timeout`` bounds the whole call,
        retries included (:class:`~openrouter_video.errors.DeadlineExceededError`)."""
        return await self._call(self._jobs.get_call(self.api, job_id), timeout)  # type: ignore[no-any-return]

    @scrubbed
    async def list_models(self, *, timeout: float | None = None) -> list[VideoModelInfo]:
        """The video generation models (``GET /videos/models``); ``timeout`` as for :meth:`get_job`."""
        return await self._call(self._jobs.models_call(self.api), timeout)  # type: ignore[no-any-return]

    @scrubbed
    async def wait(
        self,
        job: VideoJob | str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_status: Callable[[VideoJob], None] | None = None,
        expiry_margin: float = DEFAULT_EXPIRY_MARGIN,
    ) -> VideoJob:
        """Poll until the job completes and return it.

        When the completed job's stored copy expires (``expires_at``) less than ``expiry_margin``
        seconds from now, a warning is logged on the ``openrouter_video`` logger: the time a
        download is expected to take (0: never warn).

        Follows the job's ``polling_url`` (relative or absolute, on the API's origin only), calls
        ``on_status(job)`` when the status changes, waits out a 429's Retry-After, and keeps waiting
        through statuses it does not know. Raises
        :class:`~openrouter_video.errors.VideoJobFailedError` when the job ends ``failed``,
        ``cancelled`` or ``expired``, and :class:`~openrouter_video.errors.VideoJobTimeoutError`
        after ``timeout`` seconds.
        """
        waiter = self._jobs.JobWaiter(
            job,
            self.base_url,
            poll_interval=poll_interval,
            timeout=timeout,
            on_status=on_status,
            clock=self.retry.clock,
        )
        while True:
            try:
                polled: VideoJob = await self._call(self._poll_call(waiter))
            except RateLimitError as exc:
                delay = waiter.on_rate_limited(exc)
            except DeadlineExceededError as exc:
                raise VideoJobTimeoutError(waiter.job, timeout) from exc
            else:
                next_delay = waiter.on_job(polled)
                if next_delay is None:
                    self._jobs.warn_expiry(polled, expiry_margin)
                    return polled
                delay = next_delay
            await AsyncRuntime.sleep(delay, self.retry.sleep)

    @scrubbed
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
        deadline: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        max_connections: int | None = None,
        concurrent_outputs: int = DEFAULT_CONCURRENT_OUTPUTS,
        on_output_progress: OutputProgressCallback | None = None,
        source: Source = "auto",
        expiry_margin: float = DEFAULT_EXPIRY_MARGIN,
        **options: Unpack[GenerateOptions],
    ) -> list[DownloadResult]:
        """Submit a job, wait for it, and download every output into ``dest_dir`` (created if missing).

        Output *i* (0 <= i < ``len(job.unsigned_urls)``, at least one) goes to ``<job_id>.mp4`` /
        ``<job_id>-<i>.mp4`` with the resumable :meth:`download`, up to ``concurrent_outputs`` of
        them at once (1 to 16; 1: one after another): tasks on the running event loop for the async
        client, threads for the sync one. The results come in output order. When one fails the
        others still run to their end (their files are in place, or their partials kept), then the
        first failure is raised. Cancelling the call (Ctrl-C for the sync client) stops them all at
        their next chunk or retry wait, keeping their partials (a sync read stalled on a silent
        server ends at its read timeout). ``deadline``: seconds the whole call may take (the wait
        and every download), else :class:`~openrouter_video.errors.DeadlineExceededError` (or
        :class:`~openrouter_video.errors.VideoJobTimeoutError` while waiting).

        ``on_output_progress(index, done, total)`` reports each output's progress, saying which;
        ``on_progress(done, total)`` reports the sum over all outputs (``total`` is ``None`` until
        every output's is known). Both may be called from the download threads, one call at a time.

        ``options`` and ``extra_body`` are those of :meth:`generate`, checked the same way before
        the job is submitted (``timeout`` here bounds the wait, not the submission);
        ``previous_job_id`` continues a completed job. ``max_connections`` and ``source`` are those
        of :meth:`download`, for each output, and ``expiry_margin`` that of :meth:`wait`.
        """
        self._jobs.request_body(model, prompt, options, extra_body)  # refused before a directory is made
        _choose(None, 0, source)
        connections = _connections(max_connections)
        parallel = _whole("concurrent_outputs", concurrent_outputs, MAX_CONCURRENT_OUTPUTS)
        directory = ensure_directory(dest_dir)  # made (or refused) before a paid job is submitted
        end = self._deadline(deadline)
        done = await self.wait(
            await self.generate(model, prompt, extra_body=extra_body, **options),
            poll_interval=poll_interval,
            timeout=timeout if end is None else max(0.0, min(timeout, end - self.retry.clock())),
            on_status=on_status,
            expiry_margin=expiry_margin,
        )
        count = max(1, done.outputs)
        outputs = _Outputs(count, on_progress, on_output_progress)
        cancel = AsyncRuntime.cancel_event()

        async def one(i: int) -> DownloadResult:
            target = _Target(done.id, directory, i, overwrite, checksum, on_progress=outputs.callback(i))
            return await self._download_file(replace(target, cancel=cancel), connections, end, source, done)

        outcomes = await AsyncRuntime.each(count, parallel, one, cancel)
        for _, error in outcomes:  # the first output that failed (the others ran to their end)
            if error is not None:
                raise error
        return [result for result, _ in outcomes]

    async def aclose(self) -> None:
        """Close the connections."""
        self._finalizer.detach()
        api = self.__dict__.get("api")  # made on first use
        await (self.transport if api is None else api.get_async_httpx_client()).aclose()

    async def __aenter__(self) -> AsyncVideoClient:
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        await self.aclose()
