"""`make bench` pastes its two reports into docs/benchmarks.md (bench/run.py and bench/segments.py, --doc).

The bench takes a quarter of an hour, so the paste is tested here on the reports already saved
(bench/results.md, bench/segments.md): the document keeps its markers, a paste replaces exactly what
lies between them, and a document without them stops the bench before it runs, not after.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # run.py imports upstream.py beside it
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_run", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SEGMENTS = ("<!-- bench-segments:start -->", "<!-- bench-segments:end -->")


def test_the_saved_reports_paste_back_into_the_document(run: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    shutil.copy2(DOC, doc)
    original = doc.read_text()
    for (start, end), saved in (((run.START, run.END), "results.md"), (SEGMENTS, "segments.md")):
        run.paste(doc, start, end, "placeholder\n")
        before, rest = doc.read_text().split(start)
        inside, after = rest.split(end)
        assert inside == "\nplaceholder\n"
        assert (before, after) == (original.split(start)[0], original.split(end)[1])
        run.paste(doc, start, end, (BENCH / saved).read_text())
    assert doc.read_text() == original  # the document holds the saved reports


def test_a_document_without_the_markers_stops_the_bench_first(tmp_path: Path) -> None:
    doc = tmp_path / "README.md"
    doc.write_text("# no markers here\n")
    for script in ("run.py", "segments.py", "wan/run.py"):
        result = subprocess.run(
            [sys.executable, str(BENCH / script), "--doc", str(doc)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1 and "nowhere to paste the report" in result.stderr, result.stderr
        assert doc.read_text() == "# no markers here\n"
