"""The high-level clients: :class:`VideoClient` (sync) and :class:`AsyncVideoClient` (async).

Both build their requests with the generated ``openrouter_video_api`` endpoint functions and parse
error bodies with its models; the generated :class:`~openrouter_video_api.AuthenticatedClient` stays
reachable as ``client.api`` for direct calls, which go through the same retrying transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import os
import ssl
import threading
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import aclosing
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Unpack

import httpx
from openrouter_video_api import AuthenticatedClient
from openrouter_video_api.api.video_generation import list_videos_content

from . import jobs
from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._options import GenerateOptions, request_body
from ._secrets import clean_key, scrub, scrubbed
from .engine import segments as _segments
from .engine.bodies import BoundedBody
from .engine.core import DownloadCore, Verdict, Verified, connection_error
from .engine.retry import RetryPolicy, logger
from .engine.segments import (
    DEFAULT_MAX_CONNECTIONS,
    MAX_CONNECTIONS,
    Abandon,
    SegmentCore,
    upgrade_rate,
    worth_segmenting,
)
from .errors import (
    APIStatusError,
    ConfigurationError,
    DeadlineExceededError,
    InvalidRequestError,
    OpenRouterVideoError,
    RateLimitError,
    VideoJobTimeoutError,
)
from .io import threads as _threads
from .io import transport as _transport
from .io.drivers import AsyncDriver, SyncDriver
from .io.files import PartialFile, ensure_directory, is_directory_path, resolve_destination
from .io.journal import DEFAULT_PARTIAL_TTL, partial_paths
from .io.segdrive import run_async, run_sync
from .io.segment_file import Cancelled, SegmentFile, read_segment_state
from .io.transport import RetryTransport
from .jobs import JobWaiter, VideoJob, VideoModelInfo

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "ApiClient",
    "AsyncVideoClient",
    "AsyncVideoStream",
    "DownloadResult",
    "OutputProgressCallback",
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
        verified: How the file was proven complete: ``"content-length"`` or ``"content-range"``
            (the length the server announced), ``"chunked"`` (the chunked encoding's end, for a
            body that is not MP4), ``"mp4"`` (its ISO-BMFF boxes end exactly at the end of the file
            and hold a ``moov``/``moof``), ``"digest"`` (a digest the server sent matched) or
            ``"range-probe"`` (a range request showed nothing follows). Never empty.
        resumed_from: Bytes kept by an earlier call (a partial from a failed or interrupted
            download of the same output to the same destination) that this call continued from.
        connections: The most connections that fetched the file at the same time (1 for a single
            stream; see ``max_connections``).
    """

    path: Path
    size: int
    content_type: str | None
    attempts: int
    resumes: int
    sha256: str | None = None
    verified: Verified = "content-length"
    resumed_from: int = 0
    connections: int = 1


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
    """Consumes a driver's chunks into a :class:`PartialFile` (shared by sync and async).

    ``None`` from the driver means "new content from byte 0": the file is emptied (its state file
    records the new content) and progress goes back to 0.
    """

    def __init__(self, core: DownloadCore, sink: PartialFile, on_progress: ProgressCallback | None):
        self.core = core
        self.sink = sink
        self.progress = _Progress(on_progress)
        self.resumed_from = sink.kept
        if sink.resumable is not None:
            core.resume(sink.kept, sink.tail, sink.resumable)

    def offer(self, chunk: bytes) -> bool:
        """Take ``chunk`` without blocking; False if the writer is behind (then call :meth:`wait`)."""
        accepted = self.sink.add(chunk)
        self.progress.update(self.sink.size, self.core.total)
        return accepted

    def wait(self) -> None:
        """After :meth:`offer` returned False: wait until the writer has taken the full buffers."""
        self.sink.wait_for_room()

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
        """Discard what was written (new content from byte 0); progress goes back to 0."""
        had = self.sink.size
        self.sink.reset(self.core.content)
        if had:
            self.progress.update(0, self.core.total, force=True)

    def feed(self, chunk: bytes | None) -> None:
        """Take ``chunk`` (``None``: restart), waiting while the writer is behind."""
        if chunk is None:
            self.restart()
        elif not self.offer(chunk):
            self.wait()

    def finish(self) -> DownloadResult:
        """Wait for the writer, check the size and move the file into place."""
        core = self.core
        assert core.verified is not None  # the drivers end only once the core proved completeness
        self.sink.commit(core.total)
        self.progress.update(self.sink.size, core.total, force=True)
        return DownloadResult(
            path=self.sink.path,
            size=self.sink.size,
            content_type=core.content_type,
            attempts=core.attempts,
            resumes=core.resumes,
            sha256=self.sink.sha256,
            verified=core.verified,
            resumed_from=self.resumed_from,
        )


@dataclass(frozen=True)
class _FileOptions:
    overwrite: bool = False
    checksum: Literal["sha256"] | None = None
    durable: bool = True
    keep_partial: bool = True
    partial_ttl: float | None = DEFAULT_PARTIAL_TTL
    #: Set by :meth:`VideoClient.generate_and_download` to stop the downloads running in its
    #: threads (Ctrl-C in the caller's thread): each stops at its next chunk, keeping its partial.
    cancel: threading.Event | None = None

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("the call was interrupted")

    def sleep(self, sleep: Callable[[float], object] | None) -> Callable[[float], object] | None:
        """The retries' sleep: with :attr:`cancel`, a wait that ends (raising :class:`Cancelled`)
        as soon as it is set, unless the caller gave a sleep of its own (e.g. a fake in tests)."""
        cancel = self.cancel
        if cancel is None or sleep is not None:
            return sleep

        def wait(delay: float) -> None:
            if cancel.wait(delay):
                raise Cancelled("the call was interrupted")

        return wait


#: Outputs of one job downloaded at once by ``generate_and_download`` unless told otherwise.
DEFAULT_CONCURRENT_OUTPUTS: Final = 2
MAX_CONCURRENT_OUTPUTS: Final = 16
#: ``on_output_progress(index, done, total)``: the progress of output ``index`` of a job.
OutputProgressCallback = Callable[[int, int, int | None], None]


