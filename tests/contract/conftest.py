"""Prism processes for the contract tests: `prism mock openapi.yaml` and `prism proxy` in front of the
fake server. Each runs on 127.0.0.1 on a free port, is waited for until it answers, and is stopped at
the end of the session even when tests fail."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openrouter_video.testing import FakeOpenRouter

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "openapi.yaml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_prism(*args: str, log: Path) -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed ({PRISM}); run `make contract` (it runs `npm ci`)")
    port = _free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(PRISM), *args, "-h", "127.0.0.1", "-p", str(port), "--errors"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Prism exited with {proc.returncode}:\n{log.read_text()}")
            try:
                httpx.get(url + "/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Prism did not start within 60 s:\n{log.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="session")
def prism_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `prism mock openapi.yaml --errors`."""
    yield from _start_prism("mock", str(SPEC), log=tmp_path_factory.mktemp("prism") / "mock.log")


@pytest.fixture(scope="session")
def session_fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as fake:
        yield fake


@pytest.fixture(scope="session")
def prism_proxy(session_fake: FakeOpenRouter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `prism proxy openapi.yaml <fake server> --errors`."""
    yield from _start_prism(
        "proxy", str(SPEC), session_fake.base_url, log=tmp_path_factory.mktemp("prism") / "proxy.log"
    )
