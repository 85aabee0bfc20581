"""`make bench`: download throughput, CPU and memory of openrouter-video against curl, over HTTP and HTTPS.

    python bench/run.py [--sizes 1G,4G] [--rounds 3] [--protocols http,https] [--only curl,plain,...]
                        [--out bench/results.md] [--json bench/results.json] [--compare PREVIOUS.json]
                        [--doc docs/benchmarks.md]

The upstream is nginx from Debian (bench/upstream.py): one worker, sendfile, keep-alive, on 127.0.0.1
over plain HTTP and over HTTPS (TLS 1.3, a throwaway CA made with openssl for every run). Each
contender is its own process, and the contenders take turns (A B C ... A B C ...) within every round
and protocol, so that each ratio to curl compares two runs made moments apart ("same round"). Then 32
downloads at once of a 16 MiB file: one AsyncVideoClient with asyncio.gather, one VideoClient in 32
threads, and `xargs -P32` curls.

Page cache: before every run that writes to disk, a scratch file of 1.15x the download size is
written and deleted in the output directory, then sync(); every run writes a new file name (never an
overwrite) and the file is deleted once its size is checked. One curl row per protocol skips the
scratch step, to show what it buys. On a VM that reports freed pages to its hypervisor (virtio-balloon),
the bench stops that reporting while it runs and writes once to the free memory first (see
hold_free_pages), so that every run writes into memory that is already the guest's, and raises the
kernel's dirty-page thresholds above twice the largest download (see hold_writeback), so that no
background writeback starts halfway through one run and not another.

Per contender: median throughput (min-max over rounds), the median of the per-round ratios to curl,
the same ratio from whole-process wall times, CPU seconds per GiB, and peak RSS. Then the targets of
issue 12, each marked, and with --compare whether every verdict agrees with a previous run's JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import mmap
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstream import Upstream, find_nginx, stop_on_sigterm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
JOB = "bench-job"
CONC_JOB = "conc"
MIB = 1024 * 1024
GIB = 1024 * MIB
SCRATCH_FACTOR = 1.15
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    sink: str  # "file" or "discard"
    kind: str  # "python" (bench/contender.py), "curl", "wget", "curl_sync", "cli", "xargs"
    base: str  # the contender its "x curl" ratio is taken against
    scratch: bool = True  # the page-cache step before a to-disk run


# The order is the order of the turns within a round.
SINGLE = [
    Contender("curl", "`curl -s -o FILE` (`-f`; `--cacert CA` over HTTPS)", "file", "curl", "curl"),
    Contender("wget", "`wget -q -O FILE` (`--ca-certificate=CA` over HTTPS) †", "file", "wget", "curl"),
    Contender("requests", "`requests`, `iter_content(1 MiB)` to a file", "file", "python", "curl"),
    Contender("httpx", "plain `httpx.stream` + `iter_raw()` to a file", "file", "python", "curl"),
    Contender(
        "generated", "generated `sync_detailed` (buffers the body), then written", "file", "python", "curl"
    ),
    Contender(
        "curl_nocache",
        "`curl -s -o FILE`, *without* the page-cache step",
        "file",
        "curl",
        "curl",
        scratch=False,
    ),
    Contender("plain", "`VideoClient.download(durable=False)`", "file", "python", "curl"),
    Contender(
        "one",
        "`VideoClient.download(durable=False, max_connections=1)` (one stream)",
        "file",
        "python",
        "curl",
    ),
    Contender("sha256", '`VideoClient.download(checksum="sha256", durable=False)`', "file", "python", "curl"),
    Contender("async", "`AsyncVideoClient.download(durable=False)`", "file", "python", "curl"),
    Contender("durable", "`VideoClient.download` (the durable default: fsync)", "file", "python", "curl"),
    Contender(
        "curl_sync", "`curl -s -o FILE && sync -d FILE` (two processes) †", "file", "curl_sync", "curl"
    ),
    Contender("cli", "`openrouter-video download JOB -o DIR --quiet` (durable) †", "file", "cli", "curl"),
    Contender("curl_null", "`curl -s -o /dev/null`", "discard", "curl", "curl_null"),
    Contender("httpx_null", "plain `httpx` `iter_raw()`, discarding", "discard", "python", "curl_null"),
    Contender(
        "plain_null", "`VideoClient.stream` + `iter_bytes()`, discarding", "discard", "python", "curl_null"
    ),
    Contender(
        "async_null",
        "`AsyncVideoClient.stream` + `aiter_bytes()`, discarding",
        "discard",
        "python",
        "curl_null",
    ),
]
CONCURRENT = [
    Contender(
        "conc_curl", "`xargs -P{n} -L1 curl -s -f -o FILE` ({n} processes) †", "file", "xargs", "conc_curl"
    ),
    Contender(
        "conc_async",
        "one `AsyncVideoClient`, `asyncio.gather` of {n} `download(durable=False)`",
        "file",
        "python",
        "conc_curl",
    ),
    Contender(
        "conc_threads",
        "one `VideoClient`, {n} threads each calling `download(durable=False)`",
        "file",
        "python",
        "conc_curl",
    ),
]
BY_KEY = {c.key: c for c in SINGLE + CONCURRENT}
#: The contenders run at sizes above 1 GiB: those the targets compare.
LARGE = ("curl", "plain", "sha256", "async", "durable", "curl_sync")
# bench/contender.py's name for each Python contender
PYTHON_NAME = {
    "requests": "requests",
    "httpx": "httpx",
    "generated": "generated",
    "plain": "plain",
    "one": "one",
    "sha256": "sha256",
    "async": "async",
    "durable": "durable",
    "httpx_null": "httpx",
    "plain_null": "plain",
    "async_null": "async",
    "conc_async": "conc_async",
    "conc_threads": "conc_threads",
}


# -- small helpers ----------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(match.group(1)) * {"": 1, "K": 1024, "M": MIB, "G": GIB}[match.group(2)]


def human(size: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def make_payload(path: Path, size: int) -> None:
    with path.open("wb") as out:  # random, so that nothing on the way can compress it
        subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)


def mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def read_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Outcome:
    wall: float
    stdout: str
    cpu: float  # user + sys of the process and the children it waited for (wait4)
    rss: int  # VmHWM of the process, sampled every 10 ms while it ran
    busy: float = 0.0  # the share of all the machine's CPUs in use while it ran (/proc/stat)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU of the machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


# Every contender talks to 127.0.0.1 directly, whatever proxy the caller's environment names.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


def spawn(command: list[str], env: dict[str, str] | None = None) -> Outcome:
    """Run ``command``; wall time, CPU (wait4 rusage) and peak RSS of the whole process.

    The peak RSS is sampled from /proc/PID/status (VmHWM of the program after exec), not taken from
    wait4's ru_maxrss, which also counts this harness's memory (the child shares it until exec).
    """
    out_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    err_file = tempfile.TemporaryFile()  # noqa: SIM115
    ticks = machine_ticks()
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=out_file, stderr=err_file, env=env or CLEAN_ENV)
    done = threading.Event()
    hwm = [0]

    def sample() -> None:
        while not done.wait(0.01):
            hwm[0] = max(hwm[0], read_hwm(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    busy_after, total_after = machine_ticks()
    busy = (busy_after - ticks[0]) / max(1, total_after - ticks[1])
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with out_file, err_file:
        out_file.seek(0)
        err_file.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{shlex.join(command)} failed ({proc.returncode}): {err_file.read().decode()[-2000:]}"
            )
        stdout = out_file.read().decode()
    return Outcome(wall, stdout, usage.ru_utime + usage.ru_stime, hwm[0], busy)


_SCRATCH = os.urandom(MIB)

# Free page reporting (virtio-balloon): the guest hands the pages it has freed back to the hypervisor,
# and the next write into one of them faults on the host. Measured here: a new 1 GiB file cost 1.1-1.4 s
# of sys time on reported pages and 0.26 s on pages that were not, and which kind a run gets depends on
# what was freed when. That, not the page cache, is what made the to-disk ratios swing from 0.6x to 2.1x
# within one run. For its whole run the bench stops the reporting (an order no free block reaches),
# touches the free memory once so that none of it is still on the host's side, and afterwards puts the
# setting back.
PAGE_REPORTING = Path("/sys/module/page_reporting/parameters/page_reporting_order")
NO_REPORTING = 11  # above the largest block order (10): no free block is ever reported


def touch_free_memory(keep: int = GIB) -> tuple[int, float]:
    """Write to all free memory but ``keep`` once, then free it: returns (bytes, seconds)."""
    started = time.perf_counter()
    with open("/proc/meminfo") as meminfo:
        free = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemFree:"))
    size = max(0, free - keep) // MIB * MIB
    if size:
        area = mmap.mmap(-1, size)
        zeros = bytes(MIB)
        for offset in range(0, size, MIB):
            area[offset : offset + MIB] = zeros
        area.close()
    return size, time.perf_counter() - started


@contextlib.contextmanager
def hold_free_pages(notes: list[str]) -> Iterator[None]:
    """Stop free page reporting for the duration and warm the free memory, where the machine has it."""
    try:
        before = PAGE_REPORTING.read_text().strip()
        PAGE_REPORTING.write_text(f"{NO_REPORTING}\n")
    except OSError as exc:
        if PAGE_REPORTING.exists():
            notes.append(
                f"Memory: free page reporting is on and could not be stopped ({exc}): "
                "expect noisy to-disk rows."
            )
        else:
            notes.append("Memory: no free page reporting on this machine (nothing to stop).")
        yield
        return
    try:
        size, seconds = touch_free_memory()
        notes.append(
            "Memory: this VM reports freed pages to its hypervisor (virtio-balloon free page reporting), and "
            "a write into a reported page faults on the host: a new 1 GiB file cost 1.1-1.4 s of sys time "
            "on reported pages against 0.26 s on others, so the to-disk rows swung with whatever had been "
            f"freed before. For this run the bench set `{PAGE_REPORTING}` from {before} to {NO_REPORTING} "
            f"(no free block is reported) and wrote once to {human(size)} of free memory ({seconds:.0f} s), "
            "so every run writes into memory already in the guest; the setting was put back afterwards."
        )
        yield
    finally:
        PAGE_REPORTING.write_text(f"{before}\n")


#: The kernel's dirty-page thresholds. By default background writeback starts once 10% of the
#: dirtyable memory (about 2.2 GiB here) is dirty, so a 4 GiB download to the page cache shared the
#: CPUs with writeback from about halfway, depending on what was still dirty from before: the same
#: VideoClient run measured 1.04-1.50 GB/s and an async/sync ratio of 0.69-1.45 over six 4 GiB rounds
#: (0.88-1.09 with the thresholds raised). The bench raises them above twice the largest download for
#: its run (every file is deleted before it is written back, and sync() runs before every transfer),
#: so the non-durable rows compare the clients' own paths; the durable rows still wait for the disk.
VM = Path("/proc/sys/vm")


@contextlib.contextmanager
def hold_writeback(notes: list[str], largest: int) -> Iterator[None]:
    """Raise the dirty-page thresholds above ``2 * largest`` for the duration, where memory allows."""
    names = ("dirty_background_bytes", "dirty_bytes", "dirty_background_ratio", "dirty_ratio")
    try:
        before = {name: (VM / name).read_text().strip() for name in names}
    except OSError as exc:
        notes.append(f"Writeback: the dirty-page thresholds could not be read ({exc}); left as they are.")
        yield
        return
    background = 2 * largest + GIB
    limit = background + 2 * GIB
    if mem_available() < limit + 2 * GIB:
        notes.append(
            f"Writeback: left at the kernel's thresholds (raising them to {human(limit)} needs more memory "
            "than is available): expect noisy to-disk rows at the largest size."
        )
        yield
        return
    try:
        (VM / "dirty_bytes").write_text(f"{limit}\n")
        (VM / "dirty_background_bytes").write_text(f"{background}\n")
    except OSError as exc:
        notes.append(f"Writeback: the dirty-page thresholds could not be raised ({exc}): expect noisy rows.")
        _restore_writeback(before)
        yield
        return
    notes.append(
        f"Writeback: for this run `vm.dirty_background_bytes` was {human(background)} and `vm.dirty_bytes` "
        f"{human(limit)} (the kernel's default is 10% and 20% of the dirtyable memory), so no background "
        "writeback starts during a transfer: at 4 GiB it used to start halfway through some runs and not "
        "others (one client measured 1.04-1.50 GB/s over six rounds). Every file is deleted before it is "
        "written back; the durable rows still wait for the disk. The settings were put back afterwards."
    )
    try:
        yield
    finally:
        _restore_writeback(before)


def _restore_writeback(before: dict[str, str]) -> None:
    # Writing a *_ratio clears the matching *_bytes and the other way round: write the one in use.
    for kind in ("dirty_background", "dirty"):
        name = f"{kind}_bytes" if before[f"{kind}_bytes"] != "0" else f"{kind}_ratio"
        with contextlib.suppress(OSError):
            (VM / name).write_text(f"{before[name]}\n")


def settle_page_cache(directory: Path, size: int) -> None:
    """Write and delete a scratch file of 1.15x ``size`` in ``directory``, then sync()."""
    scratch = directory / "scratch.bin"
    remaining = int(size * SCRATCH_FACTOR)
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(_SCRATCH)
        while remaining > 0:
            remaining -= os.write(fd, view[: min(len(view), remaining)])
    finally:
        os.close(fd)
        os.unlink(scratch)
    os.sync()


# -- one run ----------------------------------------------------------------------------------------


@dataclass
class Bench:
    up: Upstream
    out: Path  # where the contenders write
    serial: int = 0

    def fresh(self, key: str, suffix: str = ".mp4") -> Path:
        self.serial += 1
        return self.out / f"{key}-{self.serial:04d}{suffix}"

    def run(self, contender: Contender, protocol: str, size: int, count: int = 0) -> dict[str, Any]:
        """One run of ``contender``: a record with seconds, wall, cpu, rss, bytes."""
        base_url = self.up.base_url(protocol)
        ca = str(self.up.ca) if protocol == "https" else None
        cacert = ["--cacert", ca] if ca else []
        total = size * count if count else size
        # a new name for every run: a file, or a directory for the CLI and the concurrent ones
        in_dir = contender.kind in ("cli", "xargs") or count > 0
        dest = self.fresh(contender.key, "" if in_dir else ".mp4")
        if in_dir:
            dest.mkdir()
        if contender.sink == "file" and contender.scratch:
            settle_page_cache(self.out, total)
        record: dict[str, Any] = {}
        if contender.kind == "python":
            command = [sys.executable, str(HERE / "contender.py"), PYTHON_NAME[contender.key], base_url]
            command += [CONC_JOB if count else JOB, "-" if contender.sink == "discard" else str(dest)]
            command += (["--ca", ca] if ca else []) + (["--count", str(count)] if count else [])
            outcome = spawn(command)
            inner = json.loads(outcome.stdout)
            if inner["bytes"] != total:
                raise RuntimeError(f"{contender.key} read {inner['bytes']} bytes, expected {total}")
            record = {
                "seconds": inner["seconds"],
                "cpu": inner["cpu"],
                "cpu_scope": "transfer",
                "rss": inner["peak_rss"],
                "minflt": inner["minflt"],
                "nvcsw": inner["nvcsw"],
                "nivcsw": inner["nivcsw"],
                "busy": inner["machine_busy"],
            }
        elif contender.kind == "curl":
            target = "/dev/null" if contender.sink == "discard" else str(dest)
            command = [
                "curl",
                "-s",
                "-f",
                *cacert,
                "-o",
                target,
                "-w",
                "%{time_total}",
                self.up.url(protocol, JOB),
            ]
            outcome = spawn(command)
            record = {"seconds": float(outcome.stdout.strip())}
        elif contender.kind == "wget":
            ca_flag = [f"--ca-certificate={ca}"] if ca else []
            outcome = spawn(["wget", "-q", *ca_flag, "-O", str(dest), self.up.url(protocol, JOB)])
        elif contender.kind == "curl_sync":  # `curl -o f && sync -d f`, timed as two processes back to back
            fetched = spawn(["curl", "-s", "-f", *cacert, "-o", str(dest), self.up.url(protocol, JOB)])
            synced = spawn(["sync", "-d", str(dest)])
            outcome = Outcome(
                fetched.wall + synced.wall,
                "",
                fetched.cpu + synced.cpu,
                max(fetched.rss, synced.rss),
                (fetched.busy * fetched.wall + synced.busy * synced.wall) / (fetched.wall + synced.wall),
            )
        elif contender.kind == "cli":
            env = {**CLEAN_ENV, "OPENROUTER_API_KEY": "bench"}
            if ca:
                env["SSL_CERT_FILE"] = ca
            command = [
                str(BIN / "openrouter-video"),
                "download",
                JOB,
                "-o",
                str(dest),
                "--quiet",
                "--source",
                "api",
            ]
            outcome = spawn([*command, "--base-url", base_url], env)
        elif contender.kind == "xargs":
            lines = "".join(
                f"-o {dest}/{CONC_JOB}-{i:02d}.mp4 {self.up.url(protocol, f'{CONC_JOB}-{i:02d}')}\n"
                for i in range(count)
            )
            listing = self.fresh("xargs-list", ".txt")
            listing.write_text(lines)
            command = ["xargs", "-a", str(listing), f"-P{count}", "-L1", "curl", "-s", "-f", *cacert]
            outcome = spawn(command)
            outcome.rss = 0  # xargs's own; each curl's is in the single-download tables
            listing.unlink()
        else:
            raise AssertionError(contender.kind)
        record.setdefault("seconds", outcome.wall)
        record.setdefault("cpu", outcome.cpu)
        record.setdefault("cpu_scope", "process")
        record.setdefault("rss", outcome.rss)
        record.setdefault("busy", outcome.busy)
        record.update(
            {
                "contender": contender.key,
                "protocol": protocol,
                "size": size,
                "count": count,
                "bytes": total,
                "wall": outcome.wall,
            }
        )
        if contender.sink == "file":
            if count:
                files = [dest / f"{CONC_JOB}-{i:02d}.mp4" for i in range(count)]
            else:
                files = [dest / f"{JOB}.mp4"] if in_dir else [dest]
            try:
                for path in files:
                    written = path.stat().st_size
                    if written != size:
                        raise RuntimeError(
                            f"{contender.key} wrote {written} bytes to {path.name}, expected {size}"
                        )
            finally:
                if in_dir:
                    shutil.rmtree(dest)
                else:
                    dest.unlink(missing_ok=True)
        return record


# -- statistics -------------------------------------------------------------------------------------


def throughput(record: dict[str, Any]) -> float:
    return float(record["bytes"] / record["seconds"])


class Results:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def find(self, key: str, protocol: str, size: int, count: int = 0) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["contender"] == key
            and r["protocol"] == protocol
            and r["size"] == size
            and r["count"] == count
        ]

    def paired(
        self, a: str, b: str, protocol: str, size: int, count: int = 0
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Runs of ``a`` and ``b`` from the same round."""
        others = {r["round"]: r for r in self.find(b, protocol, size, count)}
        return [(r, others[r["round"]]) for r in self.find(a, protocol, size, count) if r["round"] in others]

    def ratios(
        self, a: str, b: str, protocol: str, size: int, count: int = 0, metric: str = "speed"
    ) -> list[float]:
        pairs = self.paired(a, b, protocol, size, count)
        if metric == "speed":
            return [throughput(x) / throughput(y) for x, y in pairs]
        if metric == "wall":  # whole-process wall times
            return [y["wall"] / x["wall"] for x, y in pairs]
        return [x["cpu"] / y["cpu"] for x, y in pairs if y["cpu"] > 0]  # cpu


