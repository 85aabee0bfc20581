"""`make bench`, second part: segmented downloads (``max_connections``) against nginx's per-connection cap.

    python bench/segments.py [--capped-size 256M] [--uncapped-size 1G] [--rounds 3] [--limit-rate 8m]
                             [--out bench/segments.md] [--json bench/segments.json] [--compare PREV.json]
                             [--doc docs/benchmarks.md]

The upstream is the same nginx as bench/run.py (bench/upstream.py), over plain HTTP: its
``/limited/`` location serves the files at ``limit_rate`` per connection, like a CDN that caps
each connection. Contenders take turns within each round:

* capped (``--capped-size``): curl (one connection), ``aria2c -x8 -s8 -k1M``,
  ``VideoClient.download(max_connections=None)`` (adaptive, up to 4) and ``max_connections=8``;
* uncapped loopback (``--uncapped-size``): ``max_connections=1``, ``None`` and ``8``.

The peak RSS target is read from the capped ``max_connections=8`` runs that reached 8 connections.

Every file is compared byte for byte with the one nginx served (after the clock stops). Every
Python run is ``durable=False``, in its own process (bench/contender.py), timed after the
client is made and warmed up; curl and aria2c are timed as whole processes. Before every run, the
page-cache step of bench/run.py; memory is held as there (hold_free_pages). The report gives the
median throughput (min-max), the median of the per-round ratios, the connections used, peak RSS, and
the targets of the segmented-download issue, each marked.
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run import (
    HERE,
    MIB,
    check_markers,
    git_state,
    hold_free_pages,
    human,
    machine,
    make_payload,
    parse_size,
    paste,
    settle_page_cache,
    spawn,
    spread,
)
from upstream import Upstream, find_nginx, stop_on_sigterm

START, END = "<!-- bench-segments:start -->", "<!-- bench-segments:end -->"
CAPPED_JOB, UNCAPPED_JOB = "capped", "uncapped"


@dataclass(frozen=True)
class Run:
    key: str
    label: str
    kind: str  # "curl", "aria2c", "python"
    capped: bool
    connections: int = 1  # for "python": max_connections (0: None)


RUNS = [
    Run("curl", "`curl -s -o FILE` (one connection)", "curl", True),
    Run("aria2c", "`aria2c -x8 -s8 -k1M` (8 connections)", "aria2c", True),
    Run("adaptive", "`download(max_connections=None)` (adaptive, up to 4)", "python", True, 0),
    Run("eight", "`download(max_connections=8)`", "python", True, 8),
    Run("one_uncapped", "`download(max_connections=1)`, uncapped", "python", False, 1),
    Run("adaptive_uncapped", "`download(max_connections=None)`, uncapped", "python", False, 0),
    Run("eight_uncapped", "`download(max_connections=8)`, uncapped", "python", False, 8),
]


def one(up: Upstream, out: Path, run: Run, size: int, serial: int) -> dict[str, Any]:
    base = up.base_url("http", limited=run.capped)
    job = CAPPED_JOB if run.capped else UNCAPPED_JOB
    dest = out / f"{run.key}-{serial:04d}.mp4"
    settle_page_cache(out, size)
    record: dict[str, Any] = {"key": run.key, "connections": run.connections or None}
    if run.kind == "curl":
        outcome = spawn(["curl", "-s", "-f", "-o", str(dest), f"{base}/videos/{job}/content"])
        record.update(seconds=outcome.wall, rss=outcome.rss, used=1)
    elif run.kind == "aria2c":
        command = ["aria2c", "-q", "-x8", "-s8", "-k1M", "--file-allocation=none", "--allow-overwrite=true"]
        command += ["-d", str(out), "-o", dest.name, f"{base}/videos/{job}/content"]
        outcome = spawn(command)
        record.update(seconds=outcome.wall, rss=outcome.rss, used=8)
    else:
        command = [sys.executable, str(HERE / "contender.py"), "segmented", base, job, str(dest)]
        outcome = spawn([*command, "--connections", str(run.connections)])
        inner = json.loads(outcome.stdout)
        record.update(seconds=inner["seconds"], rss=inner["peak_rss"], used=inner["connections"])
    written = dest.stat().st_size
    # byte for byte, after the clock stopped: segments against nginx's own Range handling never splice
    same = written == size and filecmp.cmp(dest, up.www / f"{job}.mp4", shallow=False)
    dest.unlink()
    if not same:
        raise RuntimeError(f"{run.key} wrote {written} bytes that differ from the {size} served")
    record["bytes"] = size
    return record


@dataclass
class Target:
    key: str
    text: str
    values: list[float]
    goal: float
    higher: bool = True
    fmt: str = "{:.2f}x"

    @property
    def value(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def holds(self) -> bool | None:
        value = self.value
        if value is None:
            return None
        return value >= self.goal if self.higher else value <= self.goal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--capped-size", default="256M")
    parser.add_argument("--uncapped-size", default="1G")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit-rate", default="8m", help="nginx limit_rate per connection (default 8m)")
    parser.add_argument("--out", type=Path, default=HERE / "segments.md")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--doc", type=Path, help="also paste the report into this Markdown file")
    parser.add_argument("--command")
    args = parser.parse_args(argv)
    if args.doc:
        check_markers(args.doc, START, END)  # before the run, not after it
    stop_on_sigterm()
    if not find_nginx() or not shutil.which("aria2c") or not shutil.which("curl"):
        raise SystemExit("nginx, aria2c and curl are required (make bench-deps)")
    capped, uncapped = parse_size(args.capped_size), parse_size(args.uncapped_size)
    previous = json.loads(args.compare.read_text()) if args.compare and args.compare.exists() else None
    json_path = args.json or (HERE / "segments.json" if args.out == HERE / "segments.md" else None)
    notes: list[str] = []
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="openrouter-video-segments-"))
    try:
        up = Upstream(work / "upstream", limit_rate=args.limit_rate)
        with up, hold_free_pages(notes):
            make_payload(up.www / f"{CAPPED_JOB}.mp4", capped)
            make_payload(up.www / f"{UNCAPPED_JOB}.mp4", uncapped)
            os.sync()
            out = work / "out"
            out.mkdir()
            serial = 0
            for round_no in range(1, args.rounds + 1):
                for run in RUNS:
                    serial += 1
                    record = one(up, out, run, capped if run.capped else uncapped, serial)
                    record["round"] = round_no
                    records.append(record)
                    print(
                        f"[round {round_no}] {run.key:>17}: "
                        f"{record['bytes'] / record['seconds'] / 1e9:6.3f} GB/s"
                        f"  connections {record['used']}  rss {record['rss'] / MIB:6.1f} MiB",
                        file=sys.stderr,
                    )
            version = up.version
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def speeds(key: str) -> list[float]:
        return [r["bytes"] / r["seconds"] for r in records if r["key"] == key]

    def ratios(key: str, base: str, factor: float = 1.0) -> list[float]:
        by_round = {r["round"]: r["bytes"] / r["seconds"] for r in records if r["key"] == base}
        return [
            r["bytes"] / r["seconds"] / (factor * by_round[r["round"]])
            for r in records
            if r["key"] == key and r["round"] in by_round
        ]

    # the runs that really used 8 connections (uncapped ones finish before the ramp gets there)
    eight_rss = [r["rss"] / MIB for r in records if r["key"] == "eight" and r["used"] >= 8]
    targets = [
        Target(
            "eight_vs_8curl",
            f"`max_connections=8` under the cap ≥ 0.8x 8x curl ({human(capped)})",
            ratios("eight", "curl", 8.0),
            0.8,
        ),
        Target(
            "eight_vs_aria2c",
            f"`max_connections=8` under the cap ≥ 0.9x `aria2c -x8` ({human(capped)})",
            ratios("eight", "aria2c"),
            0.9,
        ),
        Target(
            "adaptive_vs_curl",
            f"adaptive (`None`, up to 4) under the cap ≥ 3x curl ({human(capped)})",
            ratios("adaptive", "curl"),
            3.0,
        ),
        Target(
            "adaptive_uncapped",
            f"uncapped loopback: adaptive ≥ 0.95x `max_connections=1` ({human(uncapped)})",
            ratios("adaptive_uncapped", "one_uncapped"),
            0.95,
        ),
        Target(
            "rss_eight",
            f"peak RSS with 8 connections ≤ 64 MiB ({human(capped)}, capped; memory does not grow with size)",
            eight_rss,
            64.0,
            higher=False,
            fmt="{:.1f} MiB",
        ),
    ]
    lines = [
        f"Machine: {machine()}  ",
        f"Upstream: {version}, `limit_rate {args.limit_rate}` per connection on `/limited/`, plain HTTP  ",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}, {git_state()}, "
        f"took {(time.perf_counter() - started) / 60:.1f} min  ",
        f"Command: `{args.command or 'python bench/segments.py ' + ' '.join(argv or sys.argv[1:])}` "
        f"({args.rounds} rounds; the contenders take turns within each round)",
        "",
        *[f"- {note}" for note in notes],
        "",
        "| contender | size | GB/s, median (min-max) | x curl (capped) or x `max_connections=1`, same round "
        "| connections used | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for run in RUNS:
        base = "curl" if run.capped else "one_uncapped"
        used = sorted({r["used"] for r in records if r["key"] == run.key})
        rss = max((r["rss"] for r in records if r["key"] == run.key), default=0)
        lines.append(
            f"| {run.label} | {human(capped if run.capped else uncapped)} | "
            f"{spread([v / 1e9 for v in speeds(run.key)], '{:.3f}')} | "
            f"{spread(ratios(run.key, base), '{:.2f}')} | {', '.join(map(str, used))} | {rss / MIB:.1f} MiB |"
        )
    lines += ["", "| target | measured | holds |", "| --- | --- | --- |"]
    for target in targets:
        value = target.value
        measured = "n/a" if value is None else target.fmt.format(value)
        if target.values and len(target.values) > 1 and target.fmt.endswith("x"):
            measured += f" (rounds {min(target.values):.2f}-{max(target.values):.2f})"
        verdict = {True: "yes", False: "**no**", None: "n/a"}[target.holds]
        lines.append(f"| {target.text} | {measured} | {verdict} |")
    if previous is not None:
        before = {v["key"]: v["holds"] for v in previous.get("verdicts", [])}
        same = [t for t in targets if t.key in before and before[t.key] == t.holds]
        lines += ["", f"Compared with the previous run: {len(same)} of {len(targets)} verdicts agree."]
        for target in targets:
            if target.key in before and before[target.key] != target.holds:
                lines.append(f"- **differs**: {target.text}: now {target.holds}, before {before[target.key]}")
    report = "\n".join(lines) + "\n"
    args.out.write_text(report)
    if json_path:
        document = {
            "verdicts": [
                {"key": t.key, "holds": t.holds, "value": t.value, "values": t.values} for t in targets
            ],
            "runs": records,
        }
        json_path.write_text(json.dumps(document, indent=1) + "\n")
    print(report)
    if args.doc:
        paste(args.doc, START, END, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