def _concurrent_outputs(value: int) -> int:
    if type(value) is not int or not 1 <= value <= MAX_CONCURRENT_OUTPUTS:
        raise ValueError(
            f"concurrent_outputs must be a whole number from 1 to {MAX_CONCURRENT_OUTPUTS}, not {value!r}"
        )
    return value


class _Outputs:
    """The progress of a job's outputs downloaded at once: ``on_output_progress`` for each, and
    ``on_progress`` with the sum (its total once every output's is known). Thread-safe."""

    def __init__(
        self,
        count: int,
        on_progress: ProgressCallback | None,
        on_output_progress: OutputProgressCallback | None,
    ) -> None:
        self.on_progress, self.on_output_progress = on_progress, on_output_progress
        self.done = [0] * count
        self.totals: list[int | None] = [None] * count
        self.lock = threading.Lock()

    def callback(self, index: int) -> ProgressCallback | None:
        if self.on_progress is None and self.on_output_progress is None:
            return None

        def report(done: int, total: int | None) -> None:
            with self.lock:
                self.done[index], self.totals[index] = done, total
                if self.on_output_progress is not None:
                    self.on_output_progress(index, done, total)
                if self.on_progress is not None:
                    totals = self.totals
                    whole = (
                        None if any(t is None for t in totals) else sum(t for t in totals if t is not None)
                    )
                    self.on_progress(sum(self.done), whole)

        return report


def _first_error(outcomes: list[tuple[DownloadResult | None, BaseException | None]]) -> list[DownloadResult]:
    """The results in output order, or the error of the first output that failed (the others ran
    to their end: their files are in place, or their partials kept)."""
    for _, error in outcomes:
        if error is not None:
            raise error
    return [result for result, _ in outcomes if result is not None]


#: ``httpx_args`` keys handed to :class:`httpx.Client` / :class:`httpx.AsyncClient` as they are.
_PASSED_THROUGH = frozenset({"max_redirects", "event_hooks", "default_encoding", "params", "trust_env"})
#: ``httpx_args`` keys this package takes over (they have an argument of their own, or must go
#: through the retrying transport).
_TAKEN_OVER = frozenset({"headers", "cookies", "timeout", "verify", "limits", "proxy", "transport"})
#: ``httpx_args`` keys that would bypass the retries or break the client, with the reason.
_REFUSED = {
    "base_url": "pass base_url= to the client",
    "follow_redirects": "redirects are followed for GET and never for the paid POST /videos",
    "auth": "the API key is sent as a bearer token; pass api_key=",
    "mounts": "mounted transports would bypass the retries; pass proxy= or transport",
    "proxies": "removed in httpx 0.28; pass proxy=",
    "app": "not supported; pass a transport in httpx_args['transport']",
    "http1": "not supported",
    "http2": "not supported (the downloads are tuned for HTTP/1.1)",
    "cert": "deprecated in httpx; pass an ssl.SSLContext with your certificate as verify=",
}

_DEFAULT_TIMEOUT = 60.0


def _header_value(name: str, value: object) -> str:
    if not isinstance(name, str) or not name or any(not "!" <= c <= "~" or c == ":" for c in name):
        raise ConfigurationError(f"invalid header name {name!r}")
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise ConfigurationError(f"invalid value for header {name}: it must be a str without CR, LF or NUL")
    if name.lower() == "authorization":
        raise ConfigurationError("the Authorization header is set from the API key; pass api_key=")
    return value