def spread(values: list[float], fmt: str) -> str:
    if not values:
        return "n/a"
    middle = fmt.format(statistics.median(values))
    if len(values) == 1:
        return middle
    return f"{middle} ({fmt.format(min(values))}-{fmt.format(max(values))})"


# -- targets ----------------------------------------------------------------------------------------


@dataclass
class Verdict:
    key: str
    label: str
    values: list[float]  # per round (or one value)
    threshold: float
    higher_is_better: bool
    unit: str = "x"

    @property
    def value(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def holds(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.threshold if self.higher_is_better else self.value <= self.threshold

    def measured(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "MiB":
            return f"{self.value:.1f} MiB"
        if self.unit == "diff":
            return f"{self.value:+.1f} MiB"
        digits = 3 if abs(self.value - self.threshold) < 0.005 else 2  # 1.30 that misses 1.3 shows 1.304
        shown = f"{self.value:.{digits}f}x"
        if len(self.values) > 1:
            shown += f" (rounds {min(self.values):.2f}-{max(self.values):.2f})"
        return shown

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "per_round": self.values,
            "threshold": self.threshold,
            "holds": self.holds,
        }


def verdicts(
    results: Results, sizes: list[int], protocols: list[str], count: int, conc_size: int
) -> list[Verdict]:
    found: list[Verdict] = []
    name = {"http": "HTTP", "https": "HTTPS"}

    def peak(size: int, key: str = "plain") -> list[float]:
        values = [r["rss"] / MIB for p in protocols for r in results.find(key, p, size)]
        return [max(values)] if values else []

    for size in sizes:
        tag = human(size)
        for protocol, floor in (("https", 0.95), ("http", 1.0)):
            if protocol in protocols:
                found.append(
                    Verdict(
                        f"plain_vs_curl/{protocol}/{tag}",
                        f"`VideoClient.download(durable=False)` over {name[protocol]}, to disk "
                        f"≥ {floor}x curl ({tag})",
                        results.ratios("plain", "curl", protocol, size),
                        floor,
                        True,
                    )
                )
        for protocol in protocols:
            found += [
                Verdict(
                    f"async_vs_sync/{protocol}/{tag}",
                    f"`AsyncVideoClient.download` ≥ 0.95x `VideoClient.download` (both durable=False, "
                    f"{name[protocol]}, {tag})",
                    results.ratios("async", "plain", protocol, size),
                    0.95,
                    True,
                ),
                Verdict(
                    f"sha256_vs_plain/{protocol}/{tag}",
                    f'`checksum="sha256"` ≥ 0.9x without ({name[protocol]}, {tag})',
                    results.ratios("sha256", "plain", protocol, size),
                    0.9,
                    True,
                ),
                Verdict(
                    f"durable_vs_curl_sync/{protocol}/{tag}",
                    f"the durable default ≥ 0.95x `curl -o f && sync -d f` ({name[protocol]}, {tag})",
                    results.ratios("durable", "curl_sync", protocol, size),
                    0.95,
                    True,
                ),
            ]
        if "https" in protocols:
            found.append(
                Verdict(
                    f"cpu_vs_curl/https/{tag}",
                    f"CPU s/GiB of `VideoClient.download(durable=False)` over HTTPS ≤ 1.3x curl's ({tag})",
                    results.ratios("plain", "curl", "https", size, metric="cpu"),
                    1.3,
                    False,
                )
            )
        found.append(
            Verdict(
                f"rss/{tag}",
                f"peak RSS of `VideoClient.download(durable=False)` ≤ 48 MiB ({tag}, largest run)",
                peak(size),
                48,
                False,
                "MiB",
            )
        )
    if count:
        for protocol in protocols:
            found.append(
                Verdict(
                    f"concurrent/{protocol}",
                    f"{count} concurrent {human(conc_size)} downloads, async in one process ≥ 0.8x "
                    f"`xargs -P{count} curl` ({name[protocol]})",
                    results.ratios("conc_async", "conc_curl", protocol, conc_size, count),
                    0.8,
                    True,
                )
            )
    if GIB in sizes and 4 * GIB in sizes:
        small, big = peak(GIB), peak(4 * GIB)
        found.append(
            Verdict(
                "rss_growth",
                "peak RSS at 4 GiB within 8 MiB of 1 GiB (`VideoClient.download(durable=False)`)",
                [big[0] - small[0]] if small and big else [],
                8,
                False,
                "diff",
            )
        )
    return found


# -- the report -------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def tool_versions() -> str:
    def first_line(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else ""

    curl = " ".join(first_line(["curl", "--version"]).split()[:2])
    wget = " ".join(first_line(["wget", "--version"]).split()[:3])
    openssl = first_line(["openssl", "version"]).split(" (")[0]
    return ", ".join(part for part in (curl, wget, openssl) if part)


def filesystem(path: Path) -> str:
    best = ("", "")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount, fstype = line.split()[:3]
        if str(path.resolve()).startswith(mount.rstrip("/") + "/") and len(mount) >= len(best[0]):
            best = (mount, f"{fstype} ({device}, mounted on {mount})")
    return best[1] or "unknown"


def git_state() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "overlay", "generated"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' with uncommitted changes to overlay/ or generated/' if dirty else ''}"


def render(
    meta: dict[str, Any], results: Results, found: list[Verdict], previous: dict[str, Any] | None
) -> str:
    sizes, protocols = meta["sizes"], meta["protocols"]
    count, conc_size = meta["count"], meta["conc_size"]
    lines = [
        f"Machine: {meta['machine']}  ",
        f"Tools: {meta['upstream']}; {meta['tools']}; TLS: {meta['tls'] or 'n/a'}  ",
        f"Date: {meta['date']}, commit {meta['git']}, took {meta['took'] / 60:.1f} min  ",
        f"Command: `{meta['command']}`"
        + (f" = `{meta['argv']}`" if meta["command"] != meta["argv"] else "")
        + f" ({meta['rounds']} round{'s' if meta['rounds'] != 1 else ''}; the contenders take turns within "
        "each round and protocol)",
        "",
        *(f"- {note}" for note in meta["notes"]),
        "",
    ]
    for size in sizes:
        for protocol in protocols:
            lines += [
                f"**{human(size)} over {protocol.upper()}**",
                "",
                *table_head("curl"),
            ]
            for contender in SINGLE:
                runs = results.find(contender.key, protocol, size)
                if not runs:
                    continue
                lines.append(row(results, contender, runs, protocol, size))
            lines.append("")
    if count:
        for protocol in protocols:
            lines += [
                f"**{count} downloads of {human(conc_size)} at once over {protocol.upper()}** "
                "(throughput = all bytes / wall time of the batch)",
                "",
                *table_head("xargs curl"),
            ]
            for contender in CONCURRENT:
                runs = results.find(contender.key, protocol, conc_size, count)
                if runs:
                    lines.append(row(results, contender, runs, protocol, conc_size, count))
            lines.append("")
    lines += claims_above_curl(results, sizes, protocols)
    lines += [
        "† whole-process figures: throughput from the process's wall time (wget, `curl && sync`, the CLI, "
        "xargs), CPU and RSS of the process (for xargs: CPU of all its curls, RSS of xargs alone). "
        "curl's throughput is its own `time_total`. Python contenders (bench/contender.py) time the "
        "transfer only, after making the client and one 1 KiB warm-up download; their CPU is "
        "`getrusage(RUSAGE_SELF)` (all threads) around the transfer and their RSS the process's VmHWM. "
        "The whole-process column uses wall times for everyone, start-up included. Machine busy: the share "
        "of all the machine's CPUs in use during the transfer (/proc/stat: the contender, nginx, the kernel "
        "and anything else), so 100% means the run was bound by CPU.",
        "",
        meta["startup"],
        "",
        "| target | measured | holds |",
        "| --- | --- | --- |",
    ]
    for verdict in found:
        holds = {True: "yes", False: "**no**", None: "n/a"}[verdict.holds]
        lines.append(f"| {verdict.label} | {verdict.measured()} | {holds} |")
    lines.append("")
    if previous is not None:
        lines += compare(found, previous)
    return "\n".join(lines) + "\n"


def claims_above_curl(results: Results, sizes: list[int], protocols: list[str]) -> list[str]:
    """Every to-disk row faster than curl, checked against whole-process wall times of the same rounds."""
    lines = []
    for size in sizes:
        for protocol in protocols:
            for contender in SINGLE:
                if contender.sink != "file" or contender.kind == "curl":
                    continue
                same = results.ratios(contender.key, "curl", protocol, size)
                if not same or statistics.median(same) <= 1.0:
                    continue
                whole = statistics.median(
                    results.ratios(contender.key, "curl", protocol, size, metric="wall")
                )
                verdict = (
                    "reproduced"
                    if whole > 1.0
                    else "not reproduced: the Python process starts, imports and warms up before its transfer"
                )
                lines.append(
                    f"- {contender.label}, {human(size)} over {protocol.upper()}: "
                    f"{statistics.median(same):.2f}x curl by transfer time; by whole-process wall time, same "
                    f"rounds: {whole:.2f}x ({verdict})."
                )
    if lines:
        lines = ["Above 1.0x curl to disk:", "", *lines, ""]
    return lines


def table_head(base: str) -> list[str]:
    columns = ["contender", "GB/s, median (min-max)", f"x {base}, same round", f"x {base}, whole process"]
    columns += ["CPU s/GiB", "machine busy", "peak RSS"]
    return ["| " + " | ".join(columns) + " |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]


def row(
    results: Results,
    contender: Contender,
    runs: list[dict[str, Any]],
    protocol: str,
    size: int,
    count: int = 0,
) -> str:
    speeds = [throughput(r) / 1e9 for r in runs]
    base = contender.base
    same = results.ratios(contender.key, base, protocol, size, count)
    whole = results.ratios(contender.key, base, protocol, size, count, metric="wall")
    cpu = [r["cpu"] / (r["bytes"] / GIB) for r in runs]
    rss = max(r["rss"] for r in runs)
    busy = [100 * r["busy"] for r in runs if "busy" in r]
    cells = [
        contender.label.format(n=count),
        spread(speeds, "{:.2f}"),
        spread(same, "{:.2f}"),
        spread(whole, "{:.2f}"),
        spread(cpu, "{:.2f}"),
        spread(busy, "{:.0f}%") if busy else "n/a",
        f"{rss / MIB:.1f} MiB" if rss else "n/a",
    ]
    return "| " + " | ".join(cells) + " |"


def compare(found: list[Verdict], previous: dict[str, Any]) -> list[str]:
    before = {v["key"]: v for v in previous.get("verdicts", [])}
    lines = [f"Against the previous run ({previous.get('date', '?')}, `{previous.get('argv', '?')}`):", ""]
    agree = differ = 0
    for verdict in found:
        old = before.get(verdict.key)
        if old is None:
            lines.append(f"- {verdict.label}: not in the previous run")
        elif old["holds"] == verdict.holds:
            agree += 1
        else:
            differ += 1
            was = "n/a" if old["value"] is None else f"{old['value']:.2f}"
            lines.append(f"- **differs**: {verdict.label}: {verdict.measured()} now, {was} before")
    lines.insert(2, f"{agree} of {len(found)} verdicts agree, {differ} differ.")
    if len(lines) > 3:
        lines.insert(3, "")
    return [*lines, ""]


def startup_line(runs: int) -> str:
    def median_time(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    help_time = median_time([str(BIN / "openrouter-video"), "--help"])
    import_time = median_time([sys.executable, "-c", "import openrouter_video"])
    client_time = median_time([sys.executable, "-c", "from openrouter_video import VideoClient"])
    bare_time = median_time([sys.executable, "-c", "pass"])
    return (
        f"Start-up: `openrouter-video --help` {help_time * 1000:.0f} ms; `import openrouter_video` "
        f"{import_time * 1000:.0f} ms (the clients load on first use: `from openrouter_video import "
        f"VideoClient` {client_time * 1000:.0f} ms; a bare `python -c pass`: {bare_time * 1000:.0f} ms)."
    )


# -- main -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1G,4G", help="comma-separated sizes (default 1G,4G)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--protocols", default="http,https", help="http, https or both (default)")
    parser.add_argument(
        "--only", help=f"comma-separated contenders (curl is always added): {', '.join(BY_KEY)}"
    )
    parser.add_argument("--concurrent", type=int, default=32, help="downloads at once (default 32; 0: none)")
    parser.add_argument(
        "--concurrent-size", help="size of each of them (default 16M, or the smallest of --sizes if smaller)"
    )
    parser.add_argument(
        "--upstream",
        choices=("auto", "nginx", "python"),
        default="auto",
        help="nginx (required by make bench), python (bench/server.py, HTTP only), auto: nginx if installed",
    )
    parser.add_argument("--limit-rate", default="8m", help="nginx limit_rate of the /limited/ location")
    parser.add_argument(
        "--memory",
        choices=("auto", "hold", "leave"),
        default="auto",
        help="hold: stop free page reporting and warm the free memory for the run (see hold_free_pages); "
        "auto (default): hold when a size is 256 MiB or more",
    )
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--json", type=Path, help="results as JSON (default: bench/results.json when --out is the default)"
    )
    parser.add_argument("--compare", type=Path, help="a previous run's JSON: do the verdicts agree?")
    parser.add_argument(
        "--doc", type=Path, help="also paste the report into this Markdown file, between its bench markers"
    )
    parser.add_argument("--workdir", type=Path, help="where payloads and outputs go (default: a temp dir)")
    parser.add_argument("--command", help="the command shown in the report (default: this one)")
    args = parser.parse_args(argv)
    if args.doc:
        check_markers(args.doc, START, END)  # before the run, not after it
    stop_on_sigterm()
    argv_text = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    protocols = [p for p in ("http", "https") if p in args.protocols.split(",")]
    conc_size = parse_size(args.concurrent_size) if args.concurrent_size else min(16 * MIB, *sizes)
    json_path = args.json or (HERE / "results.json" if args.out == HERE / "results.md" else None)
    previous = None
    if args.compare and args.compare.exists():  # read before --json may overwrite it
        previous = json.loads(args.compare.read_text())

    notes: list[str] = []
    if shutil.which("curl") is None:
        raise SystemExit("curl is required: every ratio is to curl (make bench-deps)")
    chosen = [c.key for c in SINGLE + CONCURRENT]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - set(BY_KEY)
        if unknown:
            raise SystemExit(f"unknown contenders {sorted(unknown)}; known: {', '.join(BY_KEY)}")
        wanted |= {"curl"} | ({"curl_null"} if any(BY_KEY[k].sink == "discard" for k in wanted) else set())
        wanted |= {"conc_curl"} if wanted & {"conc_async", "conc_threads"} else set()
        chosen = [k for k in chosen if k in wanted]
    if "wget" in chosen and shutil.which("wget") is None:
        chosen.remove("wget")
        notes.append("wget is not installed: no wget row (make bench-deps installs it).")
    if "requests" in chosen and importlib.util.find_spec("requests") is None:
        chosen.remove("requests")
        notes.append(
            "`requests` is not installed in this venv: no requests row (make bench-deps installs it)."
        )
    count = args.concurrent if any(k.startswith("conc_") for k in chosen) else 0
    kind = args.upstream
    if kind == "auto":
        kind = "nginx" if find_nginx() and shutil.which("openssl") else "python"

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="openrouter-video-bench-", dir=args.workdir))
    records: list[dict[str, Any]] = []
    failures: list[str] = []
    try:
        up = Upstream(work / "upstream", kind=kind, limit_rate=args.limit_rate)
        hold = args.memory == "hold" or (args.memory == "auto" and max(sizes) >= 256 * MIB)
        with (
            up,
            hold_free_pages(notes) if hold else contextlib.nullcontext(),
            hold_writeback(notes, max(sizes)) if hold else contextlib.nullcontext(),
        ):
            protocols = [p for p in protocols if p in up.protocols]
            if kind != "nginx":
                notes.append(
                    "**nginx was not found: the upstream is bench/server.py, over HTTP only. These numbers "
                    "are a smoke test, not a benchmark** (make bench-deps installs nginx)."
                )
            bench = Bench(up, work / "out")
            bench.out.mkdir()
            notes += describe(up, bench.out, args.limit_rate)

            def attempt(
                contender: Contender, protocol: str, size: int, round_no: int, count: int = 0
            ) -> None:
                try:
                    record = bench.run(contender, protocol, size, count)
                except Exception as exc:  # one broken contender must not lose the whole run
                    failures.append(f"{contender.key} ({protocol}, {human(size)}, round {round_no}): {exc}")
                    print(f"FAILED {failures[-1]}", file=sys.stderr)
                    return
                record["round"] = round_no
                records.append(record)
                extra = f" x{count}" if count else ""
                print(
                    f"[{human(size)}{extra} {protocol:>5} round {round_no}] {contender.key:>13}: "
                    f"{throughput(record) / 1e9:6.2f} GB/s  cpu {record['cpu']:6.2f} s  "
                    f"rss {record['rss'] / MIB:7.1f} MiB",
                    file=sys.stderr,
                )

            for size in sizes:
                payload = up.www / f"{JOB}.mp4"
                payload.unlink(missing_ok=True)
                make_payload(payload, size)
                os.sync()
                skip_generated = size > GIB or mem_available() < 3 * size + GIB
                if skip_generated and "generated" in chosen:
                    notes.append(
                        f"The generated client buffers the whole body: not run at {human(size)} "
                        "(only up to 1 GiB, and with 3x the size of memory available)."
                    )
                if size > GIB:
                    notes.append(
                        f"At {human(size)} only the contenders the targets need run "
                        f"({', '.join(k for k in LARGE if k in chosen)}), to keep a run near 20 minutes."
                    )
                for round_no in range(1, args.rounds + 1):
                    for protocol in protocols:
                        for contender in SINGLE:
                            if contender.key in chosen and not (
                                (contender.key == "generated" and skip_generated)
                                or (size > GIB and contender.key not in LARGE)
                            ):
                                attempt(contender, protocol, size, round_no)
                payload.unlink()
            if count:
                make_payload(up.www / f"{CONC_JOB}.mp4", conc_size)
                for i in range(count):
                    (up.www / f"{CONC_JOB}-{i:02d}.mp4").symlink_to(f"{CONC_JOB}.mp4")
                os.sync()
                for round_no in range(1, args.rounds + 1):
                    for protocol in protocols:
                        for contender in CONCURRENT:
                            if contender.key in chosen:
                                attempt(contender, protocol, conc_size, round_no, count)
        startup = startup_line(args.startup_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if failures:
        notes += [f"FAILED: {failure}" for failure in failures]
    results = Results(records)
    found = verdicts(results, sizes, protocols, count, conc_size)
    meta = {
        "machine": machine(),
        "upstream": up.version,
        "tools": tool_versions(),
        "tls": up.tls,
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "git": git_state(),
        "took": time.perf_counter() - started,
        "command": args.command or argv_text,
        "argv": argv_text,
        "rounds": args.rounds,
        "sizes": sizes,
        "protocols": protocols,
        "count": count,
        "conc_size": conc_size,
        "notes": notes,
        "startup": startup,
    }
    report = render(meta, results, found, previous)
    if args.compare and previous is None:
        report += f"(No previous run to compare with: {args.compare} does not exist.)\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    if json_path:
        document = {**meta, "verdicts": [v.as_json() for v in found], "runs": records}
        json_path.write_text(json.dumps(document, indent=1) + "\n")
    print(report)
    if args.doc:
        paste(args.doc, START, END, report)
    return 1 if failures else 0


def check_markers(doc: Path, start: str, end: str) -> None:
    """Exit, naming what is missing, unless ``doc`` holds the marker ``start`` and then ``end``."""
    text = doc.read_text() if doc.is_file() else None
    if text is None or start not in text or end not in text.split(start, 1)[1]:
        where = f"{doc} does not exist" if text is None else f"{doc} has no {start} ... {end}"
        raise SystemExit(f"--doc: {where}: nowhere to paste the report")


def paste(doc: Path, start: str, end: str, report: str) -> None:
    """Replace what ``doc`` holds between the markers ``start`` and ``end`` with ``report``."""
    check_markers(doc, start, end)
    before, rest = doc.read_text().split(start, 1)
    _, after = rest.split(end, 1)
    doc.write_text(f"{before}{start}\n{report}{end}{after}")


def describe(up: Upstream, out: Path, limit_rate: str) -> list[str]:
    """What the upstream and the page-cache step are, for the report."""
    if up.kind == "nginx":
        upstream = (
            f"Upstream: {up.version} on 127.0.0.1 (bench/upstream.py): one worker, sendfile, tcp_nopush, "
            "keep-alive, its own ETag/Last-Modified/Range handling; plain HTTP and HTTPS (TLS 1.3 with "
            "OpenSSL's default suites, HTTP/1.1, a CA made with openssl for this run). `/limited/api/v1` "
            f"serves the same files at `limit_rate {limit_rate}` per connection (for segmented downloads; "
            "not used here yet)."
        )
    else:
        upstream = f"Upstream: {up.version}, plain HTTP only."
    return [
        upstream,
        f"Page cache: before every to-disk run, a scratch file of {SCRATCH_FACTOR}x the download size is "
        "written and deleted in the output directory, then `sync()`; every run writes a new file name (never "
        f"an overwrite), deleted after its size is checked. Output directory on {filesystem(out)}.",
    ]


if __name__ == "__main__":
    sys.exit(main())
