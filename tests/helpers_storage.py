"""A real object store for signed, expiring URLs: Debian's nginx with its secure_link module.

It stands in for the storage that serves a video job's signed ``urls``: no API key, an expiry in the
URL itself, S3's XML bodies on a refusal. ``NginxStorage`` is a context manager::

    with NginxStorage() as store:
        store.put("video.mp4", data)
        url = store.url("video.mp4", time.time() + 60)   # signed, served with ranges and ETags
        store.redirect_url("video.mp4", exp)             # 302 to url("video.mp4", exp)
        store.requests()                                  # what nginx logged, oldest first
        store.authorization_seen()                        # uris of requests carrying Authorization

What it serves (every path; checked before anything else):
  * a request carrying an ``Authorization`` header: ``auth_status`` (599), InvalidArgument XML;
  * ``/o/<name>?md5=..&expires=..``: nginx's static module (200/206/304/412, ETag, Last-Modified,
    Accept-Ranges) when the signature matches and ``expires`` is not past; 403 AccessDenied
    "Request has expired" when it matches but is past; 403 SignatureDoesNotMatch when it does not
    match (or is missing); 404 NoSuchKey when it matches but the object does not exist;
  * ``/r/<name>?<query>``: 302 to the absolute ``/o/<name>?<query>`` on the same server.

nginx runs in the foreground as one process (``master_process off``), so it never switches user
(running as root is fine) and handles events one at a time, which ``requests()`` relies on: a
barrier request answered by nginx means every earlier response was logged (see ``_barrier``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import Any

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

XML = '<?xml version="1.0" encoding="UTF-8"?>'
EXPIRED_BODY = XML + "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
SIGNATURE_BODY = (
    XML + "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does "
    "not match the signature you provided.</Message></Error>"
)
NO_SUCH_KEY_BODY = (
    XML + "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
)
AUTHORIZATION_BODY = (
    XML + "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the "
    "X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header "
    "should be specified</Message></Error>"
)

_BARRIER = "/__nginx_storage_barrier"
_SAFE_SECRET = re.compile(r"[A-Za-z0-9_.~-]+")

_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
lock_file {tmp}/nginx.lock;
error_log {tmp}/logs/error.log info;

events {{
    worker_connections 256;
}}

http {{
    client_body_temp_path {tmp}/temp/client_body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;

    types {{
        video/mp4 mp4;
        video/webm webm;
    }}
    default_type application/octet-stream;
    server_tokens off;
    keepalive_timeout 65;

    log_format storage escape=json '{{"time":$msec,"method":"$request_method","uri":"$request_uri",'
        '"status":$status,"range":"$http_range","authorization":"$http_authorization",'
        '"if_range":"$http_if_range","bytes_sent":$body_bytes_sent,'
        '"connection":$connection,"connection_requests":$connection_requests}}';
    access_log {tmp}/logs/access.log storage;

    server {{
        listen {host}:{port};
        server_name _;
        root {tmp}/www;

        if ($http_authorization != "") {{
            rewrite ^ /__nginx_storage_authorization last;
        }}

        location /o/ {{
            secure_link $arg_md5,$arg_expires;
            secure_link_md5 "$secure_link_expires$uri {secret}";
            if ($secure_link = "") {{
                rewrite ^ /__nginx_storage_signature last;
            }}
            if ($secure_link = "0") {{
                rewrite ^ /__nginx_storage_expired last;
            }}
            error_page 404 /__nginx_storage_no_such_key;
            {limit_rate}
        }}

        location /r/ {{
            if ($request_uri ~ "^/r/(.*)$") {{
                return 302 http://{host}:{port}/o/$1;
            }}
            return 404;
        }}

        location = {barrier} {{
            access_log off;
            return 204;
        }}
        location = /__nginx_storage_authorization {{
            internal;
            default_type application/xml;
            return {auth_status} '{authorization_body}';
        }}
        location = /__nginx_storage_signature {{
            internal;
            default_type application/xml;
            return 403 '{signature_body}';
        }}
        location = /__nginx_storage_expired {{
            internal;
            default_type application/xml;
            return 403 '{expired_body}';
        }}
        location = /__nginx_storage_no_such_key {{
            internal;
            default_type application/xml;
            return 404 '{no_such_key_body}';
        }}
    }}
}}
"""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_name(name: str) -> None:
    parts = name.split("/")
    if not name or "\0" in name or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a plain object name: {name!r}")


