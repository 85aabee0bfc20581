"""Running the installed ``openrouter-video`` console script as a real process (shared by test files)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from openrouter_video.testing import FakeOpenRouter

CLI = str(Path(sys.executable).parent / "openrouter-video")


def cli_env(key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    env["OPENROUTER_API_KEY"] = key
    return env


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _download_cli(fake: FakeOpenRouter, cwd: Path) -> subprocess.Popen[str]:
    """A download from the content endpoint (where the tests queue their faults)."""
    return subprocess.Popen(
        [CLI, "download", "job-abc", "--source", "api", "--base-url", fake.base_url],
        cwd=cwd,
        env=cli_env(fake.api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    fake: FakeOpenRouter | None,
    *args: str,
    cwd: Path,
    key: str | None = "fake",
    base_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    if key is not None:
        env["OPENROUTER_API_KEY"] = fake.api_key if (fake is not None and key == "fake") else key
    url = base_url or (fake.base_url if fake is not None else None)
    extra = (
        ["--base-url", url]
        if url and args and args[0] in ("download", "generate", "status", "models")
        else []
    )
    return subprocess.run([CLI, *args, *extra], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]
