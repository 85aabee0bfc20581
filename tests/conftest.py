"""Shared fixtures: a real loopback server (the package's FakeOpenRouter) and small payloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openrouter_video.testing import FakeOpenRouter

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake(openrouter_fake: FakeOpenRouter) -> FakeOpenRouter:
    """The package's own pytest-plugin fixture (registered through the pytest11 entry point)."""
    return openrouter_fake


@pytest.fixture
def payload() -> bytes:
    """256 KiB of incompressible bytes (small, but many transport chunks)."""
    return os.urandom(256 * 1024)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
