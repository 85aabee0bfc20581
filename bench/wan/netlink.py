"""An emulated WAN link between two network namespaces (issue 27), for bench/wan/run.py.

    with EmulatedLink(delay_ms=40, loss=0.005, rate_mbit=200) as link:
        link.run(link.server_ns, ["nginx", ...])        # 10.77.0.1
        link.run(link.client_ns, ["curl", "-o", ...])   # 10.77.0.2

``EmulatedLink`` compiles ``linkemu.c`` with gcc (once per source version, into a cache dir under the
temp dir), creates the namespaces ``orv-srv-<id>`` and ``orv-cli-<id>`` (a random id per link, so two
runs do not clash), starts linkemu in the root namespace (it creates the TUN devices ``orvs<id>`` and
``orvc<id>``), moves one TUN into each namespace and gives them 10.77.0.1 and 10.77.0.2 (/30,
point-to-point). No traffic leaves the two namespaces: linkemu holds the TUN file descriptors, it does
not route. ``delay_ms`` is one way, in each direction (a ping shows 2 x delay_ms), ``loss`` applies in
each direction, ``rate_mbit`` (0: unlimited) is the rate of both directions, ``buffer_bytes`` the
bottleneck FIFO (default: one bandwidth-delay product). ``cc`` picks the TCP congestion control of
both namespaces, as a route metric (``available_cc()`` lists what the kernel has), and
``tcp_buf_max`` the maximum of ``net.ipv4.tcp_rmem`` and ``tcp_wmem`` there (default 32 MiB; None: the
host's). Leaving the ``with`` stops linkemu (the
TUN devices go with it) and deletes both namespaces, also after an error; Linux, root only.

    python bench/wan/netlink.py 40 0 200     # a link until Ctrl-C, for poking at it by hand
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "linkemu.c"
SERVER_IP = "10.77.0.1"
CLIENT_IP = "10.77.0.2"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the harness dies, however it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def build_linkemu() -> Path:
    """gcc -O2 linkemu.c into <tmp>/orv-linkemu-<hash of the source>/linkemu, unless already there."""
    source = SOURCE.read_bytes()
    out_dir = Path(tempfile.gettempdir()) / f"orv-linkemu-{hashlib.sha256(source).hexdigest()[:12]}"
    binary = out_dir / "linkemu"
    if not binary.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = out_dir / f"linkemu.{os.getpid()}"
        subprocess.run(["gcc", "-O2", "-Wall", "-o", str(partial), str(SOURCE)], check=True)
        partial.replace(binary)
    return binary


def available_cc() -> list[str]:
    return Path("/proc/sys/net/ipv4/tcp_available_congestion_control").read_text().split()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class EmulatedLink:
    def __init__(
        self,
        delay_ms: float,
        loss: float = 0.0,
        rate_mbit: float = 0.0,
        *,
        buffer_bytes: int | None = None,
        cc: str | None = None,
        mtu: int = 1500,
        gso: bool = False,
        seed: int | None = None,
        tcp_buf_max: int | None = 32 << 20,
    ) -> None:
        self.delay_ms, self.loss, self.rate_mbit = delay_ms, loss, rate_mbit
        self.buffer_bytes, self.cc, self.mtu, self.gso = buffer_bytes, cc, mtu, gso
        self.seed, self.tcp_buf_max = seed, tcp_buf_max
        ident = secrets.token_hex(3)
        self.server_ns, self.client_ns = f"orv-srv-{ident}", f"orv-cli-{ident}"
        self.server_tun, self.client_tun = f"orvs{ident}", f"orvc{ident}"
        self.proc: subprocess.Popen[str] | None = None
        self.stats = ""  # linkemu's counters, after the link is down
        self._namespaces: list[str] = []

    def __enter__(self) -> EmulatedLink:
        try:
            self._up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _up(self) -> None:
        if self.cc and self.cc not in available_cc():
            raise ValueError(f"congestion control {self.cc!r} not in {available_cc()}")
        binary = build_linkemu()
        for ns in (self.server_ns, self.client_ns):
            _ip("netns", "add", ns)
            self._namespaces.append(ns)
        rate_bps = int(self.rate_mbit * 1e6)
        command = [str(binary)]
        if self.gso:
            command.append("-g")
        if self.seed is not None:
            command += ["-s", str(self.seed)]
        command += [self.server_tun, self.client_tun, str(self.delay_ms), str(self.loss), str(rate_bps)]
        if self.buffer_bytes is not None:
            command.append(str(self.buffer_bytes))
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"linkemu did not start: {line}{err}")
        self.ready_line = line.strip()
        for ns, tun, ip, peer in (
            (self.server_ns, self.server_tun, SERVER_IP, CLIENT_IP),
            (self.client_ns, self.client_tun, CLIENT_IP, SERVER_IP),
        ):
            _ip("link", "set", "dev", tun, "netns", ns)
            _ip("-n", ns, "link", "set", "dev", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{ip}/30", "dev", tun)
            _ip("-n", ns, "link", "set", "dev", tun, "mtu", str(self.mtu), "txqueuelen", "10000", "up")
            if self.cc:  # a route metric: a netns may not default to a CC outside tcp_allowed_...
                _ip("-n", ns, "route", "add", f"{peer}/32", "dev", tun, "congctl", self.cc)
            # autotuning's ceiling: Debian's tcp_wmem max (4 MiB) caps 100 Mbit/s at 200 ms to ~80
            if self.tcp_buf_max:
                self.sysctl(ns, "net.ipv4.tcp_rmem", f"4096 131072 {self.tcp_buf_max}")
                self.sysctl(ns, "net.ipv4.tcp_wmem", f"4096 16384 {self.tcp_buf_max}")
        self._wait_reachable()

    def _wait_reachable(self) -> None:
        if shutil.which("ping") is None:  # iputils-ping (make bench-wan installs it)
            time.sleep(0.5)
            return
        deadline = time.monotonic() + 10
        wait = max(1, int(4 * self.delay_ms / 1000) + 1)
        while True:
            ping = self.run(self.client_ns, ["ping", "-c1", "-W", str(wait), "-q", SERVER_IP], check=False)
            if ping.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no ping across the emulated link: {ping.stdout}{ping.stderr}")

    def sysctl(self, ns: str, key: str, value: str | None = None) -> str:
        arg = [key] if value is None else ["-w", f"{key}={value}"]
        result = self.run(ns, ["sysctl", "-n", *arg])
        return str(result.stdout).strip()

    def exec_prefix(self, ns: str) -> list[str]:
        """Prefix a command with this to run it in namespace ``ns`` (``ip netns exec``)."""
        return ["ip", "netns", "exec", ns]

    def run(self, ns: str, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("check", True)
        kwargs.setdefault("capture_output", True)
        return subprocess.run([*self.exec_prefix(ns), *command], text=True, **kwargs)  # type: ignore[call-overload, no-any-return]

    def popen(self, ns: str, command: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        kwargs.setdefault("preexec_fn", _die_with_parent)
        return subprocess.Popen([*self.exec_prefix(ns), *command], **kwargs)  # type: ignore[call-overload, no-any-return]

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stderr is not None:
                self.stats = self.proc.stderr.read().strip()
            self.proc = None
        for ns in reversed(self._namespaces):
            # whatever still runs in the namespace (a forgotten server) is killed first
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._namespaces = []


def main() -> None:
    delay, loss, rate = (float(x) for x in sys.argv[1:4])
    with EmulatedLink(delay, loss, rate) as link:
        print(f"{link.ready_line}\n  server: ip netns exec {link.server_ns} ...  ({SERVER_IP})")
        print(f"  client: ip netns exec {link.client_ns} ...  ({CLIENT_IP})\nCtrl-C stops it", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    print(link.stats)


if __name__ == "__main__":
    main()
