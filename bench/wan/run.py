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
import threading
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
# Each Python contender prints the seconds its download call took (the in-process time) last.
HTTPX_SCRIPT = """
import sys, time, httpx
url, dest, ca = sys.argv[1:4]
with httpx.Client(timeout=60, verify=ca or True) as c:
    epoch, started = time.time(), time.perf_counter()
    with c.stream("GET", url) as r, open(dest, "wb") as f:
        r.raise_for_status()
        for chunk in r.iter_raw(1 << 20):
            f.write(chunk)
print(epoch, time.perf_counter() - started)
"""
ORV_SCRIPT = """
import sys, time
from openrouter_video import VideoClient
base, job, dest, conns, ca = sys.argv[1:6]
with VideoClient(api_key="bench", base_url=base, verify=ca or True) as client:
    epoch, started = time.time(), time.perf_counter()
    client.download(job, dest, durable=False, source="api",
                    max_connections=None if conns == "default" else int(conns))
print(epoch, time.perf_counter() - started)
"""
ORV_ASYNC_SCRIPT = """
import asyncio, sys, time
from openrouter_video import AsyncVideoClient
base, job, dest, ca = sys.argv[1:5]
async def main():
    async with AsyncVideoClient(api_key="bench", base_url=base, verify=ca or True) as client:
        epoch, started = time.time(), time.perf_counter()
        await client.download(job, dest, durable=False, source="api")
        return f"{epoch} {time.perf_counter() - started}"
print(asyncio.run(main()))
"""


#: The contenders' environment: Python may use and write bytecode, as in an installed package (a shell
#: with PYTHONDONTWRITEBYTECODE would have the package compiled at every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: With --tls: nginx's self-signed certificate, which every contender is told to trust.
TLS: dict[str, str] = {}


def make_cert(work: Path) -> None:
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={SERVER_IP}",
                    "-addext", f"subjectAltName=IP:{SERVER_IP}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    TLS.update(cert=str(cert), key=str(key))


def aria2(n: int):  # type: ignore[no-untyped-def]
    def argv(url: str, dest: Path, job: str, base: str) -> list[str]:
        ca = [f"--ca-certificate={TLS['cert']}"] if TLS else []
        return ["aria2c", "-q", f"-x{n}", f"-s{n}", "-k1M", "--file-allocation=none",
                "--allow-overwrite=true", "--auto-file-renaming=false", *ca,
                "-d", str(dest.parent), "-o", dest.name, url]  # fmt: skip

    return argv


def orv(conns: str):  # type: ignore[no-untyped-def]
    def argv(url: str, dest: Path, job: str, base: str) -> list[str]:
        ca = TLS.get("cert", "")
        if conns == "async":
            return [sys.executable, "-c", ORV_ASYNC_SCRIPT, base, job, str(dest), ca]
        return [sys.executable, "-c", ORV_SCRIPT, base, job, str(dest), conns, ca]

    return argv


def curl(url: str, dest: Path, job: str, base: str) -> list[str]:
    ca = ["--cacert", TLS["cert"]] if TLS else []
    return ["curl", "-sS", "--fail", *ca, "-w", "%{time_total}\n", "-o", str(dest), url]


CONTENDERS = {
    "curl": curl,
    "aria2c-x4": aria2(4),
    "aria2c-x8": aria2(8),
    "httpx": lambda url, dest, job, base: [
        sys.executable,
        "-c",
        HTTPX_SCRIPT,
        url,
        str(dest),
        TLS.get("cert", ""),
    ],
    "orv": orv("default"),
    "orv-c1": orv("1"),
    "orv-c8": orv("8"),
    "orv-async": orv("async"),
}


def scheme() -> str:
    return "https" if TLS else "http"


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
        listen {SERVER_IP}:{PORT}{" ssl" if TLS else ""};
        {f"ssl_certificate {TLS['cert']}; ssl_certificate_key {TLS['key']};" if TLS else ""}
        {"ssl_protocols TLSv1.2 TLSv1.3;  # nginx 1.22 offers 1.3 only when asked" if TLS else ""}
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
    url = f"{scheme()}://{SERVER_IP}:{PORT}/api/v1/videos/warmup/content"
    deadline = time.monotonic() + 15
    while link.run(link.client_ns, ["curl", "-skf", "-o", "/dev/null", url], check=False).returncode:
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
    # The first byte on disk: the destination, or this package's partial beside it, is no longer empty.
    watched = [dest, dest.with_name(f".{dest.name}.part")]
    first: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and not first:
            if any(p.exists() and p.stat().st_size > 0 for p in watched):
                first.append(time.time())
            time.sleep(0.002)

    start, epoch = time.monotonic(), time.time()
    proc = link.popen(
        link.client_ns, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=ENV
    )
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        wall = time.monotonic() - start
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"ok": False, "wall": None, "error": f"timeout after {timeout:g} s"}
    finally:
        done.set()
        watcher.join()
    got = dest.stat().st_size if dest.exists() else -1
    ok = proc.returncode == 0 and got == size
    tail = err.decode(errors="replace")[-300:]
    error = "" if ok else f"exit {proc.returncode}, {got} of {size} bytes: {tail}"
    # The in-process time (curl's time_total, the Python contenders' download call, which also print
    # when it started); aria2c reports none.
    words = out.decode(errors="replace").split()
    inproc = round(float(words[-1]), 3) if words else None
    called = float(words[-2]) if len(words) > 1 else epoch
    ttfb = round(first[0] - epoch, 3) if first else None
    ttfb_call = round(first[0] - called, 3) if first else None
    return {
        "ok": ok,
        "wall": round(wall, 3),
        "inproc": inproc,
        "ttfb": ttfb,
        "ttfb_call": ttfb_call,
        "error": error,
    }


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
                base = f"{scheme()}://{SERVER_IP}:{PORT}{'/limited' if sc.limit_rate else ''}/api/v1"
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


