"""The high-level clients: :class:`VideoClient` (sync) and :class:`AsyncVideoClient` (async).

Both are written once, in :mod:`._async.client`; the sync one is generated from it by
``scripts/unasync.py`` (:mod:`._sync.client`). What they share otherwise is in :mod:`._base`.
"""

from __future__ import annotations

from ._api import ApiClient
from ._async.client import AsyncVideoClient, AsyncVideoStream
from ._base import (
    DEFAULT_EXPIRY_MARGIN,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    DownloadResult,
    OutputProgressCallback,
    ProgressCallback,
    Source,
)
from ._sync.client import VideoClient, VideoStream

__all__ = [
    "DEFAULT_EXPIRY_MARGIN",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "ApiClient",
    "AsyncVideoClient",
    "AsyncVideoStream",
    "DownloadResult",
    "OutputProgressCallback",
    "ProgressCallback",
    "Source",
    "VideoClient",
    "VideoStream",
]
