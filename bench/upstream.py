"""The benchmark's upstream: nginx from Debian, over HTTP and HTTPS, with a throwaway CA.

    python bench/upstream.py [--size 1G] [--limit-rate 8m]   # serve until Ctrl-C (for profiling)

``Upstream(workdir)`` makes a CA and a server certificate for 127.0.0.1 (SAN IP:127.0.0.1 and
DNS:localhost) with ``openssl``, writes an nginx configuration and runs ``nginx -g 'daemon off; ...'``
in the foreground with its own prefix, pid, log and temp dirs under ``workdir``: one worker,
``sendfile`` and ``tcp_nopush`` on, keep-alive. It listens on two free ports of 127.0.0.1, plain HTTP
and HTTPS (TLS 1.3 with OpenSSL's default cipher suites, no HTTP/2), and serves
``/api/v1/videos/<job>/content`` from ``<workdir>/www/<job>.mp4`` with nginx's own ETag,
Last-Modified and Range handling and ``Content-Type: video/mp4``. The same files are also served at
``/limited/api/v1/videos/<job>/content`` with ``limit_rate`` per connection (for segmented
downloads; not used by the contenders yet).

Without nginx (``kind="python"``) a small sendfile server (bench/server.py) stands in, over HTTP
only: enough for a smoke run of the harness, not for numbers worth comparing.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARMUP_JOB = "warmup"
WARMUP_BYTES = 1024


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the harness dies, however it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that ``finally`` stops nginx and removes the work dir."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def free_port(avoid: frozenset[int] = frozenset()) -> int:
    """A port of 127.0.0.1 free right now, not one of ``avoid`` (the kernel may hand out a port it
    just handed out and saw closed: HTTP and HTTPS once got the same one, "duplicate listen")."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def make_certs(directory: Path) -> tuple[Path, Path, Path]:
    """A fresh CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_subject = [
        "-subj",
        "/CN=openrouter-video bench CA",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]
    signing = ["-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext]
    commands = [
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", *ca_subject],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, *signing, "-out", cert],
    ]
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return ca, cert, key


class Upstream:
    """Start with ``with Upstream(workdir) as up:``; put payloads in ``up.www`` as ``<job>.mp4``."""

    def __init__(self, workdir: Path, *, kind: str = "nginx", limit_rate: str = "8m") -> None:
        self.workdir = workdir
        self.kind = kind
        self.limit_rate = limit_rate
        self.www = workdir / "www"
        self.www.mkdir(parents=True, exist_ok=True)
        (self.www / f"{WARMUP_JOB}.mp4").write_bytes(os.urandom(WARMUP_BYTES))
        self.ca: Path | None = None
        self.http_port = free_port()
        self.https_port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.version = ""
        self.tls = ""  # the protocol and cipher suite a default client negotiates

    # -- URLs ---------------------------------------------------------------------------------------

    @property
    def protocols(self) -> list[str]:
        return ["http", "https"] if self.https_port else ["http"]

    def base_url(self, protocol: str, *, limited: bool = False) -> str:
        port = self.https_port if protocol == "https" else self.http_port
        return f"{protocol}://127.0.0.1:{port}{'/limited' if limited else ''}/api/v1"

    def url(self, protocol: str, job: str) -> str:
        return f"{self.base_url(protocol)}/videos/{job}/content"

    def tls_version(self) -> str:
        """The protocol and cipher suite a default client context negotiates with the HTTPS port."""
        if not self.https_port or not self.ca:
            return ""
        context = ssl.create_default_context(cafile=str(self.ca))
        with (
            socket.create_connection(("127.0.0.1", self.https_port)) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            cipher = tls.cipher()
        return f"{cipher[1]} {cipher[0]}" if cipher else ""

    # -- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Upstream:
        if self.kind == "nginx":
            self._start_nginx()
        else:
            self._start_python()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nginx: fast shutdown, the worker goes too
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _start_python(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), str(self.www), str(self.http_port)],
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self.version = "bench/server.py (Python, sendfile; nginx not found)"
        self._wait_listening([self.http_port])

    def _start_nginx(self) -> None:
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed (make bench-deps installs nginx-light)")
        prefix = self.workdir / "nginx"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = make_certs(self.workdir / "tls")
        self.https_port = free_port(avoid=frozenset({self.http_port}))
        conf = prefix / "nginx.conf"
        conf.write_text(self._conf(cert, key))
        self.version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        foreground = ["-g", f"daemon off; master_process on; pid {prefix / 'nginx.pid'};"]
        self.proc = subprocess.Popen(
            [
                nginx,
                "-p",
                str(prefix),
                "-c",
                str(conf),
                "-e",
                str(prefix / "logs" / "error.log"),
                *foreground,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,  # the harness has no threads yet: preexec_fn is safe
        )
        self._wait_listening([self.http_port, self.https_port])
        self.tls = self.tls_version()

    def _conf(self, cert: Path, key: Path) -> str:
        tmp = self.workdir / "nginx" / "tmp"
        user = ""
        if os.geteuid() == 0:  # the worker reads the payloads in a private temp dir: same user
            user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"

        def location(prefix: str, extra: str = "") -> str:
            return (
                f"~ ^{prefix}/api/v1/videos/(?<job>[A-Za-z0-9_.-]+)/content$ {{\n"
                f"            alias {self.www}/$job.mp4;\n"
                "            types { } default_type video/mp4;\n"
                f"{extra}"
                "        }"
            )

        plain = location("")
        limited = location("/limited", f"            limit_rate {self.limit_rate};\n")
        return f"""# Written by bench/upstream.py for one benchmark run.
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
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{self.http_port};
        listen 127.0.0.1:{self.https_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        location {plain}
        location {limited}
        location / {{ return 404; }}
    }}
}}
"""

    def _wait_listening(self, ports: list[int]) -> None:
        deadline = time.monotonic() + 15
        pending = list(ports)
        while pending:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = self.workdir / "nginx" / "logs" / "error.log"
                if log.exists():
                    err += log.read_text()
                raise RuntimeError(f"the upstream exited ({self.proc.returncode}): {err[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", pending[0]), timeout=1).close()
                pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the upstream does not listen on {pending[0]}") from None
                time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1G", help="payload size for the job bench-job (default 1G)")
    parser.add_argument("--limit-rate", default="8m", help="nginx limit_rate of /limited/ (default 8m)")
    parser.add_argument("--workdir", type=Path, help="default: a temp dir, removed at the end")
    args = parser.parse_args()
    stop_on_sigterm()
    import tempfile

    from run import make_payload, parse_size  # bench/ is on sys.path when run as a script

    work = Path(tempfile.mkdtemp(prefix="openrouter-video-upstream-", dir=args.workdir))
    try:
        with Upstream(work, limit_rate=args.limit_rate) as up:
            make_payload(up.www / "bench-job.mp4", parse_size(args.size))
            for protocol in up.protocols:
                print(f"{protocol}: base URL {up.base_url(protocol)}  (job bench-job, warmup)")
                print(f"{protocol}: limited  {up.base_url(protocol, limited=True)}")
            print(f"CA: {up.ca}  ({up.tls_version()})\n{up.version}; Ctrl-C stops it", flush=True)
            try:
                assert up.proc is not None
                up.proc.wait()
            except KeyboardInterrupt:
                pass
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
