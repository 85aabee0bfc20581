"""Segmented downloads at test scale: the thresholds (2 MiB to segment, 1 MiB to split, 0.1 s ramp
windows) are module constants patched to 1 MiB, 256 KiB and 0.1 s by the autouse fixture
:func:`small_thresholds`, which the segment tests import."""

from __future__ import annotations

import pytest
from openrouter_video.engine import segments as _segments

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_segments, "MIN_SEGMENTED_SIZE", 1 * MIB)
    monkeypatch.setattr(_segments, "MIN_SPLIT", 256 * KIB)
    monkeypatch.setattr(_segments, "RAMP_WINDOW", 0.1)
