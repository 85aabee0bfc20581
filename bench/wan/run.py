"""Downloads over an emulated WAN link (issue 27, first step): curl, aria2c, httpx and this package.

    python bench/wan/run.py [--rounds 1] [--sizes 8M,32M] [--only curl,orv] [--scenarios rtt20-700m]
    python bench/wan/run.py --validate           # check the emulator: ping RTT, curl throughput, loss

Root and Linux only. For each scenario, ``netlink.EmulatedLink`` joins two fresh network namespaces
with linkemu (bench/wan/linkemu.c), nginx (one worker, sendfile) runs in the server namespace on
10.77.0.1:8080 and serves random payloads at ``/api/v1/videos/<job>/content`` (and, with
``limit_rate``, at ``/limited/api/v1/...``), and every contender runs in its turn, as its own process,
in the client namespace. Scenario delays are round-trip times: linkemu delays each direction by half.
The time is the whole process's wall time (``ip netns exec`` included, the same for everyone), and the
ratio is curl's time in the same round divided by the contender's (above 1: faster than curl). A run
that exceeds ``--timeout`` or writes the wrong number of bytes counts as failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netlink import SERVER_IP, EmulatedLink, available_cc

PORT = 8080
MIB = 1 << 20


@dataclass(frozen=True)
class Scenario:
    name: str
    rtt_ms: float
    rate_mbit: float
    loss: float = 0.0
    limit_rate: str = ""  # nginx limit_rate per connection (served under /limited/)
    max_size: int = 0  # larger --sizes shrink to this (0: none), so that one run stays near a minute

    def sizes(self, sizes: list[int]) -> list[int]:
        return sorted({min(s, self.max_size) if self.max_size else s for s in sizes})

    def describe(self) -> str:
        parts = [f"RTT {self.rtt_ms:g} ms", f"{self.rate_mbit:g} Mbit/s"]
        if self.loss:
            parts.append(f"{self.loss * 100:g}% loss")
        if self.limit_rate:
            parts.append(f"{self.limit_rate}/s per connection")
        return ", ".join(parts)


SCENARIOS = [
    Scenario("rtt20-700m", 20, 700),
    Scenario("rtt80-200m", 80, 200),
    # one CUBIC stream gets ~3 Mbit/s here, and ~1 Mbit/s at 1% and 200 ms (Mathis et al.)
    Scenario("rtt80-200m-loss0.5", 80, 200, 0.005, max_size=8 * MIB),
    Scenario("rtt200-100m-loss1", 200, 100, 0.01, max_size=4 * MIB),
    Scenario("rtt20-cap5MiB", 20, 700, 0.0, "5m"),
]

# name -> argv builder (url, dest, job, base); python contenders run with this interpreter
HTTPX_SCRIPT = """
import sys, httpx
url, dest = sys.argv[1:3]
with httpx.Client(timeout=60) as c, c.stream("GET", url) as r, open(dest, "wb") as f:
    r.raise_for_status()
    for chunk in r.iter_raw(1 << 20):
        f.write(chunk)
"""
ORV_SCRIPT = """
import sys
from openrouter_video import VideoClient
base, job, dest, conns = sys.argv[1:5]
with VideoClient(api_key="bench", base_url=base) as client:
    client.download(job, dest, durable=False, source="api",
                    max_connections=None if conns == "default" else int(conns))
