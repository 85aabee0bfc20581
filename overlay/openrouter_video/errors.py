"""The exceptions raised by :mod:`openrouter_video`.

Every exception derives from :class:`OpenRouterVideoError`, apart from :class:`FileExistsError` and
:class:`FileNotFoundError` for a destination that exists (without ``overwrite``) or whose directory is
missing; those are raised before any request is made.

HTTP errors are :class:`APIStatusError` subclasses chosen by status code (:func:`status_error_class`):
each one's docstring names its status; any other 5xx is an :class:`InternalServerError`, anything else
an :class:`APIStatusError`.

The API key never appears in a message or a repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "DownloadLockedError",
    "GoneError",
    "IncompleteDownloadError",
    "IntegrityError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "OpenRouterVideoError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnexpectedContentError",
    "VideoExpiredError",
    "VideoJobFailedError",
    "VideoJobTimeoutError",
    "WebhookVerificationError",
    "status_error_class",
]


class OpenRouterVideoError(Exception):
    """Base class of every error this package raises.

    Attributes:
        partial_path: Set when a failed download kept its partial file: running the same download
            again (same job, output and destination) resumes from it. ``None`` otherwise.
    """

    partial_path: Any = None


class ConfigurationError(OpenRouterVideoError, ValueError):
    """The client is missing configuration, e.g. no API key (``OPENROUTER_API_KEY``)."""


class InvalidRequestError(OpenRouterVideoError, ValueError):
    """The request does not fit the spec (e.g. an unknown ``resolution``); raised before sending."""


class APIStatusError(OpenRouterVideoError):
    """The API answered with an error status (after any retries).

    Attributes:
        status_code: The HTTP status, e.g. ``404``.
        code: The ``error.code`` from the body (usually the status), or ``None``.
        message: The server's message: ``error.message`` from a JSON body, the title or text of an
            HTML/text body, or the HTTP reason phrase for an empty one.
        metadata: ``error.metadata`` from the body, or ``None``.
        user_id: ``user_id`` from the body, or ``None``.
        retry_after: The ``Retry-After`` delay in seconds, when the server sent one.
        body: The (possibly truncated) raw body.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        retry_after: float | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code, self.code, self.message = status_code, code, message
        self.metadata = dict(metadata) if metadata is not None else None
        self.user_id, self.retry_after, self.body = user_id, retry_after, body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class BadRequestError(APIStatusError):
    """HTTP 400: the request was invalid (e.g. a negative ``index``)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing or wrong."""


class PaymentRequiredError(APIStatusError):
    """HTTP 402: insufficient credits or quota (e.g. when submitting a job)."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not access this resource."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such job, or no such output index."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the job's state (e.g. its output is not ready yet)."""


class GoneError(APIStatusError):
    """HTTP 410: the output is gone; its stored copy has expired. Generate the video again."""


class PayloadTooLargeError(APIStatusError):
    """HTTP 413: the request body is too large (e.g. inline reference images)."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests (raised once retries are used up or Retry-After is too long)."""


class BadGatewayError(APIStatusError):
    """HTTP 502: the upstream provider (or a proxy) failed."""


class InternalServerError(APIStatusError):
    """Any 5xx other than 502."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    502: BadGatewayError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass for ``status_code``."""
    return _BY_STATUS.get(status_code, InternalServerError if 500 <= status_code <= 599 else APIStatusError)


class APIConnectionError(OpenRouterVideoError):
    """The server could not be reached or the connection failed (after any retries)."""


class APITimeoutError(APIConnectionError):
    """Connecting, or waiting for data, took longer than the timeout (after any retries)."""


class DeadlineExceededError(APITimeoutError):
    """The call's overall ``deadline`` passed before it finished."""


class IncompleteDownloadError(OpenRouterVideoError):
    """The body could not be completed or proven complete (retries used up, content that cannot be
    resumed, an MP4 whose boxes do not add up, a close-delimited body).

    Attributes:
        received: Bytes of the current content received so far.
        expected: Bytes announced by the server, or ``None`` when unknown.
    """

    def __init__(self, message: str, *, received: int = 0, expected: int | None = None) -> None:
        super().__init__(message)
        self.received, self.expected = received, expected


class IntegrityError(IncompleteDownloadError):
    """The body does not match the digest the server sent, even after downloading it again."""


class DownloadLockedError(OpenRouterVideoError):
    """Another process (or call) is downloading to the same destination right now."""


class UnexpectedContentError(OpenRouterVideoError):
    """A success response whose body is not video (JSON, HTML or text, e.g. from a proxy); nothing is
    written. ``content_type`` is the response's media type and ``snippet`` the start of its body."""

    def __init__(self, message: str, *, content_type: str | None, snippet: str) -> None:
        super().__init__(message)
        self.content_type, self.snippet = content_type, snippet


class VideoJobFailedError(OpenRouterVideoError):
    """The video job ended ``failed``, ``cancelled`` or ``expired``.

    Attributes:
        job: The last :class:`~openrouter_video.VideoJob` seen.
        error: The server's ``error`` text, if any.
    """

    def __init__(self, job: Any) -> None:
        self.job = job
        self.error: str | None = job.error
        detail = f": {job.error}" if job.error else ""
        super().__init__(f"video job {job.id} {job.status}{detail}")


class VideoJobTimeoutError(OpenRouterVideoError):
    """The video job did not complete within the ``timeout`` given to ``wait``.

    Attributes:
        job: The last :class:`~openrouter_video.VideoJob` seen.
        timeout: The timeout, in seconds.
    """

    def __init__(self, job: Any, timeout: float) -> None:
        self.job, self.timeout = job, timeout
        super().__init__(f"video job {job.id} still {job.status} after {timeout:g} s")


class VideoExpiredError(GoneError):
    """The job's outputs can no longer be downloaded: the content endpoint answered 410, or
    ``source="signed"`` found no unexpired signed URL. Generate the video again. A
    :class:`GoneError` whose message says when (status 410 either way).

    Attributes:
        job_id: The job.
        expired_at: When its stored copy expired (an aware :class:`~datetime.datetime`), if known.
    """

    def __init__(self, job_id: str, expired_at: datetime | None, detail: str = "") -> None:
        when = f"expired at {expired_at:%Y-%m-%d %H:%M:%S %Z}" if expired_at is not None else "is gone"
        detail = f" {' '.join(detail.split())}" if detail.strip() else ""  # one line, whatever was said
        super().__init__(410, f"the stored copy of job {job_id} {when}{detail}; generate it again")
        self.args = (self.message,)
        self.job_id, self.expired_at = job_id, expired_at


class WebhookVerificationError(OpenRouterVideoError):
    """A webhook's ``X-OpenRouter-Signature`` is missing, malformed, stale or does not match."""