def seconds(row: dict[str, object], key: str) -> float:
    """``row``'s time by ``key`` ("wall", or "inproc" where the contender reports one, else its wall)."""
    return float(row.get(key) or row["wall"])  # type: ignore[arg-type]


def table(results: list[dict[str, object]], contenders: list[str], key: str = "wall") -> str:
    """Per scenario and size: median of per-round speed ratios vs curl, and median seconds."""
    lines = [
        "| scenario | size | " + " | ".join(contenders) + " |",
        "|---|---:|" + "---:|" * len(contenders),
    ]
    for scenario, size in dict.fromkeys((r["scenario"], r["size"]) for r in results):
        cells = []
        rows = [r for r in results if r["scenario"] == scenario and r["size"] == size]
        curl = {r["round"]: seconds(r, key) for r in rows if r["contender"] == "curl" and r["ok"]}
        for name in contenders:
            mine = [r for r in rows if r["contender"] == name]
            walls = [seconds(r, key) for r in mine if r["ok"]]
            if not walls:
                cells.append("failed" if mine else "")
                continue
            paired = [r for r in mine if r["ok"] and r["round"] in curl]
            ratios = [curl[r["round"]] / seconds(r, key) for r in paired]
            ratio = f"{statistics.median(ratios):.2f}x" if ratios else "n/a"
            failed = len(mine) - len(walls)
            cells.append(
                f"{ratio} ({statistics.median(walls):.2f} s{f', {failed} failed' if failed else ''})"
            )
        lines.append(f"| {scenario} | {int(size) // MIB} MiB | " + " | ".join(cells) + " |")  # type: ignore[call-overload]
    return "\n".join(lines)


def ttfb_table(results: list[dict[str, object]], contenders: list[str], key: str = "ttfb") -> str:
    lines = ["| scenario | size | " + " | ".join(contenders) + " |", "|---|---:|" + "---:|" * len(contenders)]
    for scenario, size in dict.fromkeys((r["scenario"], r["size"]) for r in results):
        cells = []
        for name in contenders:
            mine = [
                r for r in results if (r["scenario"], r["size"], r["contender"]) == (scenario, size, name)
            ]
            got = [float(r[key]) for r in mine if r.get(key)]  # type: ignore[arg-type]
            cells.append(f"{statistics.median(got):.3f}" if got else "")
        lines.append(f"| {scenario} | {int(size) // MIB} MiB | " + " | ".join(cells) + " |")  # type: ignore[call-overload]
    return "\n".join(lines)


def pick(
    results: list[dict[str, object]], scenario: object, size: object, who: str
) -> list[dict[str, object]]:
    return [r for r in results if (r["scenario"], r["size"], r["contender"]) == (scenario, size, who)]


def ratios(results: list[dict[str, object]], name: str, other: str, key: str = "inproc") -> dict:
    """Per (scenario, size): the median over rounds of ``other``'s time / ``name``'s (above 1: ``name``
    is faster), both from the same round."""
    out = {}
    for scenario, size in dict.fromkeys((r["scenario"], r["size"]) for r in results):
        mine = {r["round"]: seconds(r, key) for r in pick(results, scenario, size, name) if r["ok"]}
        theirs = {r["round"]: seconds(r, key) for r in pick(results, scenario, size, other) if r["ok"]}
        paired = [theirs[k] / mine[k] for k in mine if k in theirs]
        if paired:
            out[(scenario, size)] = statistics.median(paired)
    return out


