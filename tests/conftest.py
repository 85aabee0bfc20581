"""Shared fixtures: a real loopback server (the package's FakeOpenRouter), the download harness for
both clients, small payloads, and no proxy taken from the environment."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from harness import MODES, Harness
from helpers_run import run  # noqa: F401 - fixture: one client method, sync or async
from helpers_tls import certificate, tls_fake  # noqa: F401 - fixtures: a throwaway CA, a TLS fake server
from helpers_wire import raw  # noqa: F401 - fixture: a raw-socket HTTP server
from openrouter_video.testing import FakeOpenRouter

# A shell without job control starts background commands with SIGINT ignored, and children inherit
# that: Ctrl-C tests (a real SIGINT to a CLI process or to this one) would then test nothing. A
# Python handler here is reset to the default in every child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Harness:
    """The download harness, once with the sync client and once with the async one."""
    return Harness(request.param, fake)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test takes a proxy from the environment (the proxy tests set their own)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def payload() -> bytes:
    """256 KiB of incompressible bytes (small, but many transport chunks)."""
    return os.urandom(256 * 1024)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
