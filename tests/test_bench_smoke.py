"""A one-round smoke run of the benchmark harness on a small size, so that it keeps working.

No timed assertions: only that every contender ran, wrote the right bytes (the harness checks sizes
itself and fails otherwise) and that the report has its rows and targets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_harness_one_round(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes",
            "1M",
            "--rounds",
            "1",
            "--startup-runs",
            "1",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = out.read_text()
    for label in (
        "curl -s -o FILE",
        "httpx.stream",
        "sync_detailed",
        "`VideoClient.download`",
        "AsyncVideoClient.download",
        "openrouter-video download",
        'checksum="sha256"',
        "sync -d FILE",
        "durable=False",
    ):
        assert label in report
    assert "Start-up: `openrouter-video --help`" in report and "| target | measured | holds |" in report
    assert list(tmp_path.iterdir()) == [out]  # payloads and outputs cleaned up
