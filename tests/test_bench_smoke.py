"""A one-round smoke run of the benchmark harness on a small size, so that it keeps working.

No timed assertions: only that every contender ran, wrote the right bytes (the harness checks sizes
itself and fails otherwise) and that the report has its rows and targets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_upstreams_https_port_is_never_its_http_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel may hand out the same free port twice in a row; nginx then fails with "duplicate
    listen" (seen once in make test). free_port(avoid=...) asks again."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "bench"))
    import upstream

    ports = iter([5001, 5001, 5002])

    class _Socket:
        def __enter__(self) -> _Socket:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def bind(self, address: tuple[str, int]) -> None:
            self.port = next(ports)

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(upstream.socket, "socket", _Socket)
    http = upstream.free_port()
    assert upstream.free_port(avoid=frozenset({http})) == 5002
