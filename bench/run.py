"""`make bench`: download throughput and memory of openrouter-video against curl and plain httpx.

    python bench/run.py [--sizes 64M,1G] [--rounds 3] [--out bench/results.md] [--readme README.md]

A loopback server (bench/server.py, sendfile from a file) serves a random payload. Each contender runs
as its own process, in rounds that take turns (A B C ... A B C ...), once writing a file on disk and
once into a sink that discards (for CPU cost; the CLI always writes a file). The table gives the
median throughput, each contender's ratio to curl taken in the same run, and the peak RSS of each
process, plus the start-up time of `openrouter-video --help` and of `import openrouter_video`, and
checks the targets. It is written to --out and, with --readme, between the bench markers of README.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
JOB = "bench-job"
MIB = 1024 * 1024
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# name -> (label, has a discard sink)
CONTENDERS: dict[str, tuple[str, bool]] = {
    "curl": ("`curl -s -o FILE`", True),
    "httpx": ("plain `httpx.stream` + `iter_raw()`", True),
    "generated": ("generated `sync_detailed` (buffers the body)", True),
    "video_client": ("`VideoClient.download`", True),
    "async_video_client": ("`AsyncVideoClient.download`", True),
    "video_client_sha256": ('`VideoClient.download(checksum="sha256")`', False),
    "curl_sync": (
        "`curl -s -o FILE && sync -d FILE` (wall time: durable, as `download` is by default)",
        False,
    ),
    "video_client_nodurable": ("`VideoClient.download(durable=False)` (no fsync)", False),
    "cli": ("`openrouter-video download` (wall time, incl. start-up)", False),
}


@dataclass
class Samples:
    throughput: list[float] = field(default_factory=list)  # bytes per second
    rss: list[int] = field(default_factory=list)  # bytes


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(match.group(1)) * {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}[match.group(2)]


def human(size: int) -> str:
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def run_with_rss(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str, int]:
    """Run ``command``; return (wall seconds, stdout, peak RSS in bytes) using wait4."""
    started = time.perf_counter()
    out_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed when garbage-collected
    err_file = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(command, stdout=out_file, stderr=err_file, env=env)
    # ru_maxrss also counts the high-water mark of the forked copy of this process, so this
    # harness keeps itself small; the Python contenders report their own VmHWM instead.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_file.seek(0)
    err_file.seek(0)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({proc.returncode}): {err_file.read().decode()[-2000:]}"
        )
    return wall, out_file.read().decode(), usage.ru_maxrss * 1024


def contender_command(name: str, base_url: str, dest: str) -> tuple[list[str], dict[str, str] | None]:
    url = f"{base_url}/videos/{JOB}/content"
    if name == "curl":
        return [
            "curl",
            "-s",
            "-f",
            "-o",
            dest if dest != "-" else "/dev/null",
            "-w",
            "%{time_total}",
            url,
        ], None
    if name == "curl_sync":
        return ["sh", "-c", 'curl -s -f -o "$1" "$2" && sync -d "$1"', "curl_sync", dest, url], None
    if name == "cli":
        env = {**os.environ, "OPENROUTER_API_KEY": "bench"}
        return [
            str(BIN / "openrouter-video"),
            "download",
            JOB,
            "-o",
            dest,
            "--overwrite",
            "--quiet",
            "--base-url",
            base_url,
        ], env
    return [sys.executable, str(HERE / "contender.py"), name, base_url, dest], None


def measure(name: str, base_url: str, dest: str, size: int) -> tuple[float, int]:
    """One run: (throughput in bytes/s, peak RSS)."""
    command, env = contender_command(name, base_url, dest)
    if dest != "-":
        os.sync()  # start each to-disk run without the previous run's dirty pages
    wall, stdout, rss = run_with_rss(command, env)
    record: dict[str, float] = {}
    if name == "curl":
        seconds = float(stdout.strip())
    elif name in ("cli", "curl_sync"):
        seconds = wall
    else:
        record = json.loads(stdout)
        if record["bytes"] != size:
            raise RuntimeError(f"{name} read {record['bytes']} bytes, expected {size}")
        seconds = record["seconds"]
        rss = int(record["peak_rss"]) or rss  # the process's own VmHWM
    if dest != "-":
        written = os.path.getsize(dest)
        if written != size:
            raise RuntimeError(f"{name} wrote {written} bytes, expected {size}")
        os.unlink(dest)
    return size / seconds, rss


def startup(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def curl_check(base_url: str) -> tuple[float, str]:
    if shutil.which("curl") is None:
        return 0.0, "curl is not installed: the curl rows and ratios are missing."
    speeds = []
    for _ in range(3):
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}", f"{base_url}/videos/{JOB}/content"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        speeds.append(float(out))
    best = max(speeds)
    if best < 1e9:
        return (
            best,
            f"WARNING: curl reads the server at only {best / 1e9:.2f} GB/s (< 1 GB/s): "
            "the server or the machine is the bottleneck.",
        )
    return (
        best,
        f"curl into /dev/null reads the server at {best / 1e9:.2f} GB/s "
        "(well over 1 GB/s: the server is not the bottleneck).",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="64M,1G", help="comma-separated sizes (default 64M,1G)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per size (default 5)")
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--readme", type=Path, help="also paste the table into this README")
    parser.add_argument("--workdir", type=Path, help="where payloads and outputs go (default: a temp dir)")
    parser.add_argument("--command", default="make bench", help="the command shown in the report")
    parser.add_argument("--only", help="comma-separated contenders to run (default: all), for profiling")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    names = [n for n in CONTENDERS if not n.startswith("curl") or shutil.which("curl")]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]

    work = Path(tempfile.mkdtemp(prefix="openrouter-video-bench-", dir=args.workdir))
    results: dict[tuple[int, str, str], Samples] = {}
    notes: list[str] = []
    try:
        for size in sizes:
            payload = work / f"payload-{size}.bin"
            with payload.open("wb") as out:  # made by a child so that this process stays small
                subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)
            server = subprocess.Popen(
                [sys.executable, str(HERE / "server.py"), str(payload)], stdout=subprocess.PIPE, text=True
            )
            try:
                assert server.stdout is not None
                base_url = f"http://127.0.0.1:{server.stdout.readline().strip()}/api/v1"
                if size == sizes[0]:
                    notes.append(curl_check(base_url)[1])
                    print(notes[-1], file=sys.stderr)
                for round_no in range(args.rounds):
                    for name in names:  # A B C ... in turn, each round
                        for sink in ("file", "discard"):
                            if sink == "discard" and not CONTENDERS[name][1]:
                                continue
                            dest = str(work / f"out-{name}.mp4") if sink == "file" else "-"
                            throughput, rss = measure(name, base_url, dest, size)
                            samples = results.setdefault((size, name, sink), Samples())
                            samples.throughput.append(throughput)
                            samples.rss.append(rss)
                            print(
                                f"[{human(size)} round {round_no + 1}] {name:>20} {sink:>7}: "
                                f"{throughput / 1e9:6.2f} GB/s  rss {rss / MIB:6.1f} MiB",
                                file=sys.stderr,
                            )
            finally:
                server.kill()
                server.wait()
                payload.unlink()
        help_time = startup([str(BIN / "openrouter-video"), "--help"], args.startup_runs)
        import_time = startup([sys.executable, "-c", "import openrouter_video"], args.startup_runs)
        client_time = startup(
            [sys.executable, "-c", "from openrouter_video import VideoClient"], args.startup_runs
        )
        bare_time = startup([sys.executable, "-c", "pass"], args.startup_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report = render(args, sizes, names, results, notes, (help_time, import_time, client_time, bare_time))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    if args.readme:
        text = args.readme.read_text()
        if START in text and END in text:
            before, rest = text.split(START, 1)
            _, after = rest.split(END, 1)
            args.readme.write_text(f"{before}{START}\n{report}{END}{after}")
    return 0


def render(
    args: argparse.Namespace,
    sizes: list[int],
    names: list[str],
    results: dict[tuple[int, str, str], Samples],
    notes: list[str],
    startup_times: tuple[float, float, float, float],
) -> str:
    help_time, import_time, client_time, bare_time = startup_times

    def median(size: int, name: str, sink: str) -> float | None:
        samples = results.get((size, name, sink))
        return statistics.median(samples.throughput) if samples else None

    def peak(size: int, name: str) -> int | None:
        samples = results.get((size, name, "file"))
        return max(samples.rss) if samples else None

    lines = [
        f"Machine: {machine()}  ",
        f"Date: {datetime.date.today().isoformat()}  ",
        f"Command: `{args.command}` ({args.rounds} rounds, contenders in turn, median of each)",
        "",
        *(f"- {note}" for note in notes),
        "",
    ]
    for size in sizes:
        lines += [
            f"**{human(size)}**",
            "",
            "| contender | to disk | x curl | discard sink | x curl | peak RSS |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        curl_file, curl_null = median(size, "curl", "file"), median(size, "curl", "discard")
        for name in names:
            to_file, to_null = median(size, name, "file"), median(size, name, "discard")
            rss = peak(size, name)

            def cell(value: float | None, base: float | None) -> tuple[str, str]:
                if value is None:
                    return "n/a", ""
                ratio = f"{value / base:.2f}" if base else ""
                return f"{value / 1e9:.2f} GB/s", ratio

            f_val, f_ratio = cell(to_file, curl_file)
            n_val, n_ratio = cell(to_null, curl_null)
            lines.append(
                f"| {CONTENDERS[name][0]} | {f_val} | {f_ratio} | {n_val} | {n_ratio} | {rss / MIB:.1f} MiB |"
                if rss
                else f"| {CONTENDERS[name][0]} | {f_val} | | | | |"
            )
        lines.append("")
    lines += [
        f"Start-up: `openrouter-video --help` {help_time * 1000:.0f} ms; `import openrouter_video` "
        f"{import_time * 1000:.0f} ms (the clients load on first use: `from openrouter_video import "
        f"VideoClient` {client_time * 1000:.0f} ms; a bare `python -c pass`: {bare_time * 1000:.0f} ms).",
        "",
        "| target | measured | holds |",
        "| --- | --- | --- |",
    ]
    lines += targets(sizes, results, median, peak)
    return "\n".join(lines) + "\n"


def targets(sizes, results, median, peak) -> list[str]:  # type: ignore[no-untyped-def]
    rows = []

    def row(label: str, value: float | None, ok: bool | None, fmt: str) -> None:
        shown = fmt.format(value) if value is not None else "n/a"
        rows.append(f"| {label} | {shown} | {'yes' if ok else ('no' if ok is not None else 'n/a')} |")

    for size in sizes:
        vc, curl = median(size, "video_client", "file"), median(size, "curl", "file")
        ratio = vc / curl if vc and curl else None
        row(
            f"`VideoClient.download` to disk ≥ 0.9x curl ({human(size)})",
            ratio,
            ratio >= 0.9 if ratio else None,
            "{:.2f}x",
        )
        avc = median(size, "async_video_client", "file")
        aratio = avc / vc if avc and vc else None
        row(
            f"`AsyncVideoClient.download` ≥ 0.85x sync ({human(size)})",
            aratio,
            aratio >= 0.85 if aratio else None,
            "{:.2f}x",
        )
        synced, nodurable = median(size, "curl_sync", "file"), median(size, "video_client_nodurable", "file")
        dratio = vc / synced if vc and synced else None
        row(
            f"durable `VideoClient.download` ≥ 0.9x `curl -o && sync -d` ({human(size)})",
            dratio,
            dratio >= 0.9 if dratio else None,
            "{:.2f}x",
        )
        cost = vc / nodurable if vc and nodurable else None
        row(
            f"durable ≥ 0.9x `durable=False` (the cost of fsync, {human(size)})",
            cost,
            cost >= 0.9 if cost else None,
            "{:.2f}x",
        )
        sha = median(size, "video_client_sha256", "file")
        sratio = sha / vc if sha and vc else None
        row(
            f'`checksum="sha256"` ≥ 0.8x without ({human(size)})',
            sratio,
            sratio >= 0.8 if sratio else None,
            "{:.2f}x",
        )
    gib = 1024 * MIB
    if gib in sizes:
        rss = peak(gib, "video_client")
        row(
            "Peak RSS of `VideoClient.download` at 1 GiB ≤ 64 MiB",
            rss / MIB if rss else None,
            rss <= 64 * MIB if rss else None,
            "{:.1f} MiB",
        )
    if 4 * gib in sizes and gib in sizes:
        big, small = peak(4 * gib, "video_client"), peak(gib, "video_client")
        diff = (big - small) / MIB if big and small else None
        row(
            "Peak RSS at 4 GiB within 8 MiB of 1 GiB",
            diff,
            abs(diff) <= 8 if diff is not None else None,
            "{:+.1f} MiB",
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
