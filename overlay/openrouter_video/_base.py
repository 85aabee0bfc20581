"""What the clients (:mod:`.client`) share: configuration, results, and the set-up and end of a download.

Both build their requests with the generated ``openrouter_video_api`` endpoint functions and parse
error bodies with its models; the generated :class:`~openrouter_video_api.AuthenticatedClient` stays
reachable as ``client.api`` for direct calls, which go through the same retrying transport.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import re
import ssl
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import httpx

from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._secrets import clean_key
from .engine import segments as _segments
from .engine.core import API_ORIGIN, DownloadCore, Verdict, Verified
from .engine.retry import RetryPolicy, logger
from .engine.segments import (
    DEFAULT_MAX_CONNECTIONS,
    MAX_CONNECTIONS,
    Abandon,
    Connections,
    SegmentCore,
    Upgrade,
)
from .errors import (
    APIStatusError,
    ConfigurationError,
    DownloadLockedError,
    InvalidRequestError,
    VideoExpiredError,
)
from .io import transport as _transport
from .io.files import PartialFile, is_directory_path, resolve_destination
from .io.http import parser
from .io.journal import DEFAULT_PARTIAL_TTL, partial_paths
from .io.primitives import Cancelled
from .io.segment_file import SegmentFile, read_segment_state
from .io.transport import RetryTransport

if TYPE_CHECKING:  # the generated package and the jobs are imported on first use
    from . import jobs
    from ._api import ApiClient
    from .jobs import JobWaiter, VideoJob

#: ``on_progress(done, total)``: bytes written so far and the size (``None`` when unknown).
ProgressCallback = Callable[[int, int | None], None]

#: Redirects followed before giving up.
MAX_REDIRECTS = 5
#: Seconds between status polls in ``wait``.
DEFAULT_POLL_INTERVAL = 5.0
#: Seconds ``wait`` waits for a job before :class:`~openrouter_video.errors.VideoJobTimeoutError`.
DEFAULT_WAIT_TIMEOUT = 1800.0


_P = TypeVar("_P", PartialFile, SegmentFile)

#: Where a download's bytes come from: ``"signed"``, a job's ``urls[i]`` (OpenRouter's stored copy,
#: fetched with no key); ``"api"``, the content endpoint (``unsigned_urls[i]``, with the key);
#: ``"auto"``, the signed URL when the job has one that has not expired, else the content endpoint.
Source = Literal["auto", "signed", "api"]
#: Seconds before ``expires_at`` from which a signed URL counts as expired (clock skew).
EXPIRY_SKEW: Final = 60.0
#: Times one download asks the API again after a signed URL was refused.
MAX_REFRESHES: Final = 2
#: Seconds: ``wait`` warns when a completed job's stored copy expires sooner than this.
DEFAULT_EXPIRY_MARGIN: Final = 600.0
_EXPIRED = re.compile(rb"(?i)expire")


@dataclass(frozen=True)
class _From:
    """Where one output is fetched: a signed ``url``, or (``None``) the content endpoint."""

    url: str | None = None
    expires_at: datetime | None = None

    @property
    def source(self) -> Literal["signed", "api"]:
        return "api" if self.url is None else "signed"

    @property
    def origin(self) -> str:
        """:data:`~.engine.core.API_ORIGIN`, or the signed URL's ``scheme://host:port``."""
        if self.url is None:
            return API_ORIGIN
        url = httpx.URL(self.url)
        return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _choose(job: VideoJob | None, index: int, source: Source) -> _From:
    """Where output ``index`` of ``job`` is fetched from, as ``source`` asks (no job: the content
    endpoint, once ``source`` is checked)."""
    if source not in ("auto", "signed", "api"):
        raise ValueError(f"source must be 'auto', 'signed' or 'api', not {source!r}")
    if job is None:
        return _From()
    expires = job.expires_at
    fresh = expires is None or datetime.now(UTC) < expires - timedelta(seconds=EXPIRY_SKEW)
    if source != "api" and 0 <= index < len(job.urls) and fresh:
        url = job.urls[index]
        if not url.startswith(("https://", "http://")):
            raise InvalidRequestError(f"job {job.id}: output {index}'s signed URL is not http(s)")
        return _From(url, expires)
    if source == "signed":
        if expires is not None and not fresh:
            raise VideoExpiredError(job.id, expires)
        raise InvalidRequestError(f"job {job.id} has no signed URL for output {index} (source='signed')")
    return _From(None, expires)


