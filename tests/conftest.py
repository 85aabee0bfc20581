"""Shared fixtures: a real loopback server (the package's FakeOpenRouter) and small payloads."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from openrouter_video.testing import FakeOpenRouter

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="the event loop every asyncio.run of the tests runs on (make test-uvloop: uvloop)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--loop") == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


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
