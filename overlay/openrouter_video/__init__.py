"""openrouter-video: get generated videos out of OpenRouter's Video Generation API reliably.

Quick start::

    from openrouter_video import VideoClient

    with VideoClient() as client:                  # key from $OPENROUTER_API_KEY
        result = client.download("job-abc123", "out.mp4", checksum="sha256")
        print(result.path, result.size, result.sha256)

:class:`VideoClient` and :class:`AsyncVideoClient` stream the video to a temporary file beside the
destination (bounded memory), resume cut downloads with HTTP range requests, retry 408/429/5xx and
connection failures per :class:`RetryPolicy`, and rename the file into place only when complete.
Errors are in :mod:`openrouter_video.errors`; a fake server for tests is in
:mod:`openrouter_video.testing`.

``generate`` and ``generate_and_download`` take the request's fields as keyword options typed by
:class:`GenerateOptions` (with :data:`Resolution`, :data:`AspectRatio` and the ``...Param``
dictionaries for the nested ones), checked against the spec before the paid request is sent (else
:class:`InvalidRequestError`, and nothing is sent); fields this version does not know go in
``extra_body={...}``, merged into the JSON body as is::

    job = client.generate("google/veo-3.1", "a red kite", duration=8, resolution="720p")

The generated low-level client lives in :mod:`openrouter_video_api` (never edited by hand); this
package is the hand-written layer on top of it and re-exports its client classes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors
from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from .engine.names import safe_filename
from .engine.retry import RetryPolicy
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    DownloadLockedError,
    GoneError,
    IncompleteDownloadError,
    IntegrityError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    OpenRouterVideoError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UnexpectedContentError,
    VideoExpiredError,
    VideoJobFailedError,
    VideoJobTimeoutError,
    WebhookVerificationError,
)
from .io.journal import DEFAULT_PARTIAL_TTL, cleanup_partials

if TYPE_CHECKING:
    from openrouter_video_api import AuthenticatedClient, Client

    from ._options import (
        AspectRatio,
        AudioReferenceParam,
        FrameImageParam,
        FrameType,
        GenerateOptions,
        ImageReferenceParam,
        InputReferenceParam,
        MediaURLParam,
        ProviderParam,
        Resolution,
        VideoReferenceParam,
    )
    from .client import (
        ApiClient,
        AsyncVideoClient,
        AsyncVideoStream,
        DownloadResult,
        OutputProgressCallback,
        ProgressCallback,
        Source,
        VideoClient,
        VideoStream,
    )
    from .io.transport import RetryTransport
    from .jobs import VideoJob, VideoModelInfo

__version__ = "0.1.0"

# The clients pull in httpx and the generated package (~150 ms); they are imported on first use so
# that `import openrouter_video` and `openrouter-video --help` stay fast. The typed options of
# generate() (from ._options) are for typing only: nothing there is needed to call it.
_LAZY = {
    name: module
    for module, names in {
        "._api": "ApiClient",
        "._async.client": "AsyncVideoClient AsyncVideoStream",
        "._base": "DownloadResult OutputProgressCallback ProgressCallback Source",
        "._sync.client": "VideoClient VideoStream",
        ".io.transport": "RetryTransport",
        ".jobs": "VideoJob VideoModelInfo",
        "._options": "AspectRatio AudioReferenceParam FrameImageParam FrameType GenerateOptions "
        "ImageReferenceParam InputReferenceParam MediaURLParam ProviderParam Resolution VideoReferenceParam",
        "openrouter_video_api": "AuthenticatedClient Client",
    }.items()
    for name in names.split()
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'openrouter_video' has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_LAZY[name], __name__), name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_PARTIAL_TTL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiClient",
    "AspectRatio",
    "AsyncVideoClient",
    "AsyncVideoStream",
    "AudioReferenceParam",
    "AuthenticatedClient",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "DownloadLockedError",
    "DownloadResult",
    "FrameImageParam",
    "FrameType",
    "GenerateOptions",
    "GoneError",
    "ImageReferenceParam",
    "IncompleteDownloadError",
    "InputReferenceParam",
    "IntegrityError",
    "InternalServerError",
    "InvalidRequestError",
    "MediaURLParam",
    "NotFoundError",
    "OpenRouterVideoError",
    "OutputProgressCallback",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProgressCallback",
    "ProviderParam",
    "RateLimitError",
    "Resolution",
    "RetryPolicy",
    "RetryTransport",
    "Source",
    "UnexpectedContentError",
    "VideoClient",
    "VideoExpiredError",
    "VideoJob",
    "VideoJobFailedError",
    "VideoJobTimeoutError",
    "VideoModelInfo",
    "VideoReferenceParam",
    "VideoStream",
    "WebhookVerificationError",
    "__version__",
    "cleanup_partials",
    "errors",
    "safe_filename",
]