def verdicts(results: list[dict[str, object]]) -> str:
    """issue 27's targets, in-process and from the same round: the worst cell of each, and whether it holds.
    Parallel pays where aria2c -x4 beat curl by 10% or more."""
    pays = {k for k, v in ratios(results, "aria2c-x4", "curl", "wall").items() if v >= 1.1}
    ttfb = {}
    for scenario, size in dict.fromkeys((r["scenario"], r["size"]) for r in results):
        mine = [float(r["ttfb_call"]) for r in pick(results, scenario, size, "orv") if r.get("ttfb_call")]  # type: ignore[arg-type]
        curl = [float(r["ttfb"]) for r in pick(results, scenario, size, "curl") if r.get("ttfb")]  # type: ignore[arg-type]
        if mine and curl:  # >= 0: within 50 ms of curl's
            ttfb[(scenario, size)] = statistics.median(curl) + 0.05 - statistics.median(mine)
    rows = [
        ("the default vs curl, every scenario and size", ratios(results, "orv", "curl"), 1.0),
        ("the default vs max_connections=1", ratios(results, "orv", "orv-c1"), 0.97),
        ("where parallel pays: the default vs aria2c -x4",
         {k: v for k, v in ratios(results, "orv", "aria2c-x4").items() if k in pays}, 1.0),
        ("where parallel pays: max_connections=8 vs aria2c -x8",
         {k: v for k, v in ratios(results, "orv-c8", "aria2c-x8").items() if k in pays}, 1.0),
        ("the async default vs curl", ratios(results, "orv-async", "curl"), 1.0),
    ]  # fmt: skip
    lines = ["| target (in-process, same round) | worst | where | holds |", "|---|---:|---|---|"]
    for what, cells, floor in rows:
        if cells:
            where, worst = min(cells.items(), key=lambda kv: kv[1])
            lines.append(f"| {what} ≥ {floor:g}x | {worst:.2f}x | {where[0]} {int(where[1]) // MIB} MiB "
                         f"| {'yes' if worst >= floor else '**no**'} |")  # fmt: skip
    if ttfb:
        where, slack = min(ttfb.items(), key=lambda kv: kv[1])
        holds = "yes" if slack >= 0 else "**no**"
        lines.append(f"| first byte on disk (from the call) ≤ curl's + 50 ms | {0.05 - slack:+.3f} s vs "
                     f"curl | {where[0]} {int(where[1]) // MIB} MiB | {holds} |")  # fmt: skip
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
    parser.add_argument("--tls", action="store_true", help="nginx over TLS (a self-signed certificate)")
    parser.add_argument(
        "--timeout", type=float, default=90, help="seconds per run before it counts as failed"
    )
    parser.add_argument("--validate", action="store_true", help="check the emulator instead (ping, curl)")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    parser.add_argument(
        "--doc", type=Path, help="also paste it into this file, between <!-- bench-wan-CC:start/end -->"
    )
    args = parser.parse_args()
    markers = (f"<!-- bench-wan-{args.cc}:start -->", f"<!-- bench-wan-{args.cc}:end -->")
    if args.doc and not all(m in args.doc.read_text() for m in markers):
        print(f"{args.doc} has no {markers[0]} / {markers[1]}: nowhere to paste the report", file=sys.stderr)
        sys.exit(1)
    if os.geteuid() != 0:
        sys.exit("bench/wan/run.py needs root (network namespaces, TUN devices)")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # unwind: finally cleans up
    work = Path(tempfile.mkdtemp(prefix="orv-wan-"))
    os.chmod(work, 0o755)
    try:
        if args.tls:
            make_cert(work)
        import openrouter_video  # the package the Python contenders import: compiled once, up front

        root = Path(openrouter_video.__file__).resolve().parents[1]
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root), str(root.parent / "generated")],
                       env=ENV, check=False, capture_output=True)  # fmt: skip
        meta = {"kernel": platform.release(), "cc": args.cc, "seed": args.seed, "cpus": os.cpu_count(),
                "tls": args.tls}  # fmt: skip
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
                f"Rounds: {args.rounds}; {'HTTPS' if args.tls else 'HTTP'}; TCP {args.cc}; "
                f"kernel {meta['kernel']}; cells: median of the "
                "per-round ratios curl time / contender time (above 1x: faster than curl), then the median "
                "whole-process wall time.\n\n"
                + "\n".join(f"- `{k}`: {v}" for k, v in scen.items() if k in ran)
                + "\n\n"
                + table(results, contenders)
                + "\n\nIn-process: the download call alone (curl: its time_total; aria2c reports none: "
                "its wall time)\n\n"
                + table(results, contenders, "inproc")
                + "\n\nTime to the first byte on disk, from the process's start (seconds, median; a segmented"
                " partial is preallocated once its first bytes are written)\n\n"
                + ttfb_table(results, contenders)
                + "\n\nThe same from the download call (curl, aria2c: from the process's start)\n\n"
                + ttfb_table(results, contenders, "ttfb_call")
                + "\n\n"
                + verdicts(results)
            )
            report = {"meta": meta, "scenarios": {s.name: s.__dict__ for s in SCENARIOS}, "results": results}
        print(md)
        if args.out:
            args.out.write_text(md + "\n")
        if args.doc:
            start, end = markers
            before, rest = args.doc.read_text().split(start, 1)
            args.doc.write_text(f"{before}{start}\n{md}\n{end}{rest.split(end, 1)[1]}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