class _ClientBase:
    """Configuration shared by :class:`VideoClient` and :class:`AsyncVideoClient`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        proxy: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        httpx_args: Mapping[str, Any] | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(
                f"no OpenRouter API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
            )
        key = clean_key(key)
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.retry = retry or RetryPolicy()
        extra = dict(httpx_args or {})
        for name in extra:
            if name in _REFUSED:
                raise ConfigurationError(f"httpx_args[{name!r}] is not supported: {_REFUSED[name]}")
            if name not in _PASSED_THROUGH and name not in _TAKEN_OVER:
                raise ConfigurationError(f"httpx_args[{name!r}] is not an argument this client can pass on")
        if "timeout" in extra:
            if timeout is not None:
                raise ConfigurationError("pass timeout= or httpx_args['timeout'], not both")
            timeout = extra.pop("timeout")
        if "verify" in extra:
            if verify is not True:
                raise ConfigurationError("pass verify= or httpx_args['verify'], not both")
            verify = extra.pop("verify")
        if "proxy" in extra:
            if proxy is not None:
                raise ConfigurationError("pass proxy= or httpx_args['proxy'], not both")
            proxy = extra.pop("proxy")
        if proxy is not None:
            proxy = str(proxy)
            try:
                parsed = httpx.URL(proxy)
            except httpx.InvalidURL as exc:
                raise ConfigurationError(f"invalid proxy URL: {exc}") from None
            if parsed.scheme not in ("http", "https", "socks5", "socks5h") or not parsed.host:
                raise ConfigurationError("proxy must be an http://, https:// or socks5:// URL with a host")
        limits = extra.pop("limits", None)
        if limits is not None and not isinstance(limits, httpx.Limits):
            raise ConfigurationError("httpx_args['limits'] must be an httpx.Limits")
        inner = extra.pop("transport", None)
        headers = {**dict(extra.pop("headers", None) or {}), **dict(default_headers or {})}
        for name, value in headers.items():
            _header_value(name, value)
        cookies = extra.pop("cookies", None)
        if timeout is None:
            timeout = _DEFAULT_TIMEOUT
        try:
            self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"invalid timeout: {exc}") from None
        self.transport = self._transport(
            self.retry,
            verify,
            proxy=proxy,
            trust_env=bool(extra.get("trust_env", True)),
            limits=limits,
            inner=inner,
        )
        self.transport.prepare(httpx.URL(self.base_url))  # TLS contexts now, not on the first request
        args: dict[str, Any] = {"transport": self.transport, "max_redirects": MAX_REDIRECTS, **extra}
        #: The generated client (``openrouter_video_api``) for direct calls; same key, retries, timeout.
        self.api = ApiClient(
            base_url=self.base_url,
            token=key,
            timeout=self.timeout,
            verify_ssl=verify,
            follow_redirects=True,
            headers=headers,
            cookies=cookies or {},
            httpx_args=args,
        )
        # A client dropped unclosed gives its connections back when it is collected (see _collected).
        self._finalizer = weakref.finalize(self, type(self)._collected, self.transport)

    @staticmethod
    def _collected(transport: RetryTransport) -> None:
        """Called when a client is collected (not after :meth:`close`): nothing to do for the sync
        client, whose sockets go with their objects."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @staticmethod
    def _transport(
        policy: RetryPolicy,
        verify: ssl.SSLContext | str | bool,
        *,
        proxy: str | None,
        trust_env: bool,
        limits: httpx.Limits | None,
        inner: Any,
    ) -> RetryTransport:
        """The retrying transport around this client's kind of inner transports."""
        raise NotImplementedError

    def _deadline(self, timeout: float | None) -> float | None:
        """The clock time a call with this ``timeout`` (seconds, the whole call) must end by."""
        return None if timeout is None else self.retry.clock() + timeout

    def _call_error(self, exc: Exception, call: jobs.Call) -> OpenRouterVideoError:
        timed_out = isinstance(exc, httpx.TimeoutException)
        if timed_out and call.deadline is not None and self.retry.clock() >= call.deadline - 0.01:
            return DeadlineExceededError(f"{call.what}: the call's timeout passed ({type(exc).__name__})")
        return connection_error(exc, call.what)

    def _result(self, call: jobs.Call, response: httpx.Response, body: BoundedBody) -> Any:
        status = response.status_code
        try:
            return call.result(status, response.headers, body.body(), truncated=body.truncated)
        except APIStatusError as exc:
            # The transport stops retrying when its next wait would end past the deadline.
            wait = exc.retry_after or 0.0
            if (
                call.deadline is not None
                and status in self.retry.retry_statuses
                and self.retry.clock() + wait >= call.deadline - 0.01
            ):
                raise DeadlineExceededError(
                    f"{call.what}: the call's timeout would pass before the next retry ({exc})"
                ) from exc
            raise

    def _core(
        self, job_id: str, index: int, *, can_restart: bool, deadline: float | None = None
    ) -> tuple[DownloadCore, dict[str, Any]]:
        if job_id in ("", ".", ".."):
            # httpx would normalise the dot segment away and the request would go to another path.
            raise InvalidRequestError(f"invalid job id {job_id!r}")
        request = list_videos_content._get_kwargs(job_id, index=index)
        core = DownloadCore(
            self.retry,
            what=f"GET /videos/{job_id}/content?index={index}",
            parse_model=lambda response: (
                list_videos_content._build_response(client=self.api, response=response).parsed
            ),
            can_restart=can_restart,
            deadline=None if deadline is None else self.retry.clock() + deadline,
        )
        return core, request

    def _core_again(self, core: DownloadCore, job_id: str, index: int) -> tuple[DownloadCore, dict[str, Any]]:
        """A fresh core for one stream after a segmented attempt, with what is left of the deadline."""
        left = None if core.deadline is None else max(0.0, core.deadline - self.retry.clock())
        return self._core(job_id, index, can_restart=True, deadline=left)

    def _source(self, request: dict[str, Any]) -> str:
        """What a partial file was downloaded from (never holds the key)."""
        params = "&".join(f"{k}={v}" for k, v in sorted((request.get("params") or {}).items()))
        return f"{self.base_url}{request['url']}" + (f"?{params}" if params else "")

    def _poll_call(self, waiter: JobWaiter) -> jobs.Call:
        call = jobs.get_call(self.api, waiter.job.id)
        call.deadline = waiter.deadline  # no poll, retries included, outlasts the wait
        url = waiter.poll_url()
        if url is not None:  # follow the job's own polling_url (same origin only)
            call.request = {"method": "get", "url": url}
        return call

    @staticmethod
    def _output_dir(dest_dir: str | os.PathLike[str]) -> Path:
        return ensure_directory(dest_dir)  # made (or refused) before a paid job is submitted

    def _segmented_partial(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        request: dict[str, Any],
        options: _FileOptions,
    ) -> bool:
        """Whether a segmented download of this output left a partial at this destination (it is
        continued range by range, whatever ``max_connections`` now says: nothing paid for is lost)."""
        path = resolve_destination(dest, job_id, index, options.overwrite)
        state = read_segment_state(partial_paths(path)[1])
        return state is not None and state.get("source") == self._source(request)

    def _segment_file(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        request: dict[str, Any],
        options: _FileOptions,
    ) -> SegmentFile:
        if options.checksum not in (None, "sha256"):
            raise ValueError(f"checksum must be None or 'sha256', not {options.checksum!r}")
        return SegmentFile(
            resolve_destination(dest, job_id, index, options.overwrite),
            overwrite=options.overwrite,
            source=self._source(request),
            sha256=options.checksum == "sha256",
            durable=options.durable,
            keep_partial=options.keep_partial,
            partial_ttl=options.partial_ttl,
            named_by_content=is_directory_path(dest),
        )

    def _sink(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        request: dict[str, Any],
        options: _FileOptions,
    ) -> PartialFile:
        if options.checksum not in (None, "sha256"):
            raise ValueError(f"checksum must be None or 'sha256', not {options.checksum!r}")
        path = resolve_destination(dest, job_id, index, options.overwrite)
        return PartialFile(
            path,
            overwrite=options.overwrite,
            source=self._source(request),
            sha256=options.checksum == "sha256",
            durable=options.durable,
            keep_partial=options.keep_partial,
            partial_ttl=options.partial_ttl,
            named_by_content=is_directory_path(dest),
        )


@dataclass(frozen=True)
class _Upgrade:
    """A single stream that goes on by ranges: its throughput, requests, and where it had started."""

    rate: float
    attempts: int
    resumed_from: int


