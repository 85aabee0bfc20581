"""`make bench`, third part: the start-up tax (issue 27), in fresh processes.

    python bench/startup.py [--runs 10] [--out bench/startup.md] [--doc docs/benchmarks.md]

Each measure is the median of ``--runs`` fresh processes of this interpreter, after one warm-up run
that writes the bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped: an installed package has its .pyc):

* ``import openrouter_video`` plus building a ``VideoClient`` (then an ``AsyncVideoClient``), timed
  inside the process (the interpreter's own start is not the package's);
* ``openrouter-video --help``, the whole process (the console script beside this interpreter, else
  ``python -m openrouter_video.cli``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import paste

START, END = "<!-- bench-startup:start -->", "<!-- bench-startup:end -->"
CLIENT = "import time; t = time.perf_counter(); import openrouter_video as o; o.{}(api_key='x'); "
CLIENT += "print(time.perf_counter() - t)"


def timed(command: list[str], *, inside: bool, env: dict[str, str]) -> float:
    """Seconds: what the process printed (``inside``), else its wall time."""
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split()[-1]) if inside else time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, help="write the report (Markdown) here")
    parser.add_argument("--doc", type=Path, help="also paste it into this file, between its startup markers")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    script = Path(sys.executable).parent / "openrouter-video"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "openrouter_video.cli"]
    measures = [
        (
            "`import openrouter_video` + `VideoClient(...)` (in-process)",
            0.12,
            CLIENT.format("VideoClient"),
            True,
        ),
        (
            "`import openrouter_video` + `AsyncVideoClient(...)`",
            0.12,
            CLIENT.format("AsyncVideoClient"),
            True,
        ),
        ("`openrouter-video --help` (whole process)", 0.15, None, False),
    ]
    rows = ["| Measure | Median | Min-max | Target | |", "| --- | --- | --- | --- | --- |"]
    for label, target, code, inside in measures:
        command = [sys.executable, "-c", code] if code is not None else [*cli, "--help"]
        timed(command, inside=inside, env=env)  # the warm-up: bytecode written, files cached
        times = [timed(command, inside=inside, env=env) for _ in range(args.runs)]
        median = statistics.median(times)
        spread = f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms"
        met = "met" if median <= target else "**missed**"
        rows.append(f"| {label} | {median * 1000:.0f} ms | {spread} | <= {target * 1000:.0f} ms | {met} |")
    # httpx loads its own command line's rich, click and pygments when all three are installed (~40 ms)
    heavy = [m for m in ("rich", "click", "pygments") if importlib.util.find_spec(m) is not None]
    where = f"with {', '.join(heavy)} installed" if heavy else "without rich, click or pygments"
    venv = f"{Path(sys.prefix).name}, {where}"
    head = f"Python {sys.version.split()[0]} ({venv}), {args.runs} fresh processes each."
    report = "\n".join([head, "", *rows, ""])
    print(report)
    if args.out is not None:
        args.out.write_text(report)
    if args.doc is not None:
        paste(args.doc, START, END, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
