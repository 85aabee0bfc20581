"""Video jobs: what ``generate``, ``get_job``, ``wait`` and ``list_models`` return, and the decisions
behind them, shared by the sync and async clients (no I/O here).

Requests are built by the generated endpoint modules (their ``_get_kwargs``) and error bodies parsed
with their models. Job bodies are read tolerantly into :class:`VideoJob`: a status this version does
not know (the API may add one) is kept as a string rather than failing, as the generated enum would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Final

import httpx
from openrouter_video_api.api.video_generation import create_videos, get_videos, list_videos_models
from openrouter_video_api.models import VideoGenerationRequest
from openrouter_video_api.spec import JOB, JobFields

from ._extensions import DEADLINE, UNTIL
from ._options import request_body
from ._secrets import redact, register_signed_url
from .engine.core import build_status_error
from .engine.retry import logger
from .errors import (
    APIStatusError,
    InvalidRequestError,
    RateLimitError,
    UnexpectedContentError,
    VideoJobFailedError,
    VideoJobTimeoutError,
)
from .io.http import capped, parser

#: The job completed; its outputs can be downloaded.
COMPLETED: Final = "completed"
#: Statuses that end a job without outputs.
FAILED_STATUSES: Final = frozenset({"failed", "cancelled", "expired"})
#: Statuses the spec's job schema names, and those acted on; anything else is taken for "still running".
KNOWN_STATUSES: Final = frozenset({*JOB["properties"]["status"].get("enum", ()), COMPLETED, *FAILED_STATUSES})


def _read(value: Any, schema: Mapping[str, Any]) -> Any:
    """A job field as the spec types it (see :class:`JobFields`), read tolerantly: a required string
    is kept as text whatever it holds (a status the spec does not list yet), anything else of another
    type than the spec's is left out."""
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return ()
        return tuple(str(v) if schema.get("items", {}).get("type") == "string" else v for v in value)
    if kind == "string":
        return str(value)
    if kind == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return dict(value) if isinstance(value, dict) else None


@dataclass(frozen=True, kw_only=True)
class VideoJob(JobFields):
    """A video generation job, as ``POST /videos`` and ``GET /videos/{jobId}`` describe it.

    Its attributes are every field of the spec's ``VideoGenerationResponse`` (:class:`JobFields`,
    written from openapi.yaml by ``make generate``): ``id`` (what ``download`` takes), ``status``
    (``pending``, ``in_progress``, ``completed``, ``failed``, ``cancelled``, ``expired``, or a newer
    status kept as is), ``polling_url``, ``unsigned_urls`` (output *i* is downloaded with
    ``index=i``), ``urls`` (signed URLs to OpenRouter's stored copy of each output: secrets, shown
    in full here but redacted from every repr, message and log), ``expires_at`` (when that copy
    expires, an aware :class:`~datetime.datetime`; ``None`` when there is none), ``error``,
    ``usage`` and whatever a newer spec adds. ``raw`` is the whole JSON object, for what the spec
    does not say.
    """

    expires_at: datetime | None = None  # type: ignore[assignment]  # the spec's Unix seconds, as UTC
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for url in self.urls:  # secrets, however the job was made: redacted from now on
            register_signed_url(url)
        expires: Any = self.expires_at
        if isinstance(expires, int) and not isinstance(expires, bool):  # the spec's Unix seconds
            try:
                expires = datetime.fromtimestamp(expires, UTC)
            except (OverflowError, OSError, ValueError):
                expires = None
        elif isinstance(expires, datetime) and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)  # a naive time is taken as UTC
        elif not isinstance(expires, datetime):
            expires = None
        object.__setattr__(self, "expires_at", expires)

    def __repr__(self) -> str:
        return redact(super().__repr__())

    @classmethod
    def from_json(cls, data: Any) -> VideoJob:
        """Read a job body; only ``id`` is required."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            snippet = str(data)[:200]
            raise UnexpectedContentError(
                f"expected a video job, got {snippet}", content_type="application/json", snippet=snippet
            )
        fields = {
            name: _read(data[name], schema)
            for name, schema in JOB["properties"].items()
            if data.get(name) is not None
        }
        return cls(**fields, raw=data)

    @property
    def outputs(self) -> int:
        """How many outputs the job has (``len(unsigned_urls)``)."""
        return len(self.unsigned_urls)


def warn_expiry(job: VideoJob, margin: float) -> None:
    """Log a warning when ``job``'s stored copy expires within ``margin`` seconds from now."""
    if job.expires_at is None or margin <= 0:
        return
    left = (job.expires_at - datetime.now(UTC)).total_seconds()
    if left < margin:
        logger.warning(
            "job %s: its stored copy expires at %s, in %.0f s (less than the %.0f s margin); download it now",
            job.id,
            f"{job.expires_at:%Y-%m-%d %H:%M:%S %Z}",
            max(left, 0.0),
            margin,
        )


