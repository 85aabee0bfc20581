"""File names for downloaded videos (kept apart so that ``import openrouter_video`` stays light)."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_INDEX_LIKE = re.compile(r"-\d+$")
_MAX_STEM = 120


def safe_filename(job_id: str, index: int = 0) -> str:
    """``<job_id>.mp4`` (``<job_id>-<index>.mp4`` when index > 0), with the job id made safe.

    Anything but ASCII letters, digits, ``.``, ``_`` and ``-`` becomes ``_``; runs of dots and
    leading dots are removed, so no separator, ``..`` or hidden name survives; the stem is at most
    120 characters. When the id had to change, or ends like an index suffix (``-<digits>``),
    ``-h`` and 8 hex digits of its SHA-256 are appended: different (job id, index) pairs never get
    the same name (job ``x`` output 1 is ``x-1.mp4``, job ``x-1`` output 0 is ``x-1-h<hash>.mp4``).
    """
    stem = _DOTS.sub(".", _UNSAFE.sub("_", job_id)).lstrip(".")
    if stem != job_id or len(stem) > _MAX_STEM or not stem or _INDEX_LIKE.search(stem):
        digest = hashlib.sha256(job_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[: _MAX_STEM - 10]}-h{digest}" if stem else f"h{digest}"
    suffix = ".mp4" if index == 0 else f"-{index}.mp4"
    return stem + suffix
