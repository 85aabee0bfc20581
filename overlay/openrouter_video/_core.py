"""The sans-I/O core of a resumable download: every decision, no sockets, no files, no sleeping.

The sync and async drivers (``_drivers.py``) feed it what happened (a response's status and headers,
the bytes a body brought, an exception) and do what it answers:

* :class:`Stream`: copy this response's body to the consumer (after discarding what was written
  before, when ``restart`` is true);
* :class:`ReadBody`: read the (small) body of this non-video response and report it with
  :meth:`DownloadCore.on_error_body`;
* :class:`Retry`: wait ``delay`` seconds, then send the next request;
* :class:`Fail`: raise ``error``;
* :data:`DONE`: the content is complete.

Resume follows pip's model: after a body ends early the next request carries
``Range: bytes=N-`` and ``If-Range: <validator>`` (the first response's strong ETag, else its
Last-Modified). A 206 is appended only if its ``Content-Range`` starts at N with the same total and
its ETag (if any) is unchanged; anything else (a 200, a 206 that does not fit, a 416, a response with
no validator to resume against) discards what was written and starts again from byte 0, so changed
content is never spliced into old bytes.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import unescape
from typing import Any, Final

import httpx

from ._retry import RetryPolicy, parse_retry_after
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    IncompleteDownloadError,
    OpenRouterVideoError,
    UnexpectedContentError,
    status_error_class,
)

#: How much of a non-video body is read to build an error.
ERROR_BODY_LIMIT: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Stream:
    """Copy this response's body; discard what was written before if ``restart``."""

    restart: bool


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read this response's body (up to :data:`ERROR_BODY_LIMIT`) and call ``on_error_body``."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Wait ``delay`` seconds, then send the next request; ``reason`` is for the log."""

    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class Fail:
    """Raise ``error``."""

    error: OpenRouterVideoError


class _Done:
    def __repr__(self) -> str:
        return "DONE"


DONE: Final = _Done()