class NginxStorage:
    """A real nginx serving ``/o/<name>`` under signed, expiring URLs (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.2",
        secret: str | None = None,
        *,
        rate: int | None = None,
        auth_status: int = 599,
        start_timeout: float = 10.0,
    ) -> None:
        address = ipaddress.ip_address(host)
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"host must be an IPv4 loopback address (127.0.0.0/8): {host!r}")
        if secret is None:
            secret = secrets.token_hex(16)
        if not _SAFE_SECRET.fullmatch(secret):
            raise ValueError("secret must be made of [A-Za-z0-9_.~-] (it goes into nginx.conf)")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be a positive number of bytes per second")
        if not 400 <= auth_status <= 999:
            raise ValueError("auth_status must be an error status (400..999)")
        self.host = host
        self.secret = secret
        self.rate = rate
        self.auth_status = auth_status
        self.start_timeout = start_timeout
        self.port = 0
        self.dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # lifecycle

    def __enter__(self) -> NginxStorage:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("already started")
        self.dir = Path(tempfile.mkdtemp(prefix="nginx-storage-"))
        try:
            for sub in ("logs", "temp", "www/o"):
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir, 0o755)
            last_error = ""
            for _attempt in range(8):  # another process may take the free port before nginx binds it
                self.port = _free_port(self.host)
                started, last_error = self._launch()
                if started:
                    return
                if "Address already in use" not in last_error:
                    break
            raise RuntimeError(f"nginx did not start on {self.host}:{self.port}:\n{last_error}")
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> tuple[bool, str]:
        assert self.dir is not None
        conf = self.dir / "nginx.conf"
        conf.write_text(
            _CONF.format(
                tmp=self.dir,
                host=self.host,
                port=self.port,
                secret=self.secret,
                barrier=_BARRIER,
                auth_status=self.auth_status,
                limit_rate=f"limit_rate {int(self.rate)};" if self.rate else "",
                authorization_body=AUTHORIZATION_BODY,
                signature_body=SIGNATURE_BODY,
                expired_body=EXPIRED_BODY,
                no_such_key_body=NO_SUCH_KEY_BODY,
            )
        )
        for log in ("access.log", "error.log"):
            (self.dir / "logs" / log).unlink(missing_ok=True)
        stderr_path = self.dir / "logs" / "nginx.stderr"
        with open(stderr_path, "wb") as stderr:
            self._process = subprocess.Popen(
                [NGINX, "-p", f"{self.dir}/", "-e", f"{self.dir}/logs/error.log", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                self._barrier(timeout=0.5)
                return True, ""
            except OSError:
                time.sleep(0.01)
        code = self._process.poll()
        self._terminate()
        status = (
            f"(exited with {code})" if code is not None else f"(not answering after {self.start_timeout} s)"
        )
        error_log = self.dir / "logs" / "error.log"
        text = stderr_path.read_text(errors="replace")
        if error_log.exists():
            text += error_log.read_text(errors="replace")
        return False, f"{status}\n{text.strip()}"

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # fast shutdown: a rate-limited download is not waited for
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self) -> None:
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # objects and URLs

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def path(self, name: str) -> Path:
        """The file that backs ``/o/<name>``."""
        _check_name(name)
        if self.dir is None:
            raise RuntimeError("not started")
        return self.dir / "www" / "o" / name

    def put(self, name: str, data: bytes) -> None:
        """Store (or atomically replace) the object; a replacement always gets a later mtime, so its
        ETag (nginx: hex mtime - hex size) and Last-Modified differ even at the same size. A download
        already under way keeps reading the old content, as from an object store."""
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        mtime = int(time.time())
        with contextlib.suppress(FileNotFoundError):
            mtime = max(mtime, int(target.stat().st_mtime) + 1)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.utime(tmp, (mtime, mtime))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def signature(self, name: str, expires: int | float) -> str:
        """nginx's ``secure_link_md5 "$secure_link_expires$uri <secret>"``, base64url, unpadded."""
        _check_name(name)
        text = f"{int(expires)}/o/{name} {self.secret}".encode()
        return base64.urlsafe_b64encode(hashlib.md5(text).digest()).decode().rstrip("=")

    def _signed_path(self, prefix: str, name: str, expires: int | float) -> str:
        query = urllib.parse.urlencode({"md5": self.signature(name, expires), "expires": int(expires)})
        return f"{prefix}{urllib.parse.quote(name, safe='/')}?{query}"

    def url(self, name: str, expires: int | float) -> str:
        """A signed URL of ``/o/<name>`` valid until ``expires`` (unix seconds, truncated)."""
        return self.base_url + self._signed_path("/o/", name, expires)

    def redirect_url(self, name: str, expires: int | float) -> str:
        """A URL on this server that answers 302 with ``Location: url(name, expires)``."""
        return self.base_url + self._signed_path("/r/", name, expires)

    # what nginx saw

    def _barrier(self, timeout: float = 2.0) -> None:
        """One unlogged request; nginx handles events one at a time and logs a request right after
        its last byte is sent, so once this is answered every earlier response is in the log."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", _BARRIER)
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                raise OSError(f"unexpected barrier status {response.status}")
        finally:
            conn.close()

    def _read_log(self) -> list[dict[str, Any]]:
        if self.dir is None:
            raise RuntimeError("not started")
        try:
            text = (self.dir / "logs" / "access.log").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break  # a line still being written
            raw = json.loads(line)
            entries.append(
                {
                    "time": raw["time"],
                    "method": raw["method"],
                    "uri": raw["uri"],
                    "status": raw["status"],
                    "range": raw["range"] or None,
                    "if_range": raw["if_range"] or None,
                    "authorization": bool(raw["authorization"]),
                    "bytes_sent": raw["bytes_sent"],
                    "connection": raw["connection"],
                    "connection_requests": raw["connection_requests"],
                }
            )
        return entries

    def requests(self, at_least: int = 0, timeout: float = 2.0) -> list[dict[str, Any]]:
        """Every logged request, oldest first: method, uri (with query), status, range, if_range,
        authorization (bool; the value is never returned), bytes_sent, time, connection,
        connection_requests. Waits (bounded by ``timeout``) for nginx to log what it has answered and
        until at least ``at_least`` entries are there (a request cut by the client is logged when
        nginx notices)."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(OSError):
            self._barrier(timeout=timeout)
        entries = self._read_log()
        while len(entries) < at_least and time.monotonic() < deadline:
            time.sleep(0.01)
            entries = self._read_log()
        return entries

    def authorization_seen(self, at_least: int = 0, timeout: float = 2.0) -> list[str]:
        """The uris (with query) of the requests that carried an Authorization header."""
        deadline = time.monotonic() + timeout
        while True:
            seen = [e["uri"] for e in self.requests(timeout=timeout) if e["authorization"]]
            if len(seen) >= at_least or time.monotonic() >= deadline:
                return seen
            time.sleep(0.01)

    def clear_log(self) -> None:
        """Forget the requests logged so far (nginx keeps appending to the same, now empty, file)."""
        self.requests()
        if self.dir is not None:
            with open(self.dir / "logs" / "access.log", "r+b") as f:
                f.truncate(0)
