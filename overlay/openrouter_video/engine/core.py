"""The sans-I/O core of a resumable download: every decision, no sockets, no files, no sleeping.

The drivers (``io/_async/download.py``) feed it what happened (a response's status and headers,
how a body ended, what the file on disk looks like) and do what it answers: :class:`Stream`,
:class:`ReadBody`, :class:`Check`, :class:`Retry`, :class:`Fail` or :data:`DONE`.

Resume never splices. Every range request starts up to :data:`OVERLAP` bytes before the bytes
already kept, and those bytes must come back equal to what was kept, else everything is discarded and
the download starts again from byte 0. ``If-Range`` still carries the first response's ETag (any
ETag, quoted or not, unless weak) or Last-Modified, and a 206 whose ETag, Last-Modified or total
differs from the first response's is a change of content. So resume is safe even when the server
ignores If-Range or sends no validator at all.

Completeness is proven, never assumed: by the length (Content-Length or Content-Range), by the
ISO-BMFF box chain of an MP4, by the chunked encoding's end, by a digest the server sent, or, for a
body that was only ended by the connection closing, by a range probe. An attempt counts as progress
only when it brings at least :data:`MIN_PROGRESS` new bytes; once progress was made, failures are
retried for :attr:`RetryPolicy.resume_window` seconds after the last progress, even past
``max_attempts``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from html import unescape
from http import HTTPStatus
from typing import Any, Final, Literal, Protocol

from .._secrets import redact
from ..errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DeadlineExceededError,
    IncompleteDownloadError,
    IntegrityError,
    OpenRouterVideoError,
    UnexpectedContentError,
    status_error_class,
)
from .retry import RetryPolicy, RetryState, parse_retry_after
from .verify import SNIFF_BYTES, BoxWalk, expected_digests, sniff

#: How much of a non-video body is read to build an error.
ERROR_BODY_LIMIT: Final = 64 * 1024
#: Bytes re-read before the resume point of every range request, compared with those kept.
OVERLAP: Final = 64 * 1024
#: New bytes an attempt must bring to count as progress (so that a trickle uses up the attempts).
MIN_PROGRESS: Final = 64 * 1024

#: The origin of a download from the API's content endpoint (:attr:`Resumable.origin`); a signed
#: URL's origin is its ``scheme://host:port``.
API_ORIGIN: Final = "api"

#: How completeness was proven (:attr:`DownloadCore.verified`).
Verified = Literal["content-length", "content-range", "chunked", "mp4", "digest", "range-probe"]
Framing = Literal["content-length", "content-range", "chunked", "close"]


class Head:
    """Judges the start of a body before any of its bytes is passed on.

    A resume's body must start with ``overlap``, the bytes already kept before the resume point;
    they are checked and dropped. A body from byte 0 is sniffed (:func:`~.verify.sniff`): its
    first :data:`~.verify.SNIFF_BYTES` are held back until they show it is not HTML, XML or JSON.

    Attributes:
        failed: ``"mismatch"`` (the overlap differs) or ``"not-video"``; ``None`` while fine.
        passed: The start has been judged fine; every later chunk passes through.
        held: The bytes held back for sniffing (the body's start, for error messages).
    """

    __slots__ = ("_overlap", "_seen", "content_type", "failed", "held", "passed", "sniff")

    def __init__(self, overlap: bytes, *, sniff: bool, content_type: str | None) -> None:
        self._overlap = overlap
        self._seen = 0
        self.sniff = sniff
        self.content_type = content_type
        self.held = bytearray()
        self.failed: Literal["mismatch", "not-video"] | None = None
        self.passed = not overlap and not sniff

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk; returns the bytes to pass on now (possibly empty)."""
        if self.passed:
            return chunk
        if self._seen < len(self._overlap):
            part = chunk[: len(self._overlap) - self._seen]
            if part != self._overlap[self._seen : self._seen + len(part)]:
                self.failed = "mismatch"
                return b""
            self._seen += len(part)
            chunk = chunk[len(part) :]
            if self._seen < len(self._overlap):
                return b""
            if not self.sniff:
                self.passed = True
                return chunk
        self.held += chunk
        return self._judge() if len(self.held) >= SNIFF_BYTES else b""

    def end(self) -> bytes:
        """The body ended cleanly: judge what is held (a short body) and return it."""
        if self.passed or self.failed or self._seen < len(self._overlap):
            return b""
        return self._judge()

    def _judge(self) -> bytes:
        if sniff(bytes(self.held[:SNIFF_BYTES]), self.content_type) == "not-video":
            self.failed = "not-video"
            return b""
        self.passed = True
        held, self.held = bytes(self.held), bytearray()
        return held


@dataclass(frozen=True, slots=True)
class Stream:
    """Copy this response's body, its start judged by ``head`` (when given); ``fresh``: the body is
    the content from byte 0 (the consumer discards what it holds)."""

    fresh: bool
    head: Head | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read this response's body (up to :data:`ERROR_BODY_LIMIT`) and call ``on_error_body``."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Wait ``delay`` seconds, then send the next request; ``reason`` is for the log.
    ``resume``: it continues after new bytes arrived (good news, logged at INFO)."""

    delay: float
    reason: str
    resume: bool = False


@dataclass(frozen=True, slots=True)
class Fail:
    """Raise ``error``."""

    error: OpenRouterVideoError


@dataclass(frozen=True, slots=True)
class Check:
    """Verify what was kept (:class:`Verdict`) and report it with :meth:`DownloadCore.on_verdict`."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the kept bytes look like, for :meth:`DownloadCore.on_verdict`.

    Attributes:
        boxes: The ISO-BMFF box walk of the kept bytes, or ``None`` when they cannot be read back
            (a stream whose bytes the caller consumed).
        digests: The digests of the kept bytes for the algorithms of
            :attr:`DownloadCore.digest_algorithms` (hashlib names).
    """

    boxes: BoxWalk | None = None
    digests: Mapping[str, bytes] = field(default_factory=dict)


class _Done:
    def __repr__(self) -> str:
        return "DONE"


#: The content is complete and proven so (:attr:`DownloadCore.verified`).
DONE: Final = _Done()

OnResponse = Stream | ReadBody | Retry | Fail
Next = Retry | Fail | Check | _Done


class Aborted(Exception):
    """The driver dropped a body on the core's :class:`Watchdog` (too slow, or past the deadline)."""

    def __init__(self, reason: str, *, deadline: bool) -> None:
        super().__init__(reason)
        self.deadline = deadline


class Watchdog:
    """Called for every chunk a body brings: the low-speed guard and the call's deadline.

    The guard (``RetryPolicy.min_speed = (bytes_per_second, seconds)``, as curl's
    ``--speed-limit``/``--speed-time``) drops a body that brought less than ``bytes_per_second *
    seconds`` bytes in a window of ``seconds``; the download then resumes.
    """

    __slots__ = ("_clock", "_deadline", "_limit", "_window", "_window_bytes", "_window_end", "reason")

    def __init__(self, policy: RetryPolicy, deadline: float | None) -> None:
        self._clock = policy.clock
        self._deadline = deadline
        speed, self._window = policy.min_speed or (0, float("inf"))
        self._limit = speed * self._window if speed else 0
        self._window_end = self._clock() + self._window
        self._window_bytes = 0
        self.reason: Aborted | None = None

    def tick(self, size: int) -> bool:
        """Count ``size`` bytes just received; True when the body must be dropped (see ``reason``)."""
        self._window_bytes += size
        now = self._clock()
        if self._deadline is not None and now >= self._deadline:
            self.reason = Aborted("the deadline passed", deadline=True)
            return True
        if now >= self._window_end:
            if self._window_bytes < self._limit:
                self.reason = Aborted(
                    f"slower than {self._limit / self._window:g} bytes/s for {self._window:g} s "
                    f"({self._window_bytes} bytes)",
                    deadline=False,
                )
                return True
            self._window_end, self._window_bytes = now + self._window, 0
        return False


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_CONTENT_RANGE_UNSATISFIED = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)
#: A tag, for :func:`_body_text`. ``[^<>]`` (not ``[^>]``) keeps it linear: a match attempt ends at
#: the next ``<``, so 64 KiB of ``<`` or ``<a`` cost one pass, not a quadratic rescan.
_TAGS = re.compile(r"<[^<>]+>")
_SPACE = re.compile(r"\s+")
_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes START-END/TOTAL`` as ``(start, end, total or None)``, or ``None`` if malformed."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    start, end, total = match.groups()
    return int(start), int(end), None if total == "*" else int(total)