@dataclass(frozen=True)
class VideoModelInfo:
    """A video generation model from ``GET /videos/models`` (read tolerantly; ``raw`` has it all)."""

    id: str
    name: str
    description: str | None = None
    supported_durations: tuple[int, ...] = ()
    supported_resolutions: tuple[str, ...] = ()
    supported_aspect_ratios: tuple[str, ...] = ()
    generate_audio: bool | None = None
    pricing_skus: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VideoModelInfo:
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or data.get("id", "")),
            description=data.get("description"),
            supported_durations=tuple(data.get("supported_durations") or ()),
            supported_resolutions=tuple(data.get("supported_resolutions") or ()),
            supported_aspect_ratios=tuple(data.get("supported_aspect_ratios") or ()),
            generate_audio=data.get("generate_audio"),
            pricing_skus=data.get("pricing_skus"),
            raw=dict(data),
        )


#: Most bytes of a JSON answer read (decompressed); a larger one is an error, not a memory spike.
MAX_JSON_BYTES: Final = 16 * 1024 * 1024
#: Most bytes of an error answer read (the rest is dropped).
ERROR_BODY_BYTES: Final = 64 * 1024


class Call:
    """One JSON operation: the generated request kwargs, and the reading of its response.

    Attributes:
        request: The generated endpoint's ``_get_kwargs`` (method, url, params, json).
        what: ``"METHOD /path"`` for messages.
        follow_redirects: ``False`` for ``POST``: a paid request is never sent twice or elsewhere,
            so a redirect is an error naming its Location.
        deadline: The clock time (``RetryPolicy.clock``) the whole call must end by, if any.
    """

    def __init__(self, module: ModuleType, ok: Callable[[Any], Any], api: Any, **params: Any) -> None:
        self.module, self.ok, self.api = module, ok, api
        self.request: dict[str, Any] = module._get_kwargs(**params)
        self.what = f"{self.request['method'].upper()} {self.request['url']}"
        self.follow_redirects = self.request["method"].upper() != "POST"
        self.deadline: float | None = None

    def build(self, http: httpx.Client | httpx.AsyncClient, clock: Callable[[], float]) -> httpx.Request:
        """The request, its timeouts capped by what is left of the deadline."""
        extensions: dict[str, Any] = {}
        timeout: Any = http.timeout
        if self.deadline is not None:
            extensions[DEADLINE] = self.deadline
            # at least a second: each request gets its chance (a passed deadline is enforced between attempts)
            left = max(1.0, self.deadline - clock())
            extensions[UNTIL] = time.monotonic() + left
            timeout = capped(http.timeout, left)
        # Only encodings BoundedBody can decode within its limit.
        request = dict(self.request)
        headers = {**dict(request.pop("headers", None) or {}), "Accept-Encoding": "gzip, deflate"}
        return http.build_request(**request, headers=headers, timeout=timeout, extensions=extensions)

    def limit(self, status: int) -> int:
        """How much of an answer with ``status`` is read."""
        return MAX_JSON_BYTES if 200 <= status < 300 else ERROR_BODY_BYTES

    def result(self, status: int, headers: Mapping[str, str], body: bytes, *, truncated: bool = False) -> Any:
        """The parsed result of a 2xx answer; raises the right error for anything else."""
        content_type = headers.get("content-type")
        if 200 <= status < 300:
            if truncated:
                raise UnexpectedContentError(
                    f"{self.what}: the answer is larger than {MAX_JSON_BYTES} bytes",
                    content_type=content_type,
                    snippet="",
                )
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                snippet = redact(body[:200].decode("utf-8", "replace"))
                raise UnexpectedContentError(
                    f"{self.what}: expected JSON, got {content_type}",
                    content_type=content_type,
                    snippet=snippet,
                ) from None
            return self.ok(data)
        if 300 <= status < 400 and not self.follow_redirects:
            location = headers.get("location", "(no Location)")
            raise APIStatusError(
                status,
                f"{self.what} was redirected to {location}; a paid request is never re-sent, "
                "so it was not followed (check the base URL)",
                body=body,
            )
        raise build_status_error(status, headers, body, parser(self.module, self.api))