OnResponse = Stream | ReadBody | Retry | Fail
Next = Retry | Fail | _Done

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_NOT_VIDEO = re.compile(r"^(text/|application/(json|xml|xhtml\+xml|problem\+json)\b)", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes START-END/TOTAL`` as ``(start, end, total or None)``, or ``None`` if malformed."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    start, end, total = match.groups()
    return int(start), int(end), None if total == "*" else int(total)


def _validator(headers: Mapping[str, str]) -> str | None:
    """A strong ETag, else Last-Modified: what If-Range may carry (RFC 9110 13.1.5)."""
    etag = headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("last-modified") or None


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _body_text(body: bytes, content_type: str | None, limit: int = 300) -> str:
    """A one-line text for a non-JSON body: an HTML page's title, else its text, shortened."""
    if content_type and "html" in content_type.lower():
        title = _TITLE.search(body)
        if title:
            body = title.group(1)
    text = _SPACE.sub(" ", unescape(_TAGS.sub(" ", body.decode("utf-8", "replace")))).strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` from a generated model or ``obj[name]`` from a dict; None when unset/absent."""
    value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    if value is None or type(value).__name__ == "Unset":
        return None
    return value


def _mapping(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if hasattr(value, "to_dict"):
        return dict(value.to_dict())
    return dict(value) if isinstance(value, dict) else None


ParseModel = Callable[[httpx.Response], Any]


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
        try:
            parsed = parse_model(httpx.Response(status, headers=dict(headers), content=body))
        except Exception:
            parsed = None
    if parsed is None or _field(parsed, "error") is None:
        try:
            candidate = json.loads(body)
        except ValueError:
            candidate = None
        parsed = candidate if isinstance(candidate, dict) else None
    error = _field(parsed, "error") if parsed is not None else None
    message: str | None = None
    code: int | None = None
    metadata: dict[str, Any] | None = None
    user_id: str | None = None
    if isinstance(error, str):
        message = error
    elif error is not None:
        raw_message = _field(error, "message")
        message = str(raw_message) if raw_message is not None else None
        raw_code = _field(error, "code")
        code = raw_code if isinstance(raw_code, int) else None
        metadata = _mapping(_field(error, "metadata"))
        raw_user = _field(parsed, "user_id")
        user_id = str(raw_user) if raw_user is not None else None
    if not message:
        message = _body_text(body, headers.get("content-type"))
    if not message:
        message = httpx.codes.get_reason_phrase(status) or "error"
    return status_error_class(status)(
        status,
        message,
        code=code,
        metadata=metadata,
        user_id=user_id,
        retry_after=parse_retry_after(headers),
        body=body,
    )


def connection_error(exc: Exception, what: str) -> OpenRouterVideoError:
    """The package's exception for an httpx request error."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"{what}: timed out ({type(exc).__name__}: {detail})")
    return APIConnectionError(f"{what}: {type(exc).__name__}: {detail}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_retryable_exception(exc: Exception) -> bool:
    """Connection failures, resets and timeouts are retried; too many redirects, bad URLs and a
    certificate that fails verification are not."""
    return (
        isinstance(exc, httpx.TransportError)
        and not isinstance(exc, httpx.UnsupportedProtocol)
        and not _caused_by(exc, ssl.SSLCertVerificationError)
    )


class DownloadCore:
    """The state and decisions of one resumable download (or stream) of one video.

    Args:
        policy: The retry policy.
        what: Names the download in messages and logs, e.g. ``"GET /videos/job-1/content"``.
        parse_model: Parses an error response with the generated models (see
            :func:`build_status_error`).
        can_restart: Whether bytes already delivered may be discarded. A file download can (it
            truncates its temporary file); a stream whose bytes the caller already consumed cannot,
            so there a restart is an :class:`IncompleteDownloadError` instead.

    Attributes:
        offset: Bytes of the current content delivered so far.
        total: The content's size, when the server told it.
        content_type: The media type of the video response.
        attempts: Requests sent.
        resumes: Range requests answered with a fitting 206.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        what: str,
        parse_model: ParseModel | None = None,
        can_restart: bool = True,
    ) -> None:
        self.policy = policy
        self.what = what
        self.parse_model = parse_model
        self.can_restart = can_restart
        self.offset = 0
        self.total: int | None = None
        self.content_type: str | None = None
        self.attempts = 0
        self.resumes = 0
        self._validator: str | None = None
        self._delivered = 0  # bytes the consumer holds (equals offset unless a restart is pending)
        self._high_water = 0
        self._failures = 0
        self._range_from = 0

    # -- requests ----------------------------------------------------------------------------------
    def request_headers(self) -> dict[str, str]:
        """Headers for the next request; counts it as an attempt."""
        self.attempts += 1
        headers = {"Accept-Encoding": "identity"}
        self._range_from = self.offset
        if self.offset > 0 and self._validator is not None:
            headers["Range"] = f"bytes={self.offset}-"
            headers["If-Range"] = self._validator
        return headers

    # -- responses ---------------------------------------------------------------------------------
    def on_response(self, status: int, headers: Mapping[str, str]) -> OnResponse:
        """Decide what to do with a response, from its status and headers."""
        if status not in (200, 206):
            if status == 416 and self._range_from > 0:
                return self._restart("the server cannot serve the requested range (416)")
            return ReadBody()
        content_type = headers.get("content-type")
        if content_type and _NOT_VIDEO.match(content_type):
            return ReadBody()
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
        if status == 206:
            return self._on_partial(headers)
        if self._delivered > 0 and not self.can_restart:
            return self._restart("the server answered a range request with the whole content (200)")
        restart = self._delivered > 0
        self.offset = self._delivered = 0
        self.total = _content_length(headers)
        self._validator = _validator(headers)
        self.content_type = content_type
        return Stream(restart=restart)

    def _on_partial(self, headers: Mapping[str, str]) -> OnResponse:
        parsed = parse_content_range(headers.get("content-range"))
        etag = headers.get("etag")
        fits = (
            self._range_from > 0
            and parsed is not None
            and parsed[0] == self.offset
            and parsed[2] is not None
            and (self.total is None or parsed[2] == self.total)
            and (etag is None or not self._validator_is_etag() or etag == self._validator)
        )
        if not fits or parsed is None:
            return self._restart(
                f"206 with Content-Range {headers.get('content-range')!r} and ETag {etag!r} does not "
                f"continue byte {self.offset} of {self.total if self.total is not None else '?'} "
                f"(ETag {self._validator!r})"
            )
        self.total = parsed[2]
        self.resumes += 1
        return Stream(restart=False)

    def _validator_is_etag(self) -> bool:
        return self._validator is not None and self._validator.endswith('"')

    def _restart(self, reason: str) -> Fail | Retry:
        """Discard what was written and fetch again from 0 (counts as a failed attempt)."""
        if self._delivered > 0 and not self.can_restart:
            return Fail(
                IncompleteDownloadError(
                    f"{self.what}: cannot resume a stream whose bytes were consumed: {reason}",
                    received=self.offset,
                    expected=self.total,
                )
            )
        self.offset = 0
        self._validator = None
        return self._failed(reason, error=None)

    def on_error_body(self, status: int, headers: Mapping[str, str], body: bytes) -> Retry | Fail:
        """Decide after reading the body of a response that is not the video."""
        if status in (200, 206):
            content_type = headers.get("content-type")
            snippet = _body_text(body, content_type, limit=200)
            return Fail(
                UnexpectedContentError(
                    f"{self.what}: expected video, got {content_type} (HTTP {status}): {snippet}",
                    content_type=content_type,
                    snippet=snippet,
                )
            )
        error = build_status_error(status, headers, body, self.parse_model)
        if status not in self.policy.retry_statuses:
            return Fail(error)
        if error.retry_after is not None and error.retry_after > self.policy.max_retry_after:
            return Fail(error)
        return self._failed(f"HTTP {status}: {error.message}", error, error.retry_after)

    # -- bodies and failures -----------------------------------------------------------------------
    def on_body_end(self, received: int, exc: Exception | None) -> Next:
        """A streamed body ended after ``received`` more bytes, cleanly or with ``exc``."""
        self.offset += received
        self._delivered = self.offset
        progressed = self.offset > self._high_water
        self._high_water = max(self._high_water, self.offset)
        if exc is None and (self.total is None or self.offset == self.total):
            return DONE
        if self.total is not None and self.offset > self.total:
            return Fail(
                IncompleteDownloadError(
                    f"{self.what}: received {self.offset} bytes, more than the {self.total} announced",
                    received=self.offset,
                    expected=self.total,
                )
            )
        got = f"{self.offset} of {self.total if self.total is not None else '?'} bytes"
        if exc is None:
            reason = f"body ended early at {got}"
        else:
            reason = f"{type(exc).__name__} at {got}: {exc}"
        if exc is not None and not is_retryable_exception(exc):
            return Fail(connection_error(exc, self.what))
        if self._validator is None or self.total is None:
            return self._restart(f"{reason} (nothing to resume against)")
        if progressed:
            # A resume that brought new bytes is free: no backoff, not counted as a failure.
            self._failures = 0
            return Retry(0.0, f"{reason}; resuming")
        return self._failed(reason, None)  # raises IncompleteDownloadError once attempts run out

    def on_request_error(self, exc: Exception) -> Retry | Fail:
        """Sending the request or reading its response headers failed with ``exc``."""
        error = connection_error(exc, self.what)
        if not is_retryable_exception(exc):
            return Fail(error)
        return self._failed(f"{type(exc).__name__}: {exc}", error)

    def _failed(
        self, reason: str, error: OpenRouterVideoError | None, retry_after: float | None = None
    ) -> Retry | Fail:
        self._failures += 1
        delay = self.policy.delay(self._failures, retry_after)
        if delay is None:
            return Fail(error or self._incomplete(reason))
        return Retry(delay, reason)

    def _incomplete(self, reason: str) -> IncompleteDownloadError:
        return IncompleteDownloadError(
            f"{self.what}: incomplete after {self.attempts} requests: {reason}",
            received=self.offset,
            expected=self.total,
        )