class _Watch:
    """Watches a single stream whose first answer was :func:`~._segments.worth_segmenting`: after
    a second of body, :func:`~._segments.upgrade_rate` says whether it goes on by ranges."""

    def __init__(self, job: _DownloadJob, clock: Callable[[], float]) -> None:
        self.job, self.clock = job, clock
        self.started, self.start_size = clock(), job.sink.size
        self.resets = 0

    def restarted(self) -> _Watch | None:
        """After a ``None`` chunk: the first one starts the body (watch from now); a later one means
        new content, not the one judged worth splitting (stop watching)."""
        self.resets += 1
        if self.resets > 1:
            return None
        self.started, self.start_size = self.clock(), self.job.sink.size
        return self

    def __call__(self) -> _Upgrade | None:
        """After each chunk: the upgrade when it is due."""
        job = self.job
        total = job.core.total
        if total is None:
            return None
        rate = upgrade_rate(
            self.clock() - self.started, job.sink.size - self.start_size, total - job.sink.size
        )
        if rate is None:
            return None
        return _Upgrade(rate, job.core.attempts, job.resumed_from)

    @staticmethod
    def start(
        job: _DownloadJob, response: httpx.Response | None, clock: Callable[[], float]
    ) -> _Watch | None:
        if response is None or isinstance(worth_segmenting(response.status_code, response.headers), str):
            return None  # not logged: one stream is the normal case (a small video, no ranges)
        return _Watch(job, clock)


def _connections(max_connections: int | None) -> int:
    """``max_connections``, checked: ``None`` is the adaptive default's cap."""
    if max_connections is None:
        return DEFAULT_MAX_CONNECTIONS
    if type(max_connections) is not int or not 1 <= max_connections <= MAX_CONNECTIONS:
        raise ValueError(
            f"max_connections must be a whole number from 1 to {MAX_CONNECTIONS}, not {max_connections!r}"
        )
    return max_connections


class _Segmented:
    """A segmented download's set-up and end, shared by the sync and async clients (the middle is
    :func:`~._segdrive.run_sync` or :func:`~._segdrive.run_async`)."""

    def __init__(self, client: _ClientBase, core: DownloadCore, request: dict[str, Any], sink: SegmentFile):
        self.client, self.core, self.request, self.sink = client, core, request, sink

    def begin(self, upgrade: _Upgrade | None) -> bool:
        """Set up the ranges from the segmented partial, or (``upgrade``) from the single stream's
        partial this call just kept; False (the sink let go) when one stream must go on."""
        sink = self.sink
        if sink.single_partial and not (upgrade is not None and sink.adopt_single()):
            sink.release()  # a partial of one stream: one stream continues it
            return False
        if sink.plan is None:
            logger.debug("%s: no partial to continue by ranges", self.core.what)
            sink.discard()
            return False
        return True

    def segment_core(self, max_connections: int, upgrade: _Upgrade | None) -> SegmentCore:
        sink, core = self.sink, self.core
        assert sink.content is not None and sink.plan is not None and sink.content.total is not None
        small = sink.content.total < _segments.MIN_SEGMENTED_SIZE
        return SegmentCore(
            self.client.retry,
            what=core.what,
            content=sink.content,
            plan=sink.plan,
            max_connections=1 if small else max_connections,
            parse_model=core.parse_model,
            deadline=core.deadline,
            measured=None if upgrade is None else upgrade.rate,
        )

    def finish(
        self, segments: SegmentCore, outcome: Abandon | None, upgrade: _Upgrade | None
    ) -> DownloadResult | None:
        """Verify and commit; ``None`` (the partial deleted) when one stream must start again."""
        sink, what = self.sink, self.core.what
        if outcome is not None and outcome.changed:
            logger.warning("%s: %s; downloading again over one connection", what, outcome.reason)
            sink.discard()
            return None
        if outcome is not None:  # the content is the same: one stream goes on from what is kept
            kept = sink.keep_as_single()
            logger.warning("%s: %s; going on over one connection from byte %d", what, outcome.reason, kept)
            return None
        content = sink.content
        assert content is not None and content.total is not None
        boxes = sink.verify()
        wrong = sorted(name for name, value in content.digests.items() if sink.digests.get(name) != value)
        if boxes.kind == "incomplete" or wrong:
            why = (
                f"the {', '.join(wrong)} digest does not match"
                if wrong
                else f"the MP4 is incomplete ({boxes.detail})"
            )
            logger.warning("%s: after every range, %s; downloading again over one connection", what, why)
            sink.discard()
            return None
        sink.commit()
        return DownloadResult(
            path=sink.path,
            size=content.total,
            content_type=content.content_type,
            attempts=segments.attempts + (upgrade.attempts if upgrade is not None else 0),
            resumes=segments.resumes,
            sha256=sink.sha256,
            verified="digest" if content.digests else "content-range",
            resumed_from=sink.kept if upgrade is None else upgrade.resumed_from,
            connections=segments.peak_connections,
        )


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


class _StreamDigests:
    """Hashes a stream's bytes for the digests the server announced: the stream's :class:`Check`
    (a stream keeps no file to walk, so its verdict has digests only)."""

    def __init__(self, core: DownloadCore) -> None:
        self.core = core
        self.hashes: dict[str, Any] = {}

    def reset(self) -> None:
        """New content from byte 0 (the first response): hash what it announced."""
        self.hashes = {name: hashlib.new(name) for name in sorted(self.core.digest_algorithms)}

    def feed(self, chunk: bytes) -> None:
        for h in self.hashes.values():
            h.update(chunk)

    def verdict(self) -> Verdict:
        return Verdict(None, {name: h.copy().digest() for name, h in self.hashes.items()})