"""


def aria2(n: int):  # type: ignore[no-untyped-def]
    def argv(url: str, dest: Path, job: str, base: str) -> list[str]:
        return ["aria2c", "-q", f"-x{n}", f"-s{n}", "-k1M", "--file-allocation=none",
                "--allow-overwrite=true", "--auto-file-renaming=false",
                "-d", str(dest.parent), "-o", dest.name, url]  # fmt: skip

    return argv


def orv(conns: str):  # type: ignore[no-untyped-def]
    def argv(url: str, dest: Path, job: str, base: str) -> list[str]:
        return [sys.executable, "-c", ORV_SCRIPT, base, job, str(dest), conns]

    return argv


CONTENDERS = {
    "curl": lambda url, dest, job, base: ["curl", "-sS", "--fail", "-o", str(dest), url],
    "aria2c-x4": aria2(4),
    "aria2c-x8": aria2(8),
    "httpx": lambda url, dest, job, base: [sys.executable, "-c", HTTPX_SCRIPT, url, str(dest)],
    "orv": orv("default"),
    "orv-c1": orv("1"),
    "orv-c8": orv("8"),
}


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def nginx_conf(work: Path, limit_rate: str) -> str:
    www, tmp = work / "www", work / "nginx" / "tmp"
    user = "user root root;" if os.geteuid() == 0 else ""

    def location(prefix: str, extra: str = "") -> str:
        return (
            f"location ~ ^{prefix}/api/v1/videos/(?<job>[A-Za-z0-9_.-]+)/content$ {{\n"
            f"            alias {www}/$job.mp4;\n"
            f"            types {{ }} default_type video/mp4;\n{extra}        }}"
        )

    limited = location("/limited", f"            limit_rate {limit_rate};\n" if limit_rate else "")
    return f"""# Written by bench/wan/run.py for one scenario.
{user}
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    server {{
        listen {SERVER_IP}:{PORT};
        {location("")}
        {limited}
        location / {{ return 404; }}
    }}
}}
"""


def start_nginx(link: EmulatedLink, work: Path, limit_rate: str) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = work / "nginx"
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(work, limit_rate))
    proc = link.popen(
        link.server_ns,
        [
            nginx,
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-e",
            str(prefix / "logs" / "error.log"),
            "-g",
            f"daemon off; master_process on; pid {prefix / 'nginx.pid'};",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{SERVER_IP}:{PORT}/api/v1/videos/warmup/content"
    deadline = time.monotonic() + 15
    while link.run(link.client_ns, ["curl", "-sf", "-o", "/dev/null", url], check=False).returncode:
        if proc.poll() is not None or time.monotonic() > deadline:
            log = (prefix / "logs" / "error.log").read_text()
            raise RuntimeError(f"nginx did not come up: {log[-2000:]}")
        time.sleep(0.1)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # ip netns exec passes it on to nginx: fast shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def timed_run(
    link: EmulatedLink, argv: list[str], dest: Path, size: int, timeout: float
) -> dict[str, object]:
    start = time.monotonic()
    proc = link.popen(
        link.client_ns, argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = proc.communicate(timeout=timeout)
        wall = time.monotonic() - start
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"ok": False, "wall": None, "error": f"timeout after {timeout:g} s"}
    got = dest.stat().st_size if dest.exists() else -1
    ok = proc.returncode == 0 and got == size
    tail = err.decode(errors="replace")[-300:]
    error = "" if ok else f"exit {proc.returncode}, {got} of {size} bytes: {tail}"
    return {"ok": ok, "wall": round(wall, 3), "error": error}


def run_scenarios(args: argparse.Namespace, work: Path) -> list[dict[str, object]]:
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    contenders = [c for c in CONTENDERS if not args.only or c in args.only.split(",")]
    chosen = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios.split(",")]
    (work / "www").mkdir()
    for size in sorted({x for sc in chosen for x in sc.sizes(sizes)}):
        path = work / "www" / f"job-{size}.mp4"
        with path.open("wb") as f:
            for _ in range(0, size, MIB):
                f.write(os.urandom(MIB))
    (work / "www" / "warmup.mp4").write_bytes(os.urandom(1024))
    results: list[dict[str, object]] = []
    dl = work / "dl"
    dl.mkdir()
    for sc in chosen:
        with EmulatedLink(sc.rtt_ms / 2, sc.loss, sc.rate_mbit, cc=args.cc, seed=args.seed) as link:
            nginx = start_nginx(link, work, sc.limit_rate)
            try:
                base = f"http://{SERVER_IP}:{PORT}{'/limited' if sc.limit_rate else ''}/api/v1"
                print(f"# {sc.name}: {sc.describe()} ({link.ready_line})", file=sys.stderr, flush=True)
                for rnd in range(args.rounds):
                    for size in sc.sizes(sizes):
                        job = f"job-{size}"
                        for name in contenders:
                            dest = dl / f"{name}.mp4"
                            dest.unlink(missing_ok=True)
                            argv = CONTENDERS[name](f"{base}/videos/{job}/content", dest, job, base)
                            r = timed_run(link, argv, dest, size, args.timeout)
                            dest.unlink(missing_ok=True)
                            row = {"scenario": sc.name, "round": rnd, "size": size, "contender": name, **r}
                            results.append(row)
                            shown = f"{r['wall']:.2f} s" if r["ok"] else f"FAILED {r['error']}"
                            print(
                                f"  round {rnd} {size // MIB} MiB {name}: {shown}",
                                file=sys.stderr,
                                flush=True,
                            )
            finally:
                stop(nginx)
        print(f"  {link.stats}".replace("\n", "\n  "), file=sys.stderr, flush=True)
    return results


def table(results: list[dict[str, object]], contenders: list[str]) -> str:
    """Per scenario and size: median of per-round speed ratios vs curl, and median seconds."""
    lines = [
        "| scenario | size | " + " | ".join(contenders) + " |",
        "|---|---:|" + "---:|" * len(contenders),
    ]
    keys = []
    for r in results:
        key = (r["scenario"], r["size"])
        if key not in keys:
            keys.append(key)
    for scenario, size in keys:
        cells = []
        rows = [r for r in results if r["scenario"] == scenario and r["size"] == size]
        curl = {r["round"]: r["wall"] for r in rows if r["contender"] == "curl" and r["ok"]}
        for name in contenders:
            mine = [r for r in rows if r["contender"] == name]
            walls = [float(r["wall"]) for r in mine if r["ok"]]  # type: ignore[arg-type]
            if not walls:
                cells.append("failed" if mine else "")
                continue
            paired = [r for r in mine if r["ok"] and r["round"] in curl]
            ratios = [float(curl[r["round"]]) / float(r["wall"]) for r in paired]  # type: ignore[arg-type]
            ratio = f"{statistics.median(ratios):.2f}x" if ratios else "n/a"
            failed = len(mine) - len(walls)
            cells.append(
                f"{ratio} ({statistics.median(walls):.2f} s{f', {failed} failed' if failed else ''})"
            )
        lines.append(f"| {scenario} | {int(size) // MIB} MiB | " + " | ".join(cells) + " |")  # type: ignore[call-overload]
    return "\n".join(lines)


def validate(args: argparse.Namespace, work: Path) -> list[dict[str, object]]:
    """ping -c 5 and curl 32 MiB (nginx, as in the scenarios) over a few links: does linkemu do its job?"""
    size = 32 * MIB
    (work / "www").mkdir(exist_ok=True)
    (work / "www" / "warmup.mp4").write_bytes(os.urandom(1024))
    with (work / "www" / "v.mp4").open("wb") as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))
    dl = work / "dl"
    dl.mkdir(exist_ok=True)
    checks = [
        (10, 0, 100),
        (10, 0, 700),
        (40, 0, 200),
        (40, 0.005, 200),
        (100, 0, 100),
        (100, 0.01, 100),
        (5, 0, 0),
    ]
    out = []
    for delay, loss, rate in checks:
        with EmulatedLink(delay, loss, rate, cc=args.cc, seed=args.seed) as link:
            nginx = start_nginx(link, work, "")
            try:
                ping = link.run(link.client_ns, ["ping", "-c", "5", "-i", "0.2", SERVER_IP]).stdout
                rtt = ping.strip().splitlines()[-1].split("=")[1].split("/")[1]
                dest = dl / "v.mp4"
                url = f"http://{SERVER_IP}:{PORT}/api/v1/videos/v/content"
                fmt = "%{time_starttransfer} %{time_total} %{size_download}\\n"
                # the same file twice on one connection: cold (slow start included), then warm
                argv = [
                    "curl",
                    "-sS",
                    "-m",
                    str(args.timeout),
                    "-w",
                    fmt,
                    "-o",
                    str(dest),
                    url,
                    "-o",
                    str(dest),
                    url,
                ]
                r = link.run(link.client_ns, argv, check=False)
                lines = [[float(x) for x in line.split()] for line in r.stdout.strip().splitlines()]
                _, total, got = lines[0]
                warm = lines[1] if len(lines) > 1 and lines[1][2] == size else None
                dest.unlink(missing_ok=True)
            finally:
                stop(nginx)
        mbit = got * 8 / total / 1e6
        warm_mbit = round(size * 8 / warm[1] / 1e6, 1) if warm else None
        done = "" if got == size else f" (stopped after {got / MIB:.1f} MiB)"
        row = {"delay_ms": delay, "loss": loss, "rate_mbit": rate, "ping_avg_ms": float(rtt),
               "curl_s": round(total, 3), "bytes": int(got), "mbit": round(mbit, 1),
               "warm_mbit": warm_mbit, "linkemu": link.stats}  # fmt: skip
        print(f"delay {delay} ms one-way, loss {loss}, rate {rate} Mbit/s: ping avg {rtt} ms, "
              f"curl 32 MiB {total:.2f} s = {mbit:.0f} Mbit/s{done}, warm {warm_mbit} Mbit/s",
              file=sys.stderr, flush=True)  # fmt: skip
        out.append(row)
        print(f"delay {delay} ms one-way, loss {loss}, rate {rate} Mbit/s: ping avg {rtt} ms, "
              f"curl 32 MiB {total:.2f} s = {mbit:.0f} Mbit/s", file=sys.stderr, flush=True)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sizes", default="8M,32M,128M")
    parser.add_argument("--only", default="", help=f"contenders, comma-separated: {','.join(CONTENDERS)}")
    parser.add_argument(
        "--scenarios", default="", help=f"comma-separated: {','.join(s.name for s in SCENARIOS)}"
    )
    parser.add_argument("--cc", default="cubic", help=f"TCP congestion control ({' '.join(available_cc())})")
    parser.add_argument("--seed", type=int, default=27, help="linkemu's loss RNG seed")
    parser.add_argument(
        "--timeout", type=float, default=90, help="seconds per run before it counts as failed"
    )
    parser.add_argument("--validate", action="store_true", help="check the emulator instead (ping, curl)")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/wan/run.py needs root (network namespaces, TUN devices)")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # unwind: finally cleans up
    work = Path(tempfile.mkdtemp(prefix="orv-wan-"))
    os.chmod(work, 0o755)
    try:
        meta = {"kernel": platform.release(), "cc": args.cc, "seed": args.seed, "cpus": os.cpu_count()}
        if args.validate:
            report = {"meta": meta, "validate": validate(args, work)}
            md = "\n".join(
                f"| {r['delay_ms']} | {r['loss']} | {r['rate_mbit']} | {r['ping_avg_ms']} | {r['curl_s']}"
                f"{'' if r['bytes'] == 32 * MIB else ' (partial)'} | "
                f"{r['mbit']} | {r['warm_mbit'] or 'n/a'} |"
                for r in report["validate"]  # type: ignore[union-attr]
            )
            md = (
                "| one-way delay ms | loss | rate Mbit/s | ping avg ms | curl 32 MiB s | Mbit/s "
                "| Mbit/s warm (2nd GET, same connection) |\n|---:|---:|---:|---:|---:|---:|---:|\n" + md
            )
        else:
            results = run_scenarios(args, work)
            contenders = [c for c in CONTENDERS if not args.only or c in args.only.split(",")]
            scen = {s.name: s.describe() for s in SCENARIOS}
            ran = {r["scenario"] for r in results}
            md = (
                f"Rounds: {args.rounds}; TCP {args.cc}; kernel {meta['kernel']}; cells: median of the "
                "per-round ratios curl time / contender time (above 1x: faster than curl), then the median "
                "whole-process wall time.\n\n"
                + "\n".join(f"- `{k}`: {v}" for k, v in scen.items() if k in ran)
                + "\n\n"
                + table(results, contenders)
            )
            report = {"meta": meta, "scenarios": {s.name: s.__dict__ for s in SCENARIOS}, "results": results}
        print(md)
        if args.out:
            args.out.write_text(md + "\n")
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