def content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _framing(status: int, headers: Mapping[str, str]) -> Framing:
    """How the body's end is delimited: a length, the chunked encoding, or the connection closing."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked"
    if content_length(headers) is not None:
        return "content-range" if status == 206 else "content-length"
    return "close"


def _body_text(body: bytes, content_type: str | None, limit: int = 300) -> str:
    """A one-line text for a non-JSON body: an HTML page's title, else its text, shortened. Linear in
    the body's size (``bytes.find``, :data:`_TAGS`): a hostile page costs one pass, on the event loop too."""
    if content_type and "html" in content_type.lower():
        lower = body.lower()  # ASCII-only lower-casing: the offsets stay those of ``body``
        start = lower.find(b"<title")
        opened = lower.find(b">", start + 6) if start >= 0 else -1
        closed = lower.find(b"</title", opened + 1) if opened >= 0 else -1
        if closed >= 0:
            body = body[opened + 1 : closed]
    text = _SPACE.sub(" ", unescape(_TAGS.sub(" ", body.decode("utf-8", "replace")))).strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` from a generated model or ``obj[name]`` from a dict; None when unset/absent."""
    value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    if value is None or type(value).__name__ == "Unset":
        return None
    return value


def _mapping(value: Any) -> dict[str, Any] | None:
    if hasattr(value, "to_dict"):
        return dict(value.to_dict())
    return dict(value) if isinstance(value, dict) else None


#: The generated endpoint's parser of an answer: ``(status, headers, body) -> model``.
ParseModel = Callable[[int, Mapping[str, str], bytes], Any]


def build_status_error(
    status: int, headers: Mapping[str, str], body: bytes, parse_model: ParseModel | None = None
) -> APIStatusError:
    """The :class:`APIStatusError` subclass for an error response.

    ``parse_model`` is the generated endpoint's parser (its ``_build_response(...).parsed``): a
    documented status parses into the spec's model. Undocumented statuses fall back to the spec's
    generic ``{"error": {"code", "message", "metadata"}, "user_id"}`` shape, and bodies that are not
    JSON (a proxy's HTML page, an empty body) to their title or text, or the HTTP reason phrase.
    """
    parsed: Any = None
    if parse_model is not None:
        with contextlib.suppress(Exception):
            parsed = parse_model(status, headers, body)
    if _field(parsed, "error") is None:  # (_field of None is None)
        parsed = None
        with contextlib.suppress(ValueError, RecursionError):  # not JSON, or nested past the recursion limit
            parsed = json.loads(body)
        parsed = parsed if isinstance(parsed, dict) else None
    error = _field(parsed, "error")
    fields = None if isinstance(error, str) else error  # the spec's {"code", "message", "metadata"}
    message = error if isinstance(error, str) else _field(fields, "message")
    code, user_id = _field(fields, "code"), _field(parsed, "user_id") if fields is not None else None
    text = str(message) if message is not None else ""
    return status_error_class(status)(
        status,
        redact(text or _body_text(body, headers.get("content-type")) or _PHRASES.get(status, "error")),
        code=code if isinstance(code, int) else None,
        metadata=_mapping(_field(fields, "metadata")),
        user_id=str(user_id) if user_id is not None else None,
        retry_after=parse_retry_after(headers),
        body=body,
    )


def _size(count: int) -> str:
    """``count`` bytes for a person: ``512 bytes``, ``17 KiB``, ``3.2 MiB``, ``1.25 GiB``."""
    if count < 1024:
        return f"{count} bytes"
    unit, scale = next(u for u in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)) if count >= u[1])
    value = count / scale
    return f"{value:.0f} {unit}" if value >= 100 or unit == "KiB" else f"{value:.3g} {unit}"


def named_failure(exc: Failure | Exception) -> str:
    """``Name: message`` of a failure or exception."""
    return str(exc) if isinstance(exc, Failure) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Failure:
    """A request, or a body, that failed in the transport: the event the drivers make of an httpx
    exception (:func:`~..io.http.failure`), so that the engine never sees httpx.

    Attributes:
        name: The exception's type name, e.g. ``"ReadTimeout"``.
        detail: Its message, keys redacted.
        kind: ``"timeout"``, ``"connect"`` (no connection was made) or ``"other"``.
        origin: ``scheme://host:port`` of the request, when known.
        retryable: Whether trying again can help (not for a bad URL or a certificate that fails).
        cause: The original exception, kept as the ``__cause__`` of :meth:`error`.
    """

    name: str
    detail: str
    kind: Literal["timeout", "connect", "other"] = "other"
    origin: str | None = None
    retryable: bool = True
    cause: BaseException | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"

    def error(self, what: str) -> OpenRouterVideoError:
        """The package's exception for it, naming the request (``what``) and the host."""
        detail, origin = self.detail or self.name, self.origin
        error: OpenRouterVideoError
        if self.kind == "timeout":
            at = f" waiting for {origin}" if origin else ""
            error = APITimeoutError(f"{what}: timed out{at} ({self.name}: {detail})")
        elif self.kind == "connect" and origin:
            error = APIConnectionError(f"{what}: cannot connect to {origin}: {detail}")
        else:
            error = APIConnectionError(f"{what}: {self.name}{f' from {origin}' if origin else ''}: {detail}")
        error.__cause__ = self.cause
        return error


def checked(retry: Retry, retries: RetryState, what: str) -> Retry | Fail:
    """``retry``, unless its wait would end past the deadline: then the deadline's error."""
    if retries.past_deadline(retry.delay):
        reason = retry.reason.removesuffix("; resuming")  # it stops here: it does not resume
        return Fail(DeadlineExceededError(f"{what}: the deadline passed ({reason}); stopped"))
    return retry


def not_video(what: str, content_type: str | None, snippet: str, shown: str = "") -> Fail:
    """The failure of a 2xx body that is not a video; ``shown`` ends the message."""
    got = content_type or "no Content-Type"
    message = f"{what}: expected video, got {got} whose body is not a video{shown}"
    return Fail(UnexpectedContentError(message, content_type=content_type, snippet=snippet))


@dataclass(frozen=True, slots=True)
class Resumable:
    """What a kept partial download remembers about its content (see :meth:`DownloadCore.resume`).

    Attributes:
        etag: The first response's ETag, as sent (quoted or not; weak ones are kept for comparison
            but never sent in If-Range).
        last_modified: The first response's Last-Modified.
        total: The content's size, when known.
        content_type: The first response's media type.
        digests: Digests of the whole content the server announced (hashlib name to raw digest).
        origin: Where the validators come from: :data:`API_ORIGIN` or a signed URL's origin.
    """

    etag: str | None = None
    last_modified: str | None = None
    total: int | None = None
    content_type: str | None = None
    digests: Mapping[str, bytes] = field(default_factory=dict)
    origin: str = API_ORIGIN

    @staticmethod
    def of(headers: Mapping[str, str], total: int | None, origin: str = API_ORIGIN) -> Resumable:
        """The content a 200 with ``headers`` from ``origin`` describes."""
        return Resumable(
            etag=headers.get("etag") or None,
            last_modified=headers.get("last-modified") or None,
            total=total,
            content_type=headers.get("content-type"),
            digests=expected_digests(headers),
            origin=origin,
        )

    @property
    def if_range(self) -> str | None:
        """The validator ``If-Range`` carries: a strong ETag, else Last-Modified."""
        return self.etag if self.etag and not self.etag.startswith("W/") else self.last_modified

    def differs(self, headers: Mapping[str, str], total: int | None = None) -> bool:
        """Whether ``headers`` carry a validator (ETag, Last-Modified), or a range answer its ``total``,
        other than this content's (what one side does not say is no difference)."""
        theirs = (headers.get("etag") or None, headers.get("last-modified") or None, total)
        ours = (self.etag, self.last_modified, self.total)
        return any(a is not None and b is not None and a != b for a, b in zip(theirs, ours, strict=True))


class _HasRetries(Protocol):
    retries: RetryState


class _Decisions:
    """What a stream (:class:`DownloadCore`) and a range (:class:`~.segments.SegmentCore`) decide
    alike. ``at`` holds the retries: the core of a stream, the worker of a range."""

    policy: RetryPolicy
    what: str
    parse_model: ParseModel | None
    attempts: int
    total: int | None

    def _kept(self) -> int:
        raise NotImplementedError

    def _answer_failed(
        self, at: _HasRetries, status: int, headers: Mapping[str, str], body: bytes
    ) -> Retry | Fail:
        """An error response: raised at once, or retried (a status of ``retry_statuses``)."""
        error = build_status_error(status, headers, body, self.parse_model)
        too_late = error.retry_after is not None and error.retry_after > self.policy.max_retry_after
        if status not in self.policy.retry_statuses or too_late:
            return Fail(error)
        return self._failed(at, f"HTTP {status}: {error.message}", error, error.retry_after)

    def _request_failed(self, at: _HasRetries, failure: Failure) -> Retry | Fail:
        error = failure.error(self.what)
        if not failure.retryable:
            return Fail(error)
        return self._failed(at, str(failure), error)

    def _cut(
        self, at: _HasRetries, reason: str, exc: Failure | Exception | None = None, *, progressed: bool
    ) -> Retry | Fail:
        """The body stopped before the end (``exc``: how): resume where it stopped."""
        if isinstance(exc, Failure) and not exc.retryable:
            return Fail(exc.error(self.what))
        if progressed:
            # A resume that brought new bytes is free: no backoff, not counted as a failure.
            at.retries = at.retries.resumed()
            return checked(Retry(0.0, f"{reason}; resuming", resume=True), at.retries, self.what)
        # A body that brought nothing new counts against max_attempts even within resume_window
        # (which rides out outages, not a server that cuts every answer at the same byte, nor one
        # that answers every range with the same short whole file).
        return self._failed(at, f"{reason}; resuming", None, fruitless=True)

    def _failed(
        self,
        at: _HasRetries,
        reason: str,
        error: OpenRouterVideoError | None,
        retry_after: float | None = None,
        *,
        fruitless: bool = False,
    ) -> Retry | Fail:
        retries = at.retries = at.retries.increment(fruitless=fruitless)
        if retries.is_exhausted():
            why = f"incomplete after {self.attempts} requests: {reason}"
            return Fail(error) if error is not None else self._incomplete(why)
        return checked(Retry(retries.delay(retry_after), reason), retries, self.what)

    def _incomplete(self, message: str) -> Fail:
        """Fail with an :class:`IncompleteDownloadError` (the bytes kept, of the total announced)."""
        return Fail(
            IncompleteDownloadError(f"{self.what}: {message}", received=self._kept(), expected=self.total)
        )


class DownloadCore(_Decisions):
    """The state and decisions of one resumable download (or stream) of one video.

    Args:
        policy: The retry policy (its ``clock`` is the only time source).
        what: Names the download in messages and logs, e.g. ``"GET /videos/job-1/content"``.
        parse_model: Parses an error response with the generated models (see
            :func:`build_status_error`).
        can_restart: Whether bytes already delivered may be discarded. A file download can (it
            truncates its partial file); a stream whose bytes the caller already consumed cannot,
            so there a restart is an :class:`IncompleteDownloadError` instead.
        deadline: The clock time after which the download fails with
            :class:`~openrouter_video.errors.DeadlineExceededError`.
        origin: Where the bytes come from (:attr:`Resumable.origin`). A partial kept from another
            origin is continued by the switch rule (see :meth:`resume`).

    Attributes:
        offset: Bytes of the current content kept so far.
        total: The content's size, when the server told it.
        tail: The last bytes kept (at most :data:`OVERLAP`), re-read and compared on the next resume.
        content_type: The media type of the video response.
        attempts: Requests sent.
        resumes: Range requests answered with a fitting 206.
        verified: How completeness was proven, once :data:`DONE`.
        content: What identifies the current content (validators, total, digests); changes when the
            content starts again from byte 0.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        what: str,
        parse_model: ParseModel | None = None,
        can_restart: bool = True,
        deadline: float | None = None,
        origin: str = API_ORIGIN,
    ) -> None:
        self.policy, self.what, self.origin = policy, what, origin
        self._switched = False  # resuming another origin's partial: adopt this one's validators
        self.parse_model, self.can_restart = parse_model, can_restart
        self.retries = RetryState(policy, deadline)
        self.offset = self.attempts = self.resumes = 0
        self.total: int | None = None
        self.content_type: str | None = None
        self.verified: Verified | None = None
        self.content = Resumable(origin=origin)
        self.tail = b""
        self._delivered = 0  # bytes the consumer holds (equals offset unless a restart is pending)
        self._malformed = 0  # whole files fetched again because their MP4 boxes were incomplete
        self._attempt_from = 0  # offset when the current body started
        self._high_water = 0  # the furthest offset ever reached, across restarts
        self._range_from: int | None = None  # start of the current range request, if any
        self._framing: Framing = "content-length"
        self._partial = False
        self._probing = False
        self._probe_fallback: Verified | None = None
        self._digest_restarts = 0

    def resume(self, kept: int, tail: bytes, content: Resumable) -> None:
        """Continue a partial download of ``kept`` bytes (``tail``: its last bytes, at most
        :data:`OVERLAP`) kept by an earlier call; the next request asks for the rest.

        The switch rule: a partial kept from another origin (the content endpoint and a signed URL
        to the stored copy have validators of their own) is continued without ``If-Range``, and the
        answer must fit by the total size and the overlap bytes re-read before the resume point, else
        the download starts again from byte 0. The validators of the first fitting 206 are used from
        then on."""
        if content.origin != self.origin:
            content = replace(content, etag=None, last_modified=None, origin=self.origin)
            self._switched = True
        self.offset = self._delivered = self._attempt_from = kept
        self.tail = tail[-OVERLAP:]
        self.content = content
        self.total = content.total
        self.content_type = content.content_type

    @property
    def digest_algorithms(self) -> frozenset[str]:
        """The hashlib names of the digests the server announced for the current content."""
        return frozenset(self.content.digests)

    @property
    def deadline(self) -> float | None:
        """The clock time the download must end by, if any."""
        return self.retries.deadline

    def time_left(self) -> float | None:
        """Seconds until the deadline (at least a millisecond), or ``None`` without one."""
        return self.retries.time_left()

    def watchdog(self) -> Watchdog:
        """A new :class:`Watchdog` for the body about to be read."""
        return Watchdog(self.policy, self.deadline)

    def request_headers(self) -> dict[str, str]:
        """Headers for the next request; counts it as an attempt."""
        self.attempts += 1
        headers = {"Accept-Encoding": "identity"}
        self._range_from = None
        if self.offset > 0 and self.tail:
            self._range_from = self.offset - len(self.tail)
            headers["Range"] = f"bytes={self._range_from}-"
            if self.content.if_range:
                headers["If-Range"] = self.content.if_range
        return headers

    def on_response(self, status: int, headers: Mapping[str, str]) -> OnResponse:
        """Decide what to do with a response, from its status and headers."""
        if status not in (200, 206):
            return ReadBody()
        content_type = headers.get("content-type")
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            return Fail(
                UnexpectedContentError(
                    f"{self.what}: the server applied Content-Encoding {encoding!r} to the video "
                    "although identity was requested",
                    content_type=content_type,
                    snippet="",
                )
            )
        self._framing = _framing(status, headers)
        self._partial = status == 206
        if status == 206:
            return self._on_partial(headers)
        # A 200 is the whole content, from byte 0.
        if self._probing and self.content.differs(headers):
            self._probing = False  # the If-Range did not match: this 200 is new content; take it
        if self._probing and self._framing == "content-length":
            # A server that ignores Range still says the whole length: that settles it.
            if content_length(headers) == self.offset:
                self._probe_fallback = "content-length"
                return ReadBody()  # see on_error_body
            self._probing = False  # more (or other) content than was kept: take the whole of it
        if self._probing:
            if self._probe_fallback is not None:
                return ReadBody()  # see on_error_body: the framing or the boxes are the proof
            return Fail(
                IncompleteDownloadError(
                    f"{self.what}: the body ended when the connection closed, with no length, no chunked "
                    f"encoding and no MP4 structure to prove it complete, and the server ignores Range "
                    f"(cannot check whether {self.offset} bytes is all)",
                    received=self.offset,
                    expected=None,
                )
            )
        if self._delivered > 0 and not self.can_restart:
            return self._restart("the server answered a range request with the whole content (200)")
        self.offset = self._delivered = self._attempt_from = 0
        self.tail = b""
        # A Content-Length beside the chunked encoding is a length signal too: a chunked body that
        # ends cleanly at another length is not complete (any disagreement blocks the commit).
        self.total = content_length(headers) if self._framing in ("content-length", "chunked") else None
        self.content_type = content_type
        self.content = Resumable.of(headers, self.total, self.origin)
        self._switched = False
        return Stream(fresh=True, head=Head(b"", sniff=True, content_type=content_type))

    def _on_partial(self, headers: Mapping[str, str]) -> OnResponse:
        parsed = parse_content_range(headers.get("content-range"))
        etag, modified = headers.get("etag") or None, headers.get("last-modified") or None
        known = self.content
        changed = known.differs(headers, parsed[2] if parsed else None)
        fits = (
            self._range_from is not None
            and parsed is not None
            and parsed[0] == self._range_from
            and parsed[2] is not None
            and parsed[1] < parsed[2]
            and parsed[2] >= self.offset
        )
        if changed or not fits or parsed is None or parsed[2] is None:
            why = "the content changed" if changed else "it does not continue the bytes kept"
            return self._restart(
                f"206 with Content-Range {headers.get('content-range')!r}, ETag {etag!r} and "
                f"Last-Modified {modified!r}: {why} (asked from byte {self._range_from}, kept "
                f"{self.offset} of {self.total if self.total is not None else '?'}, ETag {known.etag!r})"
            )
        if self._probing and parsed[2] > self.offset:
            self._probing = False  # the probe found more: an ordinary resume
        if self.total is None:  # the length is learnt from the first range answer
            self.total = parsed[2]
            self.content = replace(known, total=self.total)
        if self._switched:  # this origin's validators carry If-Range from now on
            self._switched = False
            self.content = replace(self.content, etag=etag, last_modified=modified)
        self._attempt_from = self.offset
        return Stream(fresh=False, head=Head(self.tail, sniff=False, content_type=None))

    def _restart(self, reason: str) -> Fail | Retry:
        """Discard what was kept and fetch again from 0 (counts as a failed attempt)."""
        if self._delivered > 0 and not self.can_restart:
            return self._incomplete(f"cannot resume a stream whose bytes were consumed: {reason}")
        self._discard()
        self._probing = False
        self.retries = self.retries.forget_progress()  # what was received is discarded
        return self._failed(self, f"restarting from byte 0: {reason}", error=None)

    def on_error_body(self, status: int, headers: Mapping[str, str], body: bytes) -> Next:
        """Decide after reading the body of a response that is not the video."""
        if status == 200 and self._probing and self._probe_fallback is not None:
            self.verified = self._probe_fallback  # the server ignores Range: nothing better to go on
            self.total = self.offset
            return DONE
        if status == 416 and self._range_from is not None:
            unsatisfied = _CONTENT_RANGE_UNSATISFIED.match(headers.get("content-range") or "")
            if self._probing and unsatisfied and int(unsatisfied.group(1)) == self.offset:
                self.total = self.offset
                self.verified = "range-probe"
                return DONE
            return self._restart(
                f"the server cannot serve the range from byte {self._range_from} "
                f"(416, Content-Range {headers.get('content-range')!r})"
            )
        return self._answer_failed(self, status, headers, body)

    def on_body_end(
        self, received: int, exc: Failure | Exception | None, head: Head | None = None, tail: bytes = b""
    ) -> Next:
        """A streamed body ended after passing on ``received`` more bytes, cleanly or with ``exc``.

        ``head`` is the :class:`Head` the body was read through; ``tail`` the last bytes passed on
        so far (at most :data:`OVERLAP` are kept), across bodies of the same content.
        """
        if head is not None and head.failed == "mismatch":
            return self._restart(
                f"the {len(self.tail)} bytes re-read before byte {self.offset} differ from those kept: "
                "the content changed"
            )
        if head is not None and head.failed == "not-video":
            snippet = _body_text(bytes(head.held[:ERROR_BODY_LIMIT]), self.content_type, limit=200)
            return not_video(self.what, self.content_type, snippet, f": {snippet}")
        if head is not None and exc is None and not head.passed and head.failed is None:
            exc = IncompleteDownloadError("the body ended before the bytes re-read at the resume point")
            received = 0
        self.offset += received
        self._delivered = self.offset
        if received:
            self.tail = tail[-OVERLAP:]
        # Progress is measured against the furthest point ever reached: a download started again from
        # byte 0 is cut at most max_attempts times before it passes that point (no endless restarts).
        new = self.offset - max(self._attempt_from, self._high_water)
        self._high_water = max(self._high_water, self.offset)
        if new >= MIN_PROGRESS:
            self.retries = self.retries.progressed()
        if head is not None and self._partial and received:
            self.resumes += 1
        if self.total is not None and self.offset > self.total:
            return self._incomplete(f"received {self.offset} bytes, more than the {self.total} announced")
        if exc is None and self.offset == 0:
            return Fail(
                UnexpectedContentError(
                    f"{self.what}: the server answered with an empty body",
                    content_type=self.content_type,
                    snippet="",
                )
            )
        if exc is None and (self.total is None or self.offset == self.total):
            return Check()
        if isinstance(exc, Aborted) and exc.deadline:
            got = f"{self.offset} of {self.total if self.total is not None else '?'} bytes"
            return Fail(DeadlineExceededError(f"{self.what}: the deadline passed at {got}"))
        of = f" of {_size(self.total)}" if self.total is not None else ""
        if exc is None:
            reason = f"the body ended early at {_size(self.offset)}{of}"
        elif isinstance(exc, Aborted):
            reason = f"{exc} at {_size(self.offset)}{of}"
        else:
            reason = f"connection cut at {_size(self.offset)}{of} ({named_failure(exc)})"
        return self._cut(self, reason, exc, progressed=new >= MIN_PROGRESS)

    def on_verdict(self, verdict: Verdict) -> Next:
        """Decide once the body ended cleanly and the kept bytes were checked (see :class:`Check`)."""
        boxes = verdict.boxes
        length_proof = self.total is not None  # and equal to offset: see on_body_end
        if boxes is not None and boxes.kind == "incomplete":
            reason = f"the MP4 is incomplete at {self.offset} bytes: {boxes.detail}"
            if length_proof:
                if self._malformed == 0 and self.can_restart:
                    self._malformed += 1  # fetched once more: a cut the framing hid is that rare
                    return self._restart(f"{reason}, although the server says it is the whole content")
                return self._incomplete(
                    f"{reason}; the server's file is not a complete MP4: it sent all "
                    f"{self.offset} bytes it announced{', twice' if self._malformed else ''}"
                )
            return self._cut(self, reason, progressed=False)
        # Only the digests the verdict could compute are compared (a stream keeps no bytes to hash).
        expected = {name: value for name, value in self.content.digests.items() if name in verdict.digests}
        wrong = sorted(name for name, value in expected.items() if verdict.digests[name] != value)
        if wrong:
            reason = f"the {', '.join(wrong)} digest of the {self.offset} bytes received does not match"
            if self._digest_restarts == 0 and self.can_restart:
                self._digest_restarts += 1
                self._discard()
                return checked(
                    Retry(0.0, f"{reason}; downloading again from byte 0"), self.retries, self.what
                )
            return Fail(
                IntegrityError(
                    f"{self.what}: {reason} what the server announced, again after downloading it twice",
                    received=self.offset,
                    expected=self.total,
                )
            )
        conclusive_mp4 = boxes is not None and boxes.conclusive
        if expected:
            self.verified = "digest"
        elif self._probing:
            self.verified = "range-probe"
        elif length_proof:
            self.verified = "content-range" if self._partial else "content-length"
        elif self._framing == "chunked" and (conclusive_mp4 or boxes is None or boxes.kind == "not-bmff"):
            self.verified = "mp4" if conclusive_mp4 else "chunked"
        else:
            # The body ended with the connection (or a chunked MP4 that a cut at a fragment boundary,
            # or inside a box that runs to the end of the file, would also produce): ask the server
            # whether more follows. If it cannot say (it ignores Range), the framing or the boxes
            # are all the proof there is.
            self._probe_fallback = (
                "chunked" if self._framing == "chunked" else ("mp4" if conclusive_mp4 else None)
            )
            self.total = None
            self._probing = True
            return checked(
                Retry(0.0, f"the body ended at {self.offset} bytes with nothing to prove it whole; checking"),
                self.retries,
                self.what,
            )
        self.total = self.offset
        return DONE

    def on_request_error(self, failure: Failure) -> Retry | Fail:
        """Sending the request or reading its response headers failed."""
        return self._request_failed(self, failure)

    def _kept(self) -> int:
        return self.offset

    def _discard(self) -> None:
        """Drop what was kept: the content starts again from byte 0."""
        self.offset, self.tail, self.total = 0, b"", None
        self.content = Resumable(origin=self.origin)