def create_call(
    api: Any,
    model: str,
    prompt: str | None,
    options: Mapping[str, Any],
    extra_body: Mapping[str, Any] | None = None,
) -> Call:
    """``POST /videos``: ``options`` checked against the spec (:func:`~._options.request_body`, which
    raises :class:`InvalidRequestError` before anything is sent), the body built by the generated
    model, and ``extra_body`` merged into it as is."""
    body, extra = request_body(model, prompt, options, extra_body)
    try:
        request = VideoGenerationRequest.from_dict(body)
    except (KeyError, TypeError, ValueError) as exc:  # (a shape request_body let through)
        raise InvalidRequestError(f"invalid video generation request: {exc}") from None
    # Sent as is: a field the generated model knows but that was not given as an option (e.g. a
    # value newer than this version's enum) is not overwritten by to_dict, which skips unset fields.
    request.additional_properties.update(extra)
    return Call(create_videos, VideoJob.from_json, api, body=request)


def get_call(api: Any, job_id: str) -> Call:
    """``GET /videos/{jobId}``."""
    return Call(get_videos, VideoJob.from_json, api, job_id=job_id)


def models_call(api: Any) -> Call:
    """``GET /videos/models``."""
    return Call(
        list_videos_models,
        lambda data: [VideoModelInfo.from_json(m) for m in (data or {}).get("data", [])],
        api,
    )


class JobWaiter:
    """The decisions of ``wait`` (whose arguments it takes): what to poll, when to stop, how long to
    sleep. A ``polling_url`` is resolved against ``base_url`` and followed only if it stays on the API's
    origin (so the key never goes elsewhere); else the job is polled by id. ``clock``: monotonic seconds.
    """

    def __init__(
        self,
        job: VideoJob | str,
        base_url: str,
        *,
        poll_interval: float,
        timeout: float,
        on_status: Callable[[VideoJob], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job if isinstance(job, VideoJob) else VideoJob(id=job, status="")
        self.base = httpx.URL(base_url if base_url.endswith("/") else base_url + "/")
        self.poll_interval, self.timeout = poll_interval, timeout
        self.on_status, self.clock = on_status, clock
        self.deadline = clock() + timeout
        self._last_status: str | None = None

    def poll_url(self) -> str | None:
        """The absolute URL to poll, or ``None`` to poll ``GET /videos/{jobId}`` by id."""
        if not self.job.polling_url:
            return None
        url = self.base.join(self.job.polling_url)
        same_origin = (url.scheme, url.host, url.port) == (self.base.scheme, self.base.host, self.base.port)
        return str(url) if same_origin else None

    def on_job(self, job: VideoJob) -> float | None:
        """Record a polled job: ``None`` when completed, else the delay before the next poll."""
        self.job = job
        if job.status != self._last_status:
            self._last_status = job.status
            if job.status not in KNOWN_STATUSES:
                logger.warning(
                    "video job %s has status %r, unknown to this version; still waiting", job.id, job.status
                )
            if self.on_status is not None:
                self.on_status(job)
        if job.status == COMPLETED:
            return None
        if job.status in FAILED_STATUSES:
            raise VideoJobFailedError(job)
        return self._next_delay(self.poll_interval)

    def on_rate_limited(self, error: RateLimitError) -> float:
        """A poll was rate limited after the transport's retries: wait its Retry-After and go on."""
        return self._next_delay(max(self.poll_interval, error.retry_after or 0.0), error)

    def _next_delay(self, wanted: float, error: Exception | None = None) -> float:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise VideoJobTimeoutError(self.job, self.timeout) from error
        return min(wanted, remaining)