def _refreshed(job: VideoJob, index: int, source: Source, refused: _From, exc: Exception) -> _From:
    """Where to go on after ``refused`` was refused with ``exc`` and the job was fetched again:
    its fresh signed URL, else (``auto``, ``api``) the content endpoint; ``signed`` raises."""
    fresh = _choose(job, index, "api" if source == "api" else "auto")
    if fresh.url is not None and fresh.url == refused.url:  # nothing fresher than what was refused
        fresh = _From(None, job.expires_at)
    if fresh.expires_at is None:  # a job whose copy expired no longer says when: what it said before
        fresh = replace(fresh, expires_at=refused.expires_at)
    if source == "signed" and fresh.url is None:
        if job.expires_at is not None and job.expires_at <= datetime.now(UTC):
            raise VideoExpiredError(job.id, job.expires_at) from exc
        raise exc
    return fresh


def _refused(exc: BaseException, source: Literal["signed", "api"]) -> bool:
    """Whether ``exc`` is what an expired signed URL answers: 403 or 401 from a signed URL, or 400 or
    403 saying it expired (from the content endpoint too, whose redirect may be to a signed URL)."""
    if not isinstance(exc, APIStatusError) or isinstance(exc, VideoExpiredError):
        return False
    status, expired = exc.status_code, _EXPIRED.search(exc.body) is not None
    return (status in (401, 403) and source == "signed") or (status in (400, 403) and expired)


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
        source: What served the bytes that completed it: ``"signed"`` (the job's signed URL to
            OpenRouter's stored copy) or ``"api"`` (the content endpoint).
        refreshes: Times the job was fetched again for a fresh signed URL after one was refused.
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
    source: Literal["signed", "api"] = "api"
    refreshes: int = 0


class _Progress:
    """Calls ``callback(done, total)`` at most every ``interval`` seconds, and once at the end; one
    call at a time (the ranges of a sync download report from threads of their own)."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self.callback, self.interval = callback, interval
        self._next = 0.0
        self._lock = threading.Lock()

    def update(self, done: int | Callable[[], int], total: int | None, *, force: bool = False) -> None:
        """Report ``done`` bytes (or what ``done()`` says, read under the lock: never backwards)."""
        if self.callback is None:
            return
        with self._lock:
            now = time.monotonic()
            if force or now >= self._next:
                self._next = now + self.interval
                self.callback(done() if callable(done) else done, total)


class _DownloadJob:
    """Consumes a driver's chunks into a :class:`PartialFile` (shared by sync and async)."""

    def __init__(self, core: DownloadCore, sink: PartialFile, on_progress: ProgressCallback | None):
        self.core, self.sink = core, sink
        self.progress = _Progress(on_progress)
        self.resumed_from = sink.kept
        if sink.resumable is not None:
            core.resume(sink.kept, sink.tail, sink.resumable)

    def offer(self, chunk: bytes) -> bool:
        """Take ``chunk`` without blocking; False if the writer is behind (then wait for its room)."""
        accepted = self.sink.add(chunk)
        self.progress.update(self.sink.size, self.core.total)
        return accepted

    def restart(self) -> None:
        """Discard what was written (new content from byte 0: the state file records it)."""
        had = self.sink.size
        self.sink.reset(self.core.content)
        if had:
            self.progress.update(0, self.core.total, force=True)

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
class _Target:
    """One output of a job, the file it goes to, and how (the arguments of ``download``)."""

    job_id: str
    dest: str | os.PathLike[str]
    index: int = 0
    overwrite: bool = False
    checksum: Literal["sha256"] | None = None
    durable: bool = True
    keep_partial: bool = True
    partial_ttl: float | None = DEFAULT_PARTIAL_TTL
    on_progress: ProgressCallback | None = None
    #: Set by the sync ``generate_and_download`` to stop the downloads running in its threads
    #: (Ctrl-C in the caller's thread): each stops at its next chunk, keeping its partial.
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


def _whole(name: str, value: int, most: int) -> int:
    """``value``, checked: a whole number from 1 to ``most``."""
    if type(value) is not int or not 1 <= value <= most:
        raise ValueError(f"{name} must be a whole number from 1 to {most}, not {value!r}")
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
                    known = [t for t in self.totals if t is not None]
                    self.on_progress(sum(self.done), sum(known) if len(known) == len(self.totals) else None)

        return report


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


def _check_header(name: str, value: object) -> None:
    if not isinstance(name, str) or not name or any(not "!" <= c <= "~" or c == ":" for c in name):
        raise ConfigurationError(f"invalid header name {name!r}")
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise ConfigurationError(f"invalid value for header {name}: it must be a str without CR, LF or NUL")
    if name.lower() == "authorization":
        raise ConfigurationError("the Authorization header is set from the API key; pass api_key=")


def _either(extra: dict[str, Any], name: str, value: Any, default: Any) -> Any:
    """The argument ``name``, or ``httpx_args[name]`` (taken out of ``extra``), not both."""
    if name not in extra:
        return value
    if value is not default:
        raise ConfigurationError(f"pass {name}= or httpx_args[{name!r}], not both")
    return extra.pop(name)


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
        timeout = _either(extra, "timeout", timeout, None)
        verify = _either(extra, "verify", verify, True)
        proxy = _either(extra, "proxy", proxy, None)
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
            _check_header(name, value)
        cookies = extra.pop("cookies", None) or {}
        timeout = _DEFAULT_TIMEOUT if timeout is None else timeout
        try:
            self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"invalid timeout: {exc}") from None
        if self._runtime.is_async:
            self._runtime.load()  # what the loop's first request would import: now, not mid-request
        self.transport = RetryTransport(
            self.retry,
            verify=verify,
            proxy=proxy,
            trust_env=bool(extra.get("trust_env", True)),
            limits=limits,
            **{"async_transport" if self._runtime.is_async else "transport": inner},
        )
        self.transport.prepare(httpx.URL(self.base_url))  # TLS contexts now, not on the first request
        self._api_args: dict[str, Any] = dict(base_url=self.base_url, token=key, timeout=self.timeout)
        self._api_args |= dict(verify_ssl=verify, follow_redirects=True, headers=headers, cookies=cookies)
        self._api_args["httpx_args"] = {"transport": self.transport, "max_redirects": MAX_REDIRECTS, **extra}
        # A client dropped unclosed gives its connections back when it is collected (see _collected).
        self._finalizer = weakref.finalize(self, type(self)._collected, self.transport)

    @functools.cached_property
    def api(self) -> ApiClient:
        """The generated client (``openrouter_video_api``) for direct calls; same key, retries, timeout."""
        from ._api import ApiClient

        return ApiClient(**self._api_args)

    @property
    def _jobs(self) -> ModuleType:
        """:mod:`.jobs`, imported on first use (with the spec checks and the generated package)."""
        return importlib.import_module("openrouter_video.jobs")

    @staticmethod
    def _collected(transport: RetryTransport) -> None:
        """A client dropped unclosed: an async one's sockets (and their 1 MiB receive buffers) would stay
        open, held by the loop until it closes. Close them now and warn, as asyncio does."""
        if _transport.abandon(transport):
            warnings.warn(
                "AsyncVideoClient was dropped without aclose(); its connections were closed when it was "
                "collected (use `async with AsyncVideoClient(...)` or `await client.aclose()`)",
                ResourceWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    #: :class:`~.io.primitives.AsyncRuntime` or :class:`~.io.primitives.Runtime`.
    _runtime: Any = None

    def _deadline(self, timeout: float | None) -> float | None:
        """The clock time a call with this ``timeout`` (seconds, the whole call) must end by."""
        return None if timeout is None else self.retry.clock() + timeout

    def _left(self, end: float | None) -> float | None:
        """Seconds left until the clock time ``end`` (at least 0), or ``None``."""
        return None if end is None else max(0.0, end - self.retry.clock())

    def _past(self, call: jobs.Call, wait: float = 0.0) -> bool:
        """Whether ``call``'s deadline passes within ``wait`` seconds."""
        return call.deadline is not None and self.retry.clock() + wait >= call.deadline - 0.01

    def _core(
        self, target: _Target, frm: _From, *, can_restart: bool, deadline: float | None = None
    ) -> tuple[DownloadCore, dict[str, Any]]:
        """The core and the request of a download of ``target`` from ``frm`` that must end by the
        clock time ``deadline``."""
        job_id, index = target.job_id, target.index
        if job_id in ("", ".", ".."):
            # httpx would normalise the dot segment away and the request would go to another path.
            raise InvalidRequestError(f"invalid job id {job_id!r}")
        parse_model = None
        if frm.url is None:  # the content endpoint: its generated module (not needed for a signed URL)
            from openrouter_video_api.api.video_generation import list_videos_content as endpoint

            what = f"GET /videos/{job_id}/content?index={index}"
            request = endpoint._get_kwargs(job_id, index=index)
            parse_model = parser(endpoint, lambda: self.api)
        else:
            what = f"GET {frm.url.partition('?')[0]} (output {index} of job {job_id}, signed URL)"
            request = {"method": "get", "url": frm.url}
        core = DownloadCore(
            self.retry,
            what=what,
            parse_model=parse_model,
            can_restart=can_restart,
            deadline=deadline,
            origin=frm.origin,
        )
        return core, request

    def _http(self, frm: _From) -> Any:
        """The httpx client that fetches from ``frm``: for a signed URL, one without the key (sharing
        only the connection pool, which holds no header), whatever the URL or its redirects."""
        if frm.url is None:
            api = self.api
            return api.get_async_httpx_client() if self._runtime.is_async else api.get_httpx_client()
        if self._storage is None:
            kind = httpx.AsyncClient if self._runtime.is_async else httpx.Client
            self._storage = kind(
                transport=self.transport,
                timeout=self.timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                trust_env=False,  # the transport has the proxies already
            )
        return self._storage

    _storage: Any = None

    def _source(self, target: _Target) -> str:
        """What identifies a partial of ``target``'s output, whichever origin serves it (never
        holds the key or a signature)."""
        return f"{self.base_url}/videos/{target.job_id}/content?index={target.index}"

    def _poll_call(self, waiter: JobWaiter) -> jobs.Call:
        call: jobs.Call = self._jobs.get_call(self.api, waiter.job.id)
        call.deadline = waiter.deadline  # no poll, retries included, outlasts the wait
        url = waiter.poll_url()
        if url is not None:  # follow the job's own polling_url (same origin only)
            call.request = {"method": "get", "url": url}
        return call

    def _segmented_partial(self, target: _Target) -> str | None:
        """The origin of a segmented partial of this output at this destination (continued range by
        range, whatever ``max_connections`` now says: nothing paid for is lost), or ``None``."""
        path = resolve_destination(target.dest, target.job_id, target.index, target.overwrite)
        state = read_segment_state(partial_paths(path)[1])
        if state is None or state.get("source") != self._source(target):
            return None
        return str(state.get("origin") or API_ORIGIN)

    def _partial(self, kind: type[_P], target: _Target) -> _P:
        """The partial file (:class:`PartialFile` or :class:`SegmentFile`) of ``target``."""
        if target.checksum not in (None, "sha256"):
            raise ValueError(f"checksum must be None or 'sha256', not {target.checksum!r}")
        return kind(
            resolve_destination(target.dest, target.job_id, target.index, target.overwrite),
            overwrite=target.overwrite,
            source=self._source(target),
            sha256=target.checksum == "sha256",
            durable=target.durable,
            keep_partial=target.keep_partial,
            partial_ttl=target.partial_ttl,
            named_by_content=is_directory_path(target.dest),
        )

    def _drop_partial(self, target: _Target, exc: BaseException) -> None:
        """``keep_partial=False``, after a download that kept its partial across refreshes failed:
        delete it, under its lock (another download's partial is left alone)."""
        if isinstance(exc, DownloadLockedError):
            return
        try:
            sink = self._partial(PartialFile, replace(target, partial_ttl=None))
        except (DownloadLockedError, OSError, ValueError):
            return
        sink.abort(keep=False)
        if hasattr(exc, "partial_path"):
            exc.partial_path = None


def _connections(max_connections: int | None) -> Connections:
    """``max_connections``, checked: ``None`` is the adaptive default's cap."""
    if max_connections is None:
        return Connections(DEFAULT_MAX_CONNECTIONS, explicit=False)
    return Connections(_whole("max_connections", max_connections, MAX_CONNECTIONS))


class _Segmented:
    """A segmented download's set-up and end (the middle is :func:`~.io._async.download.run_segments`)."""

    def __init__(self, retry: RetryPolicy, core: DownloadCore, sink: SegmentFile):
        self.retry, self.core, self.sink = retry, core, sink

    def begin(self, connections: Connections, upgrade: Upgrade | None) -> SegmentCore | None:
        """The ranges' core, set up from the segmented partial, or (``upgrade``) from the single
        stream's partial this call just kept; ``None`` (the sink let go) when one stream must go on."""
        sink, core = self.sink, self.core
        if sink.single_partial and not (upgrade is not None and sink.adopt_single(upgrade.at)):
            sink.release()  # a partial of one stream: one stream continues it
            return None
        if sink.plan is None:
            logger.debug("%s: no partial to continue by ranges", core.what)
            sink.discard()
            return None
        assert sink.content is not None and sink.content.total is not None
        small = sink.content.total < _segments.MIN_SEGMENTED_SIZE
        return SegmentCore(
            self.retry,
            what=core.what,
            content=sink.content,
            plan=sink.plan,
            max_connections=1 if small else connections.most,
            explicit=connections.explicit,
            parse_model=core.parse_model,
            deadline=core.deadline,
            upgrade=upgrade,
        )

    def finish(
        self, segments: SegmentCore, outcome: Abandon | None, upgrade: Upgrade | None
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
    """What a stream (:class:`~._async.client.AsyncVideoStream` and its sync twin) reports, and the
    hashes of its bytes for the digests the server announced."""

    _core: DownloadCore
    _hashes: dict[str, Any]

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

    def _reset_digests(self) -> None:
        """New content from byte 0 (the first response): hash what it announced."""
        self._hashes = {name: hashlib.new(name) for name in sorted(self._core.digest_algorithms)}

    def _verdict(self) -> Verdict:
        """The stream's check: it keeps no file to walk, so its verdict has digests only."""
        return Verdict(None, {name: h.copy().digest() for name, h in self._hashes.items()})