class VideoStream(_StreamState):
    """An open video response (from :meth:`VideoClient.stream`) that resumes transparently."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._core = driver.core
        self._digests = _StreamDigests(driver.core)
        driver.check = self._digests.verdict

    def iter_bytes(self) -> Iterator[bytes]:
        """The video's bytes, in the transport's chunks; a cut is resumed where it stopped.

        Raises :class:`~openrouter_video.errors.IncompleteDownloadError` when the server cannot
        continue the same content (bytes already yielded cannot be taken back), and
        :class:`~openrouter_video.errors.IntegrityError` at the end when the bytes do not match a
        digest the server sent.
        """
        digests = self._digests
        try:
            for chunk in self._driver.chunks():
                if chunk is None:  # new content from byte 0 (a restart fails in the core instead)
                    digests.reset()
                    continue
                if digests.hashes:
                    digests.feed(chunk)
                yield chunk
        except BaseException as exc:  # caught inside the with-block, it must not carry the key
            scrub(exc)
            raise

    @scrubbed
    def __enter__(self) -> VideoStream:
        self._driver.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            scrub(exc)  # what the with-block raised: the key is not reachable from it
        self._driver.close()


class AsyncVideoStream(_StreamState):
    """The async twin of :class:`VideoStream` (from :meth:`AsyncVideoClient.stream`)."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._core = driver.core
        self._digests = _StreamDigests(driver.core)
        driver.check = self._digests.verdict

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The video's bytes, in the transport's chunks; a cut is resumed where it stopped."""
        digests = self._digests
        try:
            async with aclosing(self._driver.chunks()) as chunks:
                async for chunk in chunks:
                    if chunk is None:
                        digests.reset()
                        continue
                    if digests.hashes:
                        digests.feed(chunk)
                    yield chunk
        except BaseException as exc:
            scrub(exc)
            raise

    @scrubbed
    async def __aenter__(self) -> AsyncVideoStream:
        await self._driver.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            scrub(exc)
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
    def _transport(
        policy: RetryPolicy,
        verify: ssl.SSLContext | str | bool,
        *,
        proxy: str | None,
        trust_env: bool,
        limits: httpx.Limits | None,
        inner: Any,
    ) -> RetryTransport:
        return RetryTransport(
            policy, verify=verify, transport=inner, proxy=proxy, trust_env=trust_env, limits=limits
        )

    @scrubbed
    def download(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        *,
        index: int = 0,
        overwrite: bool = False,
        on_progress: ProgressCallback | None = None,
        checksum: Literal["sha256"] | None = None,
        deadline: float | None = None,
        durable: bool = True,
        keep_partial: bool = True,
        partial_ttl: float | None = DEFAULT_PARTIAL_TTL,
        max_connections: int | None = None,
    ) -> DownloadResult:
        """Download output ``index`` of job ``job_id`` to ``dest`` atomically, resuming as needed.

        ``dest`` is a file path, or a directory: an existing one or a path ending in ``/`` (the
        file is then ``<job_id>.mp4``, or ``<job_id>-<index>.mp4``, see
        :func:`~openrouter_video.safe_filename`). A missing directory is created, as by ``wget -P``;
        a file in the way raises :class:`NotADirectoryError` naming it. The body streams
        into the partial file ``.<name>.part`` beside the destination, which replaces it only once
        complete and proven so (:attr:`DownloadResult.verified`).

        If the call fails (an error, an exception, Ctrl-C, a signal turned into an exception), the
        destination is untouched, and the partial file and its state file are kept: the exception's
        ``partial_path`` names it, and the next download of the same output to the same destination
        continues from it. ``keep_partial=False`` deletes them instead. Partials older than
        ``partial_ttl`` seconds in the destination's directory (and not being downloaded) are
        removed when a download starts there, at most once a minute per directory (``None``: never).

        ``deadline``: seconds the whole call may take (retries and waits included), else
        :class:`~openrouter_video.errors.DeadlineExceededError`. ``durable``: fsync the file before
        it is renamed into place and the directory after, so that a power loss never leaves an
        empty or short file under the destination's name.

        ``max_connections``: fetch the video as byte ranges over up to this many connections at once
        (1 to 16; ``None``, the default: up to 4), for links that cap each connection. Every
        download starts as one stream. When the server's answer says ``Accept-Ranges: bytes``, gives
        the length (16 MiB or more) and a strong ETag or a Last-Modified date, and a second of body
        shows more than another second left at a speed under 256 MiB/s, it goes on by ranges from
        the bytes it has, adding connections while the combined throughput still grows by 15% or
        more per added connection (a link one stream fills, or a quick download, stays one stream).
        When a range finishes, the largest one left is split. Every range keeps the safety rules of
        a single stream (If-Range, the overlap re-read on every resume, retries and resumes of its
        own), and a content change seen by any of them starts the whole file again over one
        connection; a server that answers a range with 200 has one stream go on from the bytes on
        disk with no gap before them. The partial records every range,
        so a later call continues each one (even with ``max_connections=1``); a call that continues a
        single stream's partial goes on as one stream. ``1`` is one stream, exactly.

        Raises :class:`FileExistsError` / :class:`FileNotFoundError` before any request,
        :class:`~openrouter_video.errors.DownloadLockedError` when another process is downloading to
        the same destination, and the :mod:`openrouter_video.errors` exceptions after retries.
        """
        options = _FileOptions(overwrite, checksum, durable, keep_partial, partial_ttl)
        return self._download_file(
            job_id, dest, index, options, _connections(max_connections), on_progress, deadline
        )

    def _download_file(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        connections: int,
        on_progress: ProgressCallback | None,
        deadline: float | None,
    ) -> DownloadResult:
        core, request = self._core(job_id, index, can_restart=True, deadline=deadline)
        upgrade: _Upgrade | None = None
        if not self._segmented_partial(job_id, dest, index, request, options):
            done = self._download_one(core, request, job_id, dest, index, options, on_progress, connections)
            if isinstance(done, DownloadResult):
                return done
            upgrade = done  # one stream was too slow: its partial goes on by ranges
        result = self._download_segmented(
            core, request, job_id, dest, index, options, connections, on_progress, upgrade
        )
        if result is not None:
            return result
        core, request = self._core_again(core, job_id, index)
        done = self._download_one(core, request, job_id, dest, index, options, on_progress, 1)
        assert isinstance(done, DownloadResult)
        return done

    def _download_one(
        self,
        core: DownloadCore,
        request: dict[str, Any],
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        on_progress: ProgressCallback | None,
        connections: int,
    ) -> DownloadResult | _Upgrade:
        """Download over one stream. With ``connections > 1`` and a first answer worth splitting
        (see :func:`~._segments.worth_segmenting`), a stream that a second of body shows to be
        slow stops there: its partial is kept, and the :class:`_Upgrade` returned says how fast it
        went (the caller goes on by ranges from it)."""
        with self._sink(job_id, dest, index, request, options) as sink:
            job = _DownloadJob(core, sink, on_progress)
            sleep = options.sleep(self.retry.sleep)
            # The chunks only go to the sink, which gives lent receive buffers back once written.
            driver = SyncDriver(self.api.get_httpx_client(), request, core, sleep, sink.check, lend=True)
            watch: _Watch | None = None
            upgrade: _Upgrade | None = None
            try:
                if connections > 1 and sink.resumable is None:
                    driver.open()
                    watch = _Watch.start(job, driver.response, self.retry.clock)
                for chunk in driver.chunks():
                    job.feed(chunk)
                    options.check_cancel()
                    if watch is None:
                        continue
                    if chunk is None:
                        watch = watch.restarted()
                    elif (upgrade := watch()) is not None:
                        break
            finally:
                driver.close()
            if upgrade is None:
                return job.finish()
            sink.abort(keep=True)  # the bytes so far: the first range of the segmented download
            return upgrade

    def _download_segmented(
        self,
        core: DownloadCore,
        request: dict[str, Any],
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        connections: int,
        on_progress: ProgressCallback | None,
        upgrade: _Upgrade | None,
    ) -> DownloadResult | None:
        """Fetch the video by ranges: continue the segmented partial at ``dest``, or (``upgrade``)
        the single stream's partial this call just kept. ``None``: one stream must go on."""
        # No sweep when taking over the partial this call just kept (a tiny partial_ttl would take it).
        sink = self._segment_file(
            job_id, dest, index, request, options if upgrade is None else replace(options, partial_ttl=None)
        )
        run = _Segmented(self, core, request, sink)
        try:
            if not run.begin(upgrade):
                return None
            http = self.api.get_httpx_client()
            segments = run.segment_core(connections, upgrade)
            progress = _Progress(on_progress)
            total = segments.total
            reporting = threading.Lock()  # the workers' threads report: one at a time

            def report() -> None:
                with reporting:
                    progress.update(segments.plan.received, total)

            sleep = options.sleep(self.retry.sleep)
            outcome = run_sync(http, request, segments, sink, sleep, report, options.cancel)
            result = run.finish(segments, outcome, upgrade)
            if result is not None:
                progress.update(total, total, force=True)
            return result
        except BaseException as exc:  # Ctrl-C and a cancel too: the caller learns what was kept
            kept = sink.abort()
            if kept is not None:
                with contextlib.suppress(AttributeError):
                    exc.partial_path = kept  # type: ignore[attr-defined]
            raise

    def stream(self, job_id: str, *, index: int = 0) -> VideoStream:
        """Open output ``index`` of ``job_id`` for streaming; use as ``with client.stream(...) as v``."""
        core, request = self._core(job_id, index, can_restart=False)
        return VideoStream(SyncDriver(self.api.get_httpx_client(), request, core, self.retry.sleep))

    # -- the whole flow: submit, wait, download ----------------------------------------------------------
    def _call(self, call: jobs.Call, timeout: float | None = None) -> Any:
        if timeout is not None:
            call.deadline = self._deadline(timeout)
        http = self.api.get_httpx_client()
        try:
            response = http.send(
                call.build(http, self.retry.clock), stream=True, follow_redirects=call.follow_redirects
            )
            try:
                body = BoundedBody(response.headers.get("content-encoding"), call.limit(response.status_code))
                for chunk in response.iter_raw():
                    if not body.feed(chunk):
                        break
            finally:
                response.close()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._call_error(exc, call) from exc
        return self._result(call, response, body)

    @scrubbed
    def generate(
        self,
        model: str,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **options: Unpack[GenerateOptions],
    ) -> VideoJob:
        """Submit a video generation job (``POST /videos``, answered 202) and return it.

        ``options`` are the request's other fields, typed by :class:`~openrouter_video.GenerateOptions`:
        ``duration``, ``resolution``, ``aspect_ratio``, ``size``, ``frame_images``,
        ``input_references``, ``generate_audio``, ``seed``, ``callback_url``, ``provider``,
        ``creativity``, ``upscale_factor``. They, ``model`` and ``prompt`` are checked against the
        spec before anything is sent: an unknown name (the message suggests the likely one), a wrong
        type, a value outside the spec's enum (the message lists the allowed values) or below its
        minimum, or a ``callback_url`` that is not ``https://`` raises
        :class:`~openrouter_video.errors.InvalidRequestError`, and no request is made.

        ``extra_body`` is merged into the JSON body as is, unchecked: for fields this version does
        not know, or values newer than its enums. A key given both there and as an argument raises
        :class:`~openrouter_video.errors.InvalidRequestError` (neither silently wins).

        This creates a paid job, so it is never retried once the request may have reached the
        server: only a failure to connect and 429 responses are retried, and a redirect is never
        followed (it raises an :class:`~openrouter_video.errors.APIStatusError` naming the
        Location). ``timeout`` bounds the whole call, retries included.
        """
        return self._call(jobs.create_call(self.api, model, prompt, options, extra_body), timeout)  # type: ignore[no-any-return]

    @scrubbed
    def get_job(self, job_id: str, *, timeout: float | None = None) -> VideoJob:
        """The job's current state (``GET /videos/{jobId}``); ``timeout`` bounds the whole call,
        retries included (:class:`~openrouter_video.errors.DeadlineExceededError`)."""
        return self._call(jobs.get_call(self.api, job_id), timeout)  # type: ignore[no-any-return]

    @scrubbed
    def list_models(self, *, timeout: float | None = None) -> list[VideoModelInfo]:
        """The video generation models (``GET /videos/models``); ``timeout`` as for :meth:`get_job`."""
        return self._call(jobs.models_call(self.api), timeout)  # type: ignore[no-any-return]

    @scrubbed
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
            job,
            self.base_url,
            poll_interval=poll_interval,
            timeout=timeout,
            on_status=on_status,
            clock=self.retry.clock,
        )
        sleep = self.retry.sleep or time.sleep
        while True:
            try:
                polled: VideoJob = self._call(self._poll_call(waiter))
            except RateLimitError as exc:
                delay = waiter.on_rate_limited(exc)
            except DeadlineExceededError as exc:
                raise VideoJobTimeoutError(waiter.job, timeout) from exc
            else:
                next_delay = waiter.on_job(polled)
                if next_delay is None:
                    return polled
                delay = next_delay
            sleep(delay)

    @scrubbed
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
        deadline: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        max_connections: int | None = None,
        concurrent_outputs: int = DEFAULT_CONCURRENT_OUTPUTS,
        on_output_progress: OutputProgressCallback | None = None,
        **options: Unpack[GenerateOptions],
    ) -> list[DownloadResult]:
        """Submit a job, wait for it, and download every output into ``dest_dir`` (created if missing).

        Output *i* (0 <= i < ``len(job.unsigned_urls)``, at least one) goes to ``<job_id>.mp4`` /
        ``<job_id>-<i>.mp4`` with the resumable :meth:`download`, up to ``concurrent_outputs`` of
        them at once (1 to 16; 1: one after another), each in a thread of its own. The results come
        in output order. When one fails the others still run to their end (their files are in
        place, or their partials kept), then the first failure is raised. Ctrl-C stops them all at
        their next chunk or retry wait, keeping their partials (a read stalled on a silent server
        ends at its read timeout). ``deadline``: seconds the whole call may take
        (the wait and every download), else :class:`~openrouter_video.errors.DeadlineExceededError`
        (or :class:`~openrouter_video.errors.VideoJobTimeoutError` while waiting).

        ``on_output_progress(index, done, total)`` reports each output's progress, saying which;
        ``on_progress(done, total)`` reports the sum over all outputs (``total`` is ``None`` until
        every output's is known). Both may be called from the download threads, one call at a time.

        ``options`` and ``extra_body`` are those of :meth:`generate`, checked the same way before
        the job is submitted (``timeout`` here bounds the wait, not the submission).
        ``max_connections`` is that of :meth:`download`, for each output.
        """
        request_body(model, prompt, options, extra_body)  # refused before a directory is made
        connections = _connections(max_connections)
        parallel = _concurrent_outputs(concurrent_outputs)
        directory = self._output_dir(dest_dir)
        clock = self.retry.clock
        end = None if deadline is None else clock() + deadline
        done = self.wait(
            self.generate(model, prompt, extra_body=extra_body, **options),
            poll_interval=poll_interval,
            timeout=timeout if end is None else max(0.0, min(timeout, end - clock())),
            on_status=on_status,
        )
        count = max(1, done.outputs)
        outputs = _Outputs(count, on_progress, on_output_progress)
        file_options = _FileOptions(overwrite, checksum, cancel=threading.Event())

        def one(i: int) -> DownloadResult:
            left = None if end is None else end - clock()
            return self._download_file(
                done.id, directory, i, file_options, connections, outputs.callback(i), left
            )

        pool = ThreadPoolExecutor(min(parallel, count), thread_name_prefix="openrouter-video-output")
        futures = []
        try:
            futures += [pool.submit(one, i) for i in range(count)]
            wait_for(futures)
        except BaseException:  # Ctrl-C: every download stops at its next chunk, keeping its partial
            assert file_options.cancel is not None
            file_options.cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return _first_error([(None, f.exception()) if f.exception() else (f.result(), None) for f in futures])

    def close(self) -> None:
        """Close the connections."""
        self._finalizer.detach()
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
    def _transport(
        policy: RetryPolicy,
        verify: ssl.SSLContext | str | bool,
        *,
        proxy: str | None,
        trust_env: bool,
        limits: httpx.Limits | None,
        inner: Any,
    ) -> RetryTransport:
        import anyio  # noqa: F401 - httpcore's async locks import it (~15 ms): now, not mid-request

        return RetryTransport(
            policy, verify=verify, async_transport=inner, proxy=proxy, trust_env=trust_env, limits=limits
        )

    @scrubbed
    async def download(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        *,
        index: int = 0,
        overwrite: bool = False,
        on_progress: ProgressCallback | None = None,
        checksum: Literal["sha256"] | None = None,
        deadline: float | None = None,
        durable: bool = True,
        keep_partial: bool = True,
        partial_ttl: float | None = DEFAULT_PARTIAL_TTL,
        max_connections: int | None = None,
    ) -> DownloadResult:
        """Download output ``index`` of ``job_id`` to ``dest``; see :meth:`VideoClient.download`."""
        options = _FileOptions(overwrite, checksum, durable, keep_partial, partial_ttl)
        return await self._download_file(
            job_id, dest, index, options, _connections(max_connections), on_progress, deadline
        )

    async def _download_file(
        self,
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        connections: int,
        on_progress: ProgressCallback | None,
        deadline: float | None,
    ) -> DownloadResult:
        core, request = self._core(job_id, index, can_restart=True, deadline=deadline)
        upgrade: _Upgrade | None = None
        if not self._segmented_partial(job_id, dest, index, request, options):
            done = await self._download_one(
                core, request, job_id, dest, index, options, on_progress, connections
            )
            if isinstance(done, DownloadResult):
                return done
            upgrade = done  # one stream was too slow: its partial goes on by ranges
        result = await self._download_segmented(
            core, request, job_id, dest, index, options, connections, on_progress, upgrade
        )
        if result is not None:
            return result
        core, request = self._core_again(core, job_id, index)
        done = await self._download_one(core, request, job_id, dest, index, options, on_progress, 1)
        assert isinstance(done, DownloadResult)
        return done

    async def _download_one(
        self,
        core: DownloadCore,
        request: dict[str, Any],
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        on_progress: ProgressCallback | None,
        connections: int,
    ) -> DownloadResult | _Upgrade:
        """:meth:`VideoClient._download_one`."""
        # Made on the event loop (a lock, a state file, a directory listing: milliseconds), so that a
        # cancel can never leave it behind half made, with its lock held.
        with self._sink(job_id, dest, index, request, options) as sink:
            job = _DownloadJob(core, sink, on_progress)
            # The chunks only go to the sink, which gives lent receive buffers back once written.
            driver = AsyncDriver(
                self.api.get_async_httpx_client(), request, core, self.retry.sleep, sink.check, lend=True
            )
            watch: _Watch | None = None
            upgrade: _Upgrade | None = None
            try:
                if connections > 1 and sink.resumable is None:
                    await driver.open()
                    watch = _Watch.start(job, driver.response, self.retry.clock)
                async with aclosing(driver.chunks()) as chunks:
                    async for chunk in chunks:
                        if chunk is None:
                            await _threads.until_done(job.restart)
                            watch = watch.restarted() if watch is not None else None
                        else:
                            if not job.offer(chunk):  # the disk is behind: wait for the writer
                                await job.wait_async()
                            if watch is not None and (upgrade := watch()) is not None:
                                break
            finally:
                await driver.close()
            if upgrade is None:
                return await _threads.commit(job.finish)
            sink.abort(keep=True)  # the bytes so far: the first range of the segmented download
            return upgrade

    async def _download_segmented(
        self,
        core: DownloadCore,
        request: dict[str, Any],
        job_id: str,
        dest: str | os.PathLike[str],
        index: int,
        options: _FileOptions,
        connections: int,
        on_progress: ProgressCallback | None,
        upgrade: _Upgrade | None,
    ) -> DownloadResult | None:
        """:meth:`VideoClient._download_segmented`."""
        # No sweep when taking over the partial this call just kept (a tiny partial_ttl would take it).
        sink = self._segment_file(
            job_id, dest, index, request, options if upgrade is None else replace(options, partial_ttl=None)
        )
        run = _Segmented(self, core, request, sink)
        try:
            # In a thread: turning a kept partial into a segmented one may fsync it (durable).
            if not await _threads.until_done(run.begin, upgrade):
                return None
            http = self.api.get_async_httpx_client()
            segments = run.segment_core(connections, upgrade)
            progress = _Progress(on_progress)
            total = segments.total
            outcome = await run_async(
                http,
                request,
                segments,
                sink,
                self.retry.sleep,
                lambda: progress.update(segments.plan.received, total),
            )
            result = await _threads.commit(run.finish, segments, outcome, upgrade)
            if result is not None:
                progress.update(total, total, force=True)
            return result
        except BaseException as exc:  # Ctrl-C and a cancel too: the caller learns what was kept
            kept = sink.abort()
            if kept is not None:
                with contextlib.suppress(AttributeError):
                    exc.partial_path = kept  # type: ignore[attr-defined]
            raise

    def stream(self, job_id: str, *, index: int = 0) -> AsyncVideoStream:
        """Open output ``index`` of ``job_id``; use as ``async with client.stream(...) as v``."""
        core, request = self._core(job_id, index, can_restart=False)
        return AsyncVideoStream(
            AsyncDriver(self.api.get_async_httpx_client(), request, core, self.retry.sleep)
        )

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
            raise self._call_error(exc, call) from exc
        return self._result(call, response, body)

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
        """Submit a video generation job; see :meth:`VideoClient.generate` (``options`` checked
        against the spec before anything is sent; never retried once sent)."""
        return await self._call(jobs.create_call(self.api, model, prompt, options, extra_body), timeout)  # type: ignore[no-any-return]

    @scrubbed
    async def get_job(self, job_id: str, *, timeout: float | None = None) -> VideoJob:
        """The job's current state (``GET /videos/{jobId}``); ``timeout`` bounds the whole call,
        retries included (:class:`~openrouter_video.errors.DeadlineExceededError`)."""
        return await self._call(jobs.get_call(self.api, job_id), timeout)  # type: ignore[no-any-return]

    @scrubbed
    async def list_models(self, *, timeout: float | None = None) -> list[VideoModelInfo]:
        """The video generation models (``GET /videos/models``); ``timeout`` as for :meth:`get_job`."""
        return await self._call(jobs.models_call(self.api), timeout)  # type: ignore[no-any-return]

    @scrubbed
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
            job,
            self.base_url,
            poll_interval=poll_interval,
            timeout=timeout,
            on_status=on_status,
            clock=self.retry.clock,
        )
        sleep = self.retry.sleep or asyncio.sleep
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
                    return polled
                delay = next_delay
            result = sleep(delay)
            if inspect.isawaitable(result):
                await result

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
        **options: Unpack[GenerateOptions],
    ) -> list[DownloadResult]:
        """Submit, wait, download every output; see :meth:`VideoClient.generate_and_download`
        (``options`` and ``extra_body`` as for :meth:`generate`). The outputs are tasks on the
        running event loop; cancelling the call cancels them all, keeping their partials."""
        request_body(model, prompt, options, extra_body)  # refused before a directory is made
        connections = _connections(max_connections)
        room = asyncio.Semaphore(_concurrent_outputs(concurrent_outputs))
        directory = self._output_dir(dest_dir)
        clock = self.retry.clock
        end = None if deadline is None else clock() + deadline
        done = await self.wait(
            await self.generate(model, prompt, extra_body=extra_body, **options),
            poll_interval=poll_interval,
            timeout=timeout if end is None else max(0.0, min(timeout, end - clock())),
            on_status=on_status,
        )
        count = max(1, done.outputs)
        outputs = _Outputs(count, on_progress, on_output_progress)
        file_options = _FileOptions(overwrite, checksum)

        async def one(i: int) -> DownloadResult:
            async with room:
                left = None if end is None else end - clock()
                return await self._download_file(
                    done.id, directory, i, file_options, connections, outputs.callback(i), left
                )

        tasks = [asyncio.ensure_future(one(i)) for i in range(count)]
        try:
            await asyncio.wait(tasks)
        except BaseException:  # cancelled: so is every download, keeping its partial
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return _first_error([(None, t.exception()) if t.exception() else (t.result(), None) for t in tasks])

    async def aclose(self) -> None:
        """Close the connections."""
        self._finalizer.detach()
        await self.api.get_async_httpx_client().aclose()

    @staticmethod
    def _collected(transport: RetryTransport) -> None:
        """A client dropped without :meth:`aclose`: its sockets (and their 1 MiB receive buffers)
        would stay open until the event loop closes, held by the loop. Close them now, and warn as
        asyncio does for unclosed resources."""
        if _transport.abandon(transport):
            warnings.warn(
                "AsyncVideoClient was dropped without aclose(); its connections were closed when it was "
                "collected (use `async with AsyncVideoClient(...)` or `await client.aclose()`)",
                ResourceWarning,
                stacklevel=2,
            )

    async def __aenter__(self) -> AsyncVideoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
