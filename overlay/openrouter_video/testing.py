"""A fake OpenRouter Video API on 127.0.0.1, for this project's tests and for yours.

Example::

    from openrouter_video import VideoClient
    from openrouter_video.testing import FakeOpenRouter, Cut

    with FakeOpenRouter() as fake:
        fake.add_video("job-1", b"...mp4 bytes...")
        fake.enqueue(Cut(at=1000))                 # the next download is cut after 1000 bytes
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-1", "out.mp4")
        fake.requests                              # what the server received

The server implements the four operations of openapi.yaml. It checks the bearer key (401 with the
spec's error shape otherwise) and answers 404 for an unknown job, output index or model.

* ``POST /videos`` creates a job (202); ``GET /videos/{jobId}`` walks it through its statuses, one
  per poll (``pending``, ``in_progress``, ``completed`` unless :meth:`FakeOpenRouter.script_job`
  says otherwise); a completed job lists its ``unsigned_urls`` and serves its outputs.
* ``GET /videos/models`` lists :attr:`FakeOpenRouter.models`.
* ``GET /videos/{jobId}/content`` serves ``Range: bytes=N-`` requests with 206 and
  ``Content-Range``, honouring ``If-Range``; 400 for a malformed ``index``. Each video has a strong
  ETag and a Last-Modified date.

Faults are queued per route with :meth:`FakeOpenRouter.enqueue` (or the shorthand methods) and each
one is used up by the next request to that route: :class:`Status` (any status, JSON or HTML body,
Retry-After), :class:`Cut` (close the connection after a given byte of the file), :class:`Stall`
(stop sending for a while) and :class:`Redirect`. Switches stay on until turned off:
:attr:`~FakeOpenRouter.ignore_range` (answer every request with a full 200),
:attr:`~FakeOpenRouter.wrong_content_range` (a 206 whose Content-Range starts elsewhere) and
:attr:`~FakeOpenRouter.rate` (a slow link).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
import ssl
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = [
    "DEFAULT_MODEL",
    "ROUTES",
    "Cut",
    "FakeJob",
    "FakeOpenRouter",
    "FakeVideo",
    "Fault",
    "RecordedRequest",
    "Redirect",
    "Stall",
    "Status",
]

_API_PREFIX = "/api/v1"
_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received.

    Attributes:
        method: The HTTP method, e.g. ``"GET"``.
        path: The request path exactly as sent (still percent-encoded), without the query.
        query: The decoded query parameters, each name mapped to the list of its values.
        headers: The request headers, names in lower case.
        body: The request body.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class FakeVideo:
    """A video the fake server holds: its bytes, media type and validators."""

    data: bytes
    content_type: str = "video/mp4"
    etag: str = ""
    last_modified: str = "Tue, 24 Nov 2026 00:00:00 GMT"

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'


@dataclass
class FakeJob:
    """A video job on the fake server (see :meth:`FakeOpenRouter.script_job`).

    Attributes:
        id: The job id.
        statuses: What successive polls answer; the last one stays.
        outputs: The videos of the completed job.
        error: The error text of a failed job.
        polls: How many times ``GET /videos/{jobId}`` was answered.
        request: The JSON body ``POST /videos`` received.
    """

    id: str
    statuses: list[str]
    outputs: list[bytes]
    error: str | None = None
    polling_url: str = "relative"
    polls: int = 0
    request: dict[str, Any] = field(default_factory=dict)


#: The routes faults can be queued for.
ROUTES = frozenset({"content", "create", "job", "models"})

#: The model ``GET /videos/models`` lists by default (every field the spec requires).
DEFAULT_MODEL: dict[str, Any] = {
    "id": "google/veo-3.1",
    "canonical_slug": "google/veo-3.1",
    "name": "Veo 3.1",
    "description": "Google video generation model",
    "created": 1700000000,
    "supported_resolutions": ["720p", "1080p"],
    "supported_aspect_ratios": ["16:9", "9:16"],
    "supported_sizes": None,
    "supported_durations": [4, 6, 8],
    "supported_frame_images": ["first_frame", "last_frame"],
    "upscale_factor": None,
    "creativity": None,
    "generate_audio": True,
    "seed": None,
    "allowed_passthrough_parameters": [],
    "pricing_skus": {"generate": "0.50"},
}


class Fault:
    """Base class of the scripted behaviours queued with :meth:`FakeOpenRouter.enqueue`."""


@dataclass(frozen=True)
class Status(Fault):
    """Answer with ``status`` instead of the video.

    Args:
        status: The HTTP status code.
        body: The body. ``None`` means the spec's JSON error shape (or, with ``html=True``, an HTML
            error page such as a proxy would send).
        retry_after: The value of a ``Retry-After`` header (seconds, or an HTTP date), if any.
        html: Send an HTML page rather than JSON.
        content_type: Override the Content-Type.
        headers: Extra response headers.
    """

    status: int
    body: bytes | None = None
    retry_after: str | int | None = None
    html: bool = False
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut(Fault):
    """Serve the video but close the connection once byte offset ``at`` of the file is reached.

    With ``reset=True`` the connection is reset (RST) rather than closed.
    """

    at: int
    reset: bool = False


@dataclass(frozen=True)
class Stall(Fault):
    """Serve the video but stop sending for ``seconds`` once byte offset ``at`` is reached."""

    at: int
    seconds: float


@dataclass(frozen=True)
class Redirect(Fault):
    """Answer with a redirect to ``location`` (absolute URL or path)."""

    location: str
    status: int = 302


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenRouter

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is normal here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class FakeOpenRouter:
    """A loopback HTTP server that behaves like OpenRouter's Video Generation API.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`). It listens on 127.0.0.1
    on a free port and serves from a background thread.

    Attributes:
        api_key: The bearer key the server accepts; pass it to the client.
        requests: Every request received, in order (:class:`RecordedRequest`).
        require_auth: When false, any (or no) Authorization is accepted, like a CDN serving a
            signed URL.
        ssl_context: A server-side :class:`ssl.SSLContext` to serve HTTPS instead of HTTP.
        on_request: Called with each request before it is answered (e.g. to change a video
            between attempts).
        ignore_range: When true, ``Range`` is ignored and every answer is a full 200.
        wrong_content_range: When true, a range request gets a 206 whose Content-Range starts one
            byte after the requested offset.
        rate: When set, video bodies are sent at about this many bytes per second (a slow link).
    """

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_auth: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.api_key = api_key if api_key is not None else "sk-or-fake-" + secrets.token_hex(8)
        self.require_auth = require_auth
        self.ssl_context = ssl_context
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self.requests: list[RecordedRequest] = []
        self.ignore_range = False
        self.wrong_content_range = False
        self.rate: float | None = None
        self._videos: dict[tuple[str, int], FakeVideo] = {}
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        #: Jobs created through ``POST /videos``, by id.
        self.jobs: dict[str, FakeJob] = {}
        #: What a job's output is when no script says otherwise.
        self.default_output = b"\x00\x00\x00\x18ftypmp42fake video"
        #: The models ``GET /videos/models`` lists.
        self.models: list[dict[str, Any]] = [dict(DEFAULT_MODEL)]
        self._job_scripts: deque[FakeJob] = deque()
        self._job_counter = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenRouter:
        """Bind and start serving in a background thread; returns ``self``."""
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._stop.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Stalled responses are woken up and dropped."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeOpenRouter is not running")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when serving TLS)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give the client, ``http://127.0.0.1:PORT/api/v1``."""
        return self.origin + _API_PREFIX

    # -- content ---------------------------------------------------------------------------------
    def add_video(
        self,
        job_id: str,
        data: bytes,
        *,
        index: int = 0,
        content_type: str = "video/mp4",
        etag: str | None = None,
    ) -> FakeVideo:
        """Store ``data`` as output ``index`` of ``job_id``; replaces (and re-tags) an old one."""
        video = FakeVideo(data=data, content_type=content_type, etag=etag or "")
        with self._lock:
            self._videos[(job_id, index)] = video
        return video

    def video(self, job_id: str, index: int = 0) -> FakeVideo:
        """The stored video for ``job_id`` and ``index``."""
        return self._videos[(job_id, index)]

    # -- faults ----------------------------------------------------------------------------------
    def enqueue(self, *faults: Fault, route: str = "content") -> None:
        """Queue faults; each is used by one subsequent request to ``route``, in order.

        Routes: ``"content"`` (``GET /videos/{jobId}/content``, the default), ``"create"``
        (``POST /videos``), ``"job"`` (``GET /videos/{jobId}``) and ``"models"``
        (``GET /videos/models``). :class:`Cut` and :class:`Stall` apply to content only.
        """
        if route not in ROUTES:
            raise ValueError(f"route must be one of {sorted(ROUTES)}, not {route!r}")
        with self._lock:
            self._faults[route].extend(faults)

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | int | None = None,
        html: bool = False,
        route: str = "content",
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with ``status``."""
        self.enqueue(*(Status(status, retry_after=retry_after, html=html) for _ in range(times)), route=route)

    def cut_at(self, *offsets: int) -> None:
        """Cut the next content responses at these file offsets, one offset per request."""
        self.enqueue(*(Cut(at) for at in offsets))

    def stall(self, at: int, seconds: float) -> None:
        """Stall the next content response at file offset ``at`` for ``seconds``."""
        self.enqueue(Stall(at, seconds))

    def html_error(self, status: int = 502) -> None:
        """Answer the next content request with a proxy-style HTML error page."""
        self.enqueue(Status(status, html=True))

    @property
    def pending_faults(self) -> int:
        """How many queued faults (all routes) have not been used yet."""
        return sum(len(queue) for queue in self._faults.values())

    def _next_fault(self, route: str = "content") -> Fault | None:
        with self._lock:
            queue = self._faults[route]
            return queue.popleft() if queue else None

    # -- jobs ------------------------------------------------------------------------------------
    def script_job(
        self,
        *,
        outputs: Sequence[bytes] | None = None,
        statuses: Sequence[str] = ("pending", "in_progress", "completed"),
        error: str | None = None,
        job_id: str | None = None,
        polling_url: str = "relative",
    ) -> None:
        """Script the next job that ``POST /videos`` creates.

        Args:
            outputs: The videos of the completed job (default: ``[default_output]``).
            statuses: What successive polls of ``GET /videos/{jobId}`` answer; the last one stays.
                The ``POST`` itself answers with the first. Any string goes, e.g. a status the
                client does not know, or ``"failed"`` to end the job with ``error``.
            error: The ``error`` text of a failed job.
            job_id: The id to give the job (default ``job-<n>``).
            polling_url: ``"relative"`` (``/api/v1/videos/<id>``, as the API sends),
                ``"absolute"`` (with this server's origin), or an explicit URL to send as is.
        """
        with self._lock:
            self._job_scripts.append(
                FakeJob(
                    id=job_id or "",
                    statuses=list(statuses),
                    outputs=list(outputs) if outputs is not None else [self.default_output],
                    error=error,
                    polling_url=polling_url,
                )
            )

    def job(self, job_id: str) -> FakeJob:
        """A job created through ``POST /videos``."""
        return self.jobs[job_id]

    def _create_job(self, request: dict[str, Any]) -> FakeJob:
        with self._lock:
            job = (
                self._job_scripts.popleft()
                if self._job_scripts
                else FakeJob(
                    id="", statuses=["pending", "in_progress", "completed"], outputs=[self.default_output]
                )
            )
            self._job_counter += 1
            job.id = job.id or f"job-{self._job_counter}"
            job.request = request
            self.jobs[job.id] = job
        return job

    def _job_json(self, job: FakeJob, *, advance: bool) -> dict[str, Any]:
        with self._lock:
            status = job.statuses[min(job.polls, len(job.statuses) - 1)]
            if advance:
                job.polls += 1
        path = f"{_API_PREFIX}/videos/{quote(job.id, safe='')}"
        body: dict[str, Any] = {
            "id": job.id,
            "generation_id": f"gen-{job.id}",
            "polling_url": {"relative": path, "absolute": self.origin + path}.get(
                job.polling_url, job.polling_url
            ),
            "status": status,
        }
        if status == "completed":
            for index, data in enumerate(job.outputs):
                if (job.id, index) not in self._videos:
                    self.add_video(job.id, data, index=index)
            body["unsigned_urls"] = [
                f"{self.origin}{path}/content?index={index}" for index in range(len(job.outputs))
            ]
            body["usage"] = {"cost": 0.5, "is_byok": False}
        elif status == "failed":
            body["error"] = job.error or "generation failed"
        return body

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)


def error_body(status: int, message: str) -> bytes:
    """The spec's JSON error shape, ``{"error": {"code": status, "message": message}}``."""
    return json.dumps({"error": {"code": status, "message": message}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    # -- plumbing --------------------------------------------------------------------------------
    @property
    def fake(self) -> FakeOpenRouter:
        return self.server.fake

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, error_body(status, message), headers=headers)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.fake._record(
            RecordedRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
        )
        if not split.path.startswith(_API_PREFIX + "/"):
            self._error(404, f"No route for {split.path}")
            return
        segments = split.path[len(_API_PREFIX) + 1 :].split("/")
        if self.fake.require_auth and self.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
            message = (
                "Missing Authentication header" if "Authorization" not in self.headers else "Invalid API key"
            )
            self._error(401, message)
            return
        route, job_id = self._route(segments)
        if route is None:
            self._error(404, f"No route for {self.command} {split.path}")
            return
        fault = self.fake._next_fault(route)
        if isinstance(fault, Status):
            self._status_fault(fault)
            return
        if isinstance(fault, Redirect):
            self._redirect(fault)
            return
        if route == "content":
            self._content(job_id, parse_qs(split.query, keep_blank_values=True), fault)
        elif route == "create":
            self._create(body)
        elif route == "job":
            self._job(job_id)
        else:
            self._send(200, json.dumps({"data": self.fake.models}).encode())

    def _route(self, segments: list[str]) -> tuple[str | None, str]:
        method = "GET" if self.command == "HEAD" else self.command
        if segments == ["videos"] and method == "POST":
            return "create", ""
        if segments == ["videos", "models"] and method == "GET":
            return "models", ""
        if len(segments) == 2 and segments[0] == "videos" and method == "GET":
            return "job", unquote(segments[1])
        if len(segments) == 3 and segments[0] == "videos" and segments[2] == "content" and method == "GET":
            return "content", unquote(segments[1])
        return None, ""

    def _redirect(self, fault: Redirect) -> None:
        self.send_response(fault.status)
        self.send_header("Location", fault.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- POST /videos and GET /videos/{jobId} ----------------------------------------------------
    def _create(self, body: bytes) -> None:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            self._error(400, "Request body must be JSON")
            return
        if not isinstance(request, dict) or not isinstance(request.get("model"), str):
            self._error(400, "model is required")
            return
        known = {m.get("id") for m in self.fake.models}
        if request["model"] not in known:
            self._error(404, f"Model {request['model']} not found")
            return
        job = self.fake._create_job(request)
        self._send(202, json.dumps(self.fake._job_json(job, advance=False)).encode())

    def _job(self, job_id: str) -> None:
        job = self.fake.jobs.get(job_id)
        if job is None:
            self._error(404, f"Job {job_id} not found")
            return
        self._send(200, json.dumps(self.fake._job_json(job, advance=True)).encode())

    # -- GET /videos/{jobId}/content ------------------------------------------------------------
    def _content(self, job_id: str, query: dict[str, list[str]], fault: Fault | None) -> None:
        raw_index = query.get("index", ["0"])[-1]
        try:
            index = int(raw_index)
        except ValueError:
            self._error(400, f"index must be an integer, got {raw_index!r}")
            return
        if index < 0:
            self._error(400, "index must be >= 0")
            return
        video = self.fake._videos.get((job_id, index))
        if video is None:
            self._error(404, f"Video output {index} of job {job_id} not found")
            return
        self._serve_video(video, fault)

    def _status_fault(self, fault: Status) -> None:
        headers = dict(fault.headers)
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.html:
            reason = self.responses.get(fault.status, ("Error",))[0]
            body = fault.body or _HTML_PAGE.format(status=fault.status, reason=reason).encode()
            content_type = fault.content_type or "text/html; charset=utf-8"
        else:
            body = (
                fault.body
                if fault.body is not None
                else error_body(fault.status, self.responses.get(fault.status, ("Error",))[0])
            )
            content_type = fault.content_type or "application/json"
        self._send(fault.status, body, content_type, headers)

    def _requested_start(self, video: FakeVideo) -> int | None:
        """The start offset of a satisfiable ``Range: bytes=N-`` request, honouring If-Range."""
        value = self.headers.get("Range")
        if value is None or self.fake.ignore_range:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range not in (video.etag, video.last_modified):
            return None
        unit, _, spec = value.partition("=")
        start_text, _, end_text = spec.partition("-")
        if unit.strip() != "bytes" or not start_text.isdigit() or end_text not in ("",):
            return None
        start = int(start_text)
        return start if start < len(video.data) else None

    def _serve_video(self, video: FakeVideo, fault: Fault | None) -> None:
        data = video.data
        total = len(data)
        start = self._requested_start(video)
        self.send_response(200 if start is None else 206)
        self.send_header("Content-Type", video.content_type)
        self.send_header("ETag", video.etag)
        self.send_header("Last-Modified", video.last_modified)
        self.send_header("Accept-Ranges", "bytes")
        if start is None:
            start = 0
        else:
            shown = start + 1 if self.fake.wrong_content_range else start
            self.send_header("Content-Range", f"bytes {shown}-{total - 1}/{total}")
        self.send_header("Content-Length", str(total - start))
        self.end_headers()
        if self.command == "HEAD":
            return
        stop = total
        if isinstance(fault, Cut | Stall):
            stop = max(start, min(total, fault.at))
        self._write(memoryview(data)[start:stop])
        if isinstance(fault, Stall):
            if self.fake._stop.wait(fault.seconds):
                self.close_connection = True
                return
            self._write(memoryview(data)[stop:total])
        elif isinstance(fault, Cut) and stop < total:
            self.close_connection = True
            if fault.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_WR)

    def _write(self, view: memoryview) -> None:
        rate = self.fake.rate
        step = max(1, int(rate / 20) if rate else len(view))
        try:
            for start in range(0, len(view), step):
                self.wfile.write(view[start : start + step])
                if rate and self.fake._stop.wait(step / rate):
                    break
        except OSError:
            self.close_connection = True
