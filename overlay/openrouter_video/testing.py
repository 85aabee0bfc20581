"""A fake OpenRouter Video API on 127.0.0.1 and its storage on 127.0.0.2, for these tests and yours.

Example::

    from openrouter_video import VideoClient
    from openrouter_video.testing import FakeOpenRouter, Cut

    with FakeOpenRouter() as fake:
        fake.add_video("job-1", b"...mp4 bytes...")
        fake.enqueue(Cut(at=1000))                 # the next download is cut after 1000 bytes
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-1", "out.mp4")
        fake.requests                              # what the server received

It implements the four operations of openapi.yaml, checking every request against the spec itself
with ``jsonschema`` (a violation gets 400 naming the field, unless :attr:`FakeOpenRouter.strict` is
false), and needs the ``testing`` extra, ``pip install 'openrouter-video[testing]'``. docs/testing.md
describes it in full. **Beyond the spec**, and only these: ``HEAD`` wherever ``GET`` is; 405 for an
undefined method; 206 and 416 for ranges of the content; and the faults a test queues per route with
:meth:`FakeOpenRouter.enqueue` (:class:`Status`, :class:`Cut`, :class:`Stall`, :class:`Redirect`,
:class:`EndEarly`, :class:`Trickle`, :class:`Outage`), used before the request is checked (as a proxy
or rate limiter in front of the API would answer).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import random
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, quote, unquote, urlsplit

if TYPE_CHECKING:
    from ._openapi import OpenAPISpec

__all__ = [
    "DEFAULT_MODEL",
    "FRAMINGS",
    "ROUTES",
    "VALIDATORS",
    "Cut",
    "EndEarly",
    "FakeJob",
    "FakeOpenRouter",
    "FakeVideo",
    "Fault",
    "Outage",
    "RecordedRequest",
    "Redirect",
    "Stall",
    "Status",
    "Trickle",
    "digest_headers",
    "mp4_bytes",
]

_API_PREFIX = "/api/v1"
#: Where the fake serves the stored copies its signed URLs (a job's ``urls``) point to.
STORAGE_PATH: Final = "/storage/"
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
        origin: ``"api"``, or ``"storage"`` for the origin the signed URLs point to.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    origin: str = "api"


#: What :attr:`FakeVideo.validators` may be.
VALIDATORS: Final = frozenset({"both", "etag", "last-modified", "none"})

#: What :attr:`FakeOpenRouter.framing` may be.
FRAMINGS: Final = frozenset({"content-length", "close", "chunked"})

_DEFAULT_LAST_MODIFIED = "Tue, 24 Nov 2026 00:00:00 GMT"


@dataclass
class FakeVideo:
    """A video the fake server holds: its bytes, media type, validators and extra headers.

    Attributes:
        data: The bytes of the file.
        content_type: The Content-Type it is served with.
        etag: The ETag, sent verbatim (so it may be weak, ``W/"x"``, or even unquoted, ``abc123``);
            empty means a strong tag derived from ``data``.
        last_modified: The Last-Modified value, sent verbatim.
        validators: Which validators 200 and 206 answers carry and ``If-Range`` may match (one of
            :data:`VALIDATORS`), compared as strings (so a weak tag matches itself).
        headers: Extra headers sent verbatim with every 200 and 206 answer for this video (e.g.
            :func:`digest_headers`), also for a range: they describe whatever the test says.
    """

    data: bytes
    content_type: str = "video/mp4"
    etag: str = ""
    last_modified: str = _DEFAULT_LAST_MODIFIED
    validators: str = "both"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'
        if self.validators not in VALIDATORS:
            raise ValueError(f"validators must be one of {sorted(VALIDATORS)}, not {self.validators!r}")

    @property
    def sends_etag(self) -> bool:
        """Whether answers carry the ETag (``validators`` is ``"both"`` or ``"etag"``)."""
        return self.validators in ("both", "etag")

    @property
    def sends_last_modified(self) -> bool:
        """Whether answers carry Last-Modified (``validators`` is ``"both"`` or ``"last-modified"``)."""
        return self.validators in ("both", "last-modified")


@dataclass
class FakeJob:
    """A video job on the fake server (see :meth:`FakeOpenRouter.script_job`).

    Attributes:
        id: The job id.
        statuses: What successive polls of ``GET /videos/{jobId}`` answer; the last one stays.
        outputs: The videos of the completed job.
        error: The error text of a failed job.
        polling_url: ``"relative"`` (``/api/v1/videos/<id>``, as the API sends), ``"absolute"`` (with
            the server's origin), or an explicit URL to send as is.
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

    @property
    def status(self) -> str:
        """What the next poll answers (the last of :attr:`statuses` once they are used up)."""
        return self.statuses[min(self.polls, len(self.statuses) - 1)]


#: The routes faults can be queued for (``storage``: the signed URLs' origin).
ROUTES = frozenset({"content", "create", "job", "models", "storage"})

#: The route of each operation of openapi.yaml, by operationId.
_OPERATION_ROUTES: Final = {
    "createVideos": "create",
    "getVideos": "job",
    "listVideosContent": "content",
    "listVideosModels": "models",
}

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
    """Answer with ``status`` instead of the video, and ``body``: ``None`` means the spec's JSON error
    shape or, with ``html=True``, an HTML error page such as a proxy would send. ``retry_after`` is a
    ``Retry-After`` value (seconds, or an HTTP date); ``content_type`` overrides the Content-Type;
    ``headers`` are extra response headers."""

    status: int
    body: bytes | None = None
    retry_after: str | int | None = None
    html: bool = False
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut(Fault):
    """Serve the video but close the connection (reset it, RST, with ``reset=True``) once byte offset
    ``at`` of the file is reached."""

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


@dataclass(frozen=True)
class EndEarly(Fault):
    """Serve the video but end the body *cleanly* at byte offset ``at`` of the file, like a proxy
    whose upstream failed. With :attr:`FakeOpenRouter.framing` ``"chunked"`` the terminating chunk is
    sent at ``at`` (the headers still describe the whole file); with ``"close"`` the connection is
    closed at ``at``; with ``"content-length"`` the answer is that of a file ``at`` bytes long (the
    first ``at`` bytes, same validators; a range starting at or after ``at`` gets 416)."""

    at: int


@dataclass(frozen=True)
class Trickle(Fault):
    """Serve the video normally up to byte offset ``at`` of the file, then ``size`` bytes every
    ``interval`` seconds (the first ones ``interval`` after ``at``) until the end of the body, the
    client hanging up or :meth:`FakeOpenRouter.stop`."""

    at: int
    interval: float
    size: int = 1

    def __post_init__(self) -> None:
        if self.size < 1 or self.interval < 0:
            raise ValueError("Trickle needs size >= 1 and interval >= 0")


@dataclass(frozen=True)
class Outage(Fault):
    """Serve the video up to byte offset ``at`` of the file, then go down for ``seconds``.

    The server stops listening (new connections are refused, ``ECONNREFUSED``) and closes every
    open connection, this one included (after the whole body if ``at`` is past its end); after
    ``seconds`` it listens again on the same port, with the same videos, jobs, queued faults and
    recorded requests. Queued for another route than ``"content"``, the request is not answered
    (its connection is closed) and ``at`` is not used. See also :meth:`FakeOpenRouter.outage`.
    """

    at: int
    seconds: float


def digest_headers(data: bytes, *, wrong: bool = False) -> dict[str, str]:
    """Integrity headers describing ``data``, for :meth:`FakeOpenRouter.add_video`'s ``headers``.

    Returns ``Content-MD5`` (base64 MD5), ``Repr-Digest`` (``sha-256=:<base64>:``, RFC 9530),
    ``x-goog-hash`` (``md5=<base64>``, as Google Cloud Storage sends) and ``x-amz-checksum-sha256``
    (base64 SHA-256, as Amazon S3 sends). With ``wrong=True`` they describe ``data + b"x"``
    instead. To send only one: ``{k: v for k, v in digest_headers(d).items() if k == "Repr-Digest"}``.
    """
    if wrong:
        data += b"x"
    md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return {
        "Content-MD5": md5,
        "Repr-Digest": f"sha-256=:{sha256}:",
        "x-goog-hash": f"md5={md5}",
        "x-amz-checksum-sha256": sha256,
    }


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def mp4_bytes(payload_size: int = 16, *, seed: int = 0, fragmented: bool = False) -> bytes:
    """A small, structurally valid ISO-BMFF (MP4) file.

    Top-level boxes ``ftyp`` (major brand ``isom``, minor version 0x200, compatible ``isom``,
    ``iso2``, ``mp41``), ``moov`` (an ``mvhd``; with ``fragmented=True`` also ``mvex``/``trex``),
    with ``fragmented=True`` a ``moof`` (``mfhd`` and a ``traf`` with ``tfhd`` and a one-sample
    ``trun``), and ``mdat`` holding ``payload_size`` pseudo-random bytes (the same for the same
    ``seed``). Each box's 32-bit size is its exact length and the boxes tile the file. It is not
    playable media, but it passes structural checks.
    """
    if not 0 <= payload_size <= 0xFFFFFFFF - 8:
        raise ValueError("payload_size must be between 0 and 2**32 - 9")
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    # mvhd: creation and modification times, timescale, duration, rate 1.0, volume 1.0, 10 reserved
    # bytes, the unity matrix, 24 pre_defined bytes, next_track_ID.
    matrix = (0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd", 0, 0, struct.pack(">4IIH10x9I24xI", 0, 0, 1000, 0, 0x00010000, 0x0100, *matrix, 2)
    )
    payload = random.Random(seed).randbytes(payload_size)
    if not fragmented:
        return ftyp + _box(b"moov", mvhd) + _box(b"mdat", payload)
    trex = _full_box(b"trex", 0, 0, struct.pack(">5I", 1, 1, 0, 0, 0))
    moov = _box(b"moov", mvhd, _box(b"mvex", trex))
    mfhd = _full_box(b"mfhd", 0, 0, struct.pack(">I", 1))
    tfhd = _full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))  # default-base-is-moof
    trun_size = 8 + 4 + 12
    moof_size = 8 + len(mfhd) + 8 + len(tfhd) + trun_size
    # data-offset-present | sample-size-present: one sample, the whole mdat payload.
    trun = _full_box(b"trun", 0, 0x000201, struct.pack(">III", 1, moof_size + 8, payload_size))
    moof = _box(b"moof", mfhd, _box(b"traf", tfhd, trun))
    assert len(moof) == moof_size
    return ftyp + moov + moof + _box(b"mdat", payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenRouter

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is normal here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Count the connection and track it (refused if this server is already going down)."""
        fake = self.fake
        with fake._listen_lock:
            fake.connections += 1
            if self is not fake._server and self is not fake._storage:
                return False
            fake._sockets.add(request)
            fake.peak_connections = max(fake.peak_connections, len(fake._sockets))
            return True

    def shutdown_request(self, request: Any) -> None:
        with self.fake._listen_lock:
            self.fake._sockets.discard(request)
        super().shutdown_request(request)


def _shutdown_socket(sock: socket.socket) -> None:
    """Shut a socket down at the OS level (bypassing TLS), waking up whoever blocks on it."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class FakeOpenRouter:
    """A loopback HTTP server that behaves like OpenRouter's Video Generation API.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`). It listens on 127.0.0.1
    on a free port, and its storage (the signed URLs) on a free port of ``storage_host`` (of ``host``
    when that cannot be bound), each served from a background thread.

    Attributes:
        api_key: The bearer key the server accepts; pass it to the client.
        requests: Every request received, in order (:class:`RecordedRequest`).
        require_auth: When false, any (or no) Authorization is accepted (like a CDN's signed URL).
        ssl_context: A server-side :class:`ssl.SSLContext` to serve HTTPS instead of HTTP.
        storage_authorization: The paths of requests to the storage origin that carried an
            ``Authorization`` header (answered 400): a client must never send its key there.
        stored_for: Seconds a job's stored copy lasts after it first completes (``expires_at``).
        refresh_urls: When true (the default), every read of a job signs its ``urls`` afresh (same
            ``expires_at``); when false, reads repeat the last URLs.
        content_outlives_copy: When true, the content endpoint goes on serving a job's outputs once
            its stored copy expired (the job has no ``urls``); by default it answers 410.
        strict: When true (the default), every request is checked against openapi.yaml (400 naming
            the field); when false, anything the handlers can read is accepted.
        on_request: Called with each request before it is answered (e.g. to change a video).
        ignore_range: When true, ``Range`` is ignored and every answer is a full 200.
        accept_ranges: When false, video answers carry no ``Accept-Ranges: bytes`` header (ranges
            are still honoured, as by servers that do not advertise them).
        wrong_content_range: When true, a range request gets a 206 whose Content-Range starts one
            byte after the requested offset.
        ignore_if_range: When true, ``Range`` is honoured (206) even when ``If-Range`` does not
            match the video's current validators (by default such a request gets a full 200).
        ignore_bounded_ranges: When true, a range with an end (``bytes=a-b``) gets the whole file
            with 200; open ranges (``bytes=a-``) are still honoured.
        validators_on_206: When false, 206 answers carry neither ETag nor Last-Modified.
        rate: When set, video bodies are sent at about this many bytes per second per response, a
            cap per connection like nginx's ``limit_rate``.
        connections: How many TCP connections the server has accepted since it was created.
        peak_connections: The most connections open at the same time (idle keep-alive ones too).
        peak_requests: The most requests that were being answered at the same time.
    """

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_auth: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        strict: bool = True,
        storage_host: str = "127.0.0.2",
    ) -> None:
        from ._openapi import load_spec  # needs the `testing` extra (jsonschema, pyyaml)

        self._spec: OpenAPISpec = load_spec()
        self.strict = strict
        self.api_key = api_key if api_key is not None else "sk-or-fake-" + secrets.token_hex(8)
        self.require_auth = require_auth
        self.ssl_context = ssl_context
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self.requests: list[RecordedRequest] = []
        self.accept_ranges = self.validators_on_206 = self.refresh_urls = True
        self.ignore_range = self.wrong_content_range = self.ignore_if_range = self.ignore_bounded_ranges = (
            False
        )
        self.content_outlives_copy = False
        self.rate: float | None = None
        self.stored_for: float = 3600.0
        self.storage_authorization: list[str] = []
        self._storage_host = storage_host
        self._storage: _Server | None = None
        self._expires: dict[str, int] = {}  # when each job's stored copy expires
        self._gone: set[str] = set()  # jobs whose content endpoint answers 410
        self._copies: dict[tuple[str, int], FakeVideo] = {}  # the stored copies
        self._signed = 0  # signed URLs issued (each differs, as a presigned URL's date does)
        self.connections = self.peak_connections = self.peak_requests = self._answering = 0
        self._framing = "content-length"
        self._chunk_size = 65536
        self._videos: dict[tuple[str, int], FakeVideo] = {}
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        #: Jobs created through ``POST /videos``, by id.
        self.jobs: dict[str, FakeJob] = {}
        #: What a job's output is when no script says otherwise: ``mp4_bytes(16)``.
        self.default_output = mp4_bytes(16)
        #: The models ``GET /videos/models`` lists.
        self.models: list[dict[str, Any]] = [dict(DEFAULT_MODEL)]
        self._job_scripts: deque[FakeJob] = deque()
        self._job_counter = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        # Listening state: _server is None while running during an outage.
        self._listen_lock = threading.Lock()
        self._running = False
        self._bound_port = 0
        self._outage_generation = 0
        self._sockets: set[Any] = set()

    def start(self) -> FakeOpenRouter:
        """Bind and start serving in a background thread; returns ``self``."""
        with self._listen_lock:
            self._stop.clear()
            self._server = self._serve(self._host, self._port)
            self._bound_port = int(self._server.server_address[1])
            self._running = True
        try:
            self._storage = self._serve(self._storage_host, 0)
        except OSError:  # no 127.0.0.2 here: another port of the same host
            self._storage = self._serve(self._host, 0)
        return self

    def _serve(self, host: str, port: int) -> _Server:
        server = _Server((host, port), _Handler)  # closed again if binding fails
        server.fake = self
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def stop(self) -> None:
        """Stop serving and close the socket (also during an outage); stalled responses are dropped."""
        self._stop.set()
        self._go_down(stopping=True)
        storage, self._storage = self._storage, None
        if storage is not None:
            storage.shutdown()
            storage.server_close()

    def outage(self, seconds: float) -> None:
        """Go down now for ``seconds``, as the :class:`Outage` fault does (idle keep-alive connections
        are closed too); called during an outage, it restarts the countdown."""
        if not self._running:
            raise RuntimeError("FakeOpenRouter is not running")
        self._outage(seconds)

    def _outage(self, seconds: float) -> None:
        generation = self._go_down()
        if generation is not None:
            threading.Thread(target=self._end_outage, args=(generation, seconds), daemon=True).start()

    def _go_down(self, *, stopping: bool = False) -> int | None:
        """Stop listening (a new generation, so a pending re-listen gives up) and, for an outage, shut
        every open connection down. Returns the generation (``None``: not running)."""
        with self._listen_lock:
            if not (stopping or self._running):
                return None  # stopped meanwhile
            if stopping:
                self._running = False
            self._outage_generation += 1
            server, self._server = self._server, None
            sockets = [] if stopping else list(self._sockets)
            generation = self._outage_generation
        if server is not None:
            if not stopping:
                _shutdown_socket(server.socket)  # refuse at once, before the serving loop notices
            server.shutdown()
            server.server_close()
        for sock in sockets:
            _shutdown_socket(sock)
        return generation

    @property
    def in_outage(self) -> bool:
        """Whether the server is running but not listening (during an :meth:`outage`)."""
        return self._running and self._server is None

    def _end_outage(self, generation: int, seconds: float) -> None:
        """Listen again after ``seconds``, unless the server stops or goes down anew meanwhile."""
        while not self._stop.wait(seconds):
            with self._listen_lock:
                if not self._running or generation != self._outage_generation:
                    return
                try:
                    self._server = self._serve(self._host, self._bound_port)
                    return
                except OSError:
                    seconds = 0.02  # the port is still busy (e.g. in use by a closing socket): try again

    @property
    def open_connections(self) -> int:
        """How many connections are open right now."""
        with self._listen_lock:
            return len(self._sockets)

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on (also during an outage)."""
        if not self._running:
            raise RuntimeError("FakeOpenRouter is not running")
        return self._bound_port

    @property
    def framing(self) -> str:
        """How video bodies (200 and 206) are delimited; other answers always carry a Content-Length.

        ``"content-length"`` (the default); ``"close"``: ``Connection: close`` and the connection closed
        after the body (like nginx with ``chunked_transfer_encoding off``); ``"chunked"``: chunks of at
        most :attr:`chunk_size` bytes, never straddling a fault's offset (so a :class:`Cut` ends the
        stream after whole chunks, without the terminating zero-length chunk).
        """
        return self._framing

    @framing.setter
    def framing(self, value: str) -> None:
        if value not in FRAMINGS:
            raise ValueError(f"framing must be one of {sorted(FRAMINGS)}, not {value!r}")
        self._framing = value

    @property
    def chunk_size(self) -> int:
        """The largest chunk sent with ``framing = "chunked"`` (default 65536 bytes)."""
        return self._chunk_size

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        if value < 1:
            raise ValueError("chunk_size must be at least 1")
        self._chunk_size = value

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when serving TLS)."""
        return f"{'https' if self.ssl_context is not None else 'http'}://{self._host}:{self.port}"

    @property
    def storage_origin(self) -> str:
        """Where the signed URLs point: ``http://127.0.0.2:PORT``, an origin of its own."""
        assert self._storage is not None, "FakeOpenRouter is not running"
        host, port = self._storage.server_address[:2]
        return f"{'https' if self.ssl_context is not None else 'http'}://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give the client, ``http://127.0.0.1:PORT/api/v1``."""
        return self.origin + _API_PREFIX

    def add_video(
        self,
        job_id: str,
        data: bytes,
        *,
        index: int = 0,
        content_type: str = "video/mp4",
        etag: str | None = None,
        last_modified: str | None = None,
        validators: str = "both",
        headers: Mapping[str, str] | None = None,
    ) -> FakeVideo:
        """Store ``data`` as output ``index`` of ``job_id``; replaces (and re-tags) an old one.

        The other arguments are the :class:`FakeVideo` attributes; ``etag=None`` derives a strong
        tag from ``data``, ``last_modified=None`` gives a fixed date.
        Unless ``job_id`` is a job already, it becomes a completed one (``GET /videos/{jobId}``
        answers it, with its signed ``urls``); the stored copy they serve becomes ``data`` too.
        """
        modified = _DEFAULT_LAST_MODIFIED if last_modified is None else last_modified
        video = FakeVideo(data, content_type, etag or "", modified, validators, dict(headers or {}))
        with self._lock:
            self._videos[(job_id, index)] = video
            self._copies.pop((job_id, index), None)  # the stored copy follows, unless store() says otherwise
            job = self.jobs.setdefault(job_id, FakeJob(job_id, ["completed"], []))
            job.outputs += [b""] * (index + 1 - len(job.outputs))
            job.outputs[index] = job.outputs[index] or data
        return video

    def store(self, job_id: str, data: bytes, index: int = 0) -> None:
        """Make the stored copy of an output (what its signed URL serves) ``data``, unlike what the
        content endpoint serves (by default the two are the same bytes, with ETags of their own)."""
        with self._lock:
            video = self._videos.get((job_id, index))
            modified = video.last_modified if video is not None else _DEFAULT_LAST_MODIFIED
            md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
            self._copies[(job_id, index)] = FakeVideo(data, etag=f'"s3-{md5}"', last_modified=modified)

    def expire(self, job_id: str) -> None:
        """Expire the job's stored copy now: its signed URLs answer 403, the job no longer lists
        ``urls`` and ``expires_at``, and the content endpoint answers 410 (unless
        :attr:`content_outlives_copy`)."""
        with self._lock:
            self._expires[job_id] = int(time.time()) - 1

    def gone(self, job_id: str) -> None:
        """Make the content endpoint answer 410 for the job's outputs: they are no longer available."""
        with self._lock:
            self._gone.add(job_id)

    def video(self, job_id: str, index: int = 0) -> FakeVideo:
        """The stored video for ``job_id`` and ``index``."""
        return self._videos[(job_id, index)]

    def enqueue(self, *faults: Fault, route: str = "content") -> None:
        """Queue faults; each is used by one subsequent request to ``route``, in order.

        Routes: ``"content"`` (``GET /videos/{jobId}/content``, the default), ``"create"``
        (``POST /videos``), ``"job"`` (``GET /videos/{jobId}``), ``"models"``
        (``GET /videos/models``) and ``"storage"`` (the signed URLs). :class:`Cut`, :class:`Stall`,
        :class:`EndEarly` and :class:`Trickle` apply to content and storage only; :class:`Outage` to
        any route but storage.
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

    def script_job(
        self,
        *,
        outputs: Sequence[bytes] | None = None,
        statuses: Sequence[str] = ("pending", "in_progress", "completed"),
        error: str | None = None,
        job_id: str | None = None,
        polling_url: str = "relative",
    ) -> None:
        """Script the next job that ``POST /videos`` creates (see :class:`FakeJob`).

        ``outputs`` defaults to ``[default_output]`` and ``job_id`` to ``job-<n>``. The ``POST`` answers
        the first of ``statuses``; any string goes, e.g. a status the client does not know, or
        ``"failed"`` to end the job with ``error``.
        """
        videos = list(outputs) if outputs is not None else [self.default_output]
        with self._lock:
            self._job_scripts.append(FakeJob(job_id or "", list(statuses), videos, error, polling_url))

    def signed_url(self, job_id: str, index: int, expires: int, nonce: int = 0) -> str:
        """A signed URL to the stored copy of output ``index`` of ``job_id``, valid until ``expires``
        (Unix seconds), on :attr:`storage_origin`: it needs no key, only its signature."""
        signature = hmac.new(
            self.api_key.encode(), f"{job_id}/{index}/{expires}/{nonce}".encode(), "sha256"
        ).hexdigest()
        where = f"{self.storage_origin}{STORAGE_PATH}{quote(job_id, safe='')}/{index}"
        return f"{where}?expires={expires}&n={nonce}&signature={signature}"

    def _stored(self, path: str, query: Mapping[str, list[str]]) -> FakeVideo | bytes:
        """The stored copy a signed URL names, or the body of a 403 as S3 words it: its signature is
        wrong, or it (or the copy) has expired."""
        job_id, _, index = unquote(path[len(STORAGE_PATH) :]).rpartition("/")
        expires, nonce, signature = (query.get(name, [""])[-1] for name in ("expires", "n", "signature"))
        valid = all(part.isdigit() for part in (expires, index, nonce)) and hmac.compare_digest(
            self.signed_url(job_id, int(index), int(expires), int(nonce)).rpartition("=")[2], signature
        )
        if not valid:
            return _s3_error("SignatureDoesNotMatch", "The request signature we calculated does not match")
        now = time.time()
        if min(int(expires), self._expires.get(job_id, int(expires))) <= now:
            return _s3_error("AccessDenied", "Request has expired", expires=int(expires), now=now)
        key = (job_id, int(index))
        with self._lock:
            video = self._videos.get(key)
            if key not in self._copies and video is not None:
                self.store(job_id, video.data, int(index))
            copy = self._copies.get(key)
        if copy is None:
            raise _refused(404, f"Video output {index} of job {job_id} not found")
        return copy

    def job(self, job_id: str) -> FakeJob:
        """A job created through ``POST /videos``."""
        return self.jobs[job_id]

    def _create_job(self, body: bytes) -> FakeJob:
        """The job ``POST /videos`` with ``body`` creates: the next scripted one, or a default one."""
        try:
            request = json.loads(body or b"null")
        except ValueError:
            raise _refused(400, "Request body must be JSON") from None
        if not isinstance(request, dict) or not isinstance(request.get("model"), str):
            raise _refused(400, "model is required")
        if request["model"] not in {m.get("id") for m in self.models}:
            raise _refused(404, f"Model {request['model']} not found")
        with self._lock:
            if (previous := request.get("previous_job_id")) is not None:
                if (prior := self.jobs.get(str(previous))) is None:
                    raise _refused(404, f"Job {previous} not found")
                if prior.status != "completed":
                    raise _refused(400, f"previous_job_id: job {previous} is {prior.status}, not completed")
            if not self._job_scripts:
                self.script_job()
            job = self._job_scripts.popleft()
            self._job_counter += 1
            job.id = job.id or f"job-{self._job_counter}"
            job.request = request
            self.jobs[job.id] = job
        return job

    def _job_json(self, job: FakeJob, *, advance: bool) -> dict[str, Any]:
        with self._lock:
            status = job.status
            if advance:
                job.polls += 1
        path = f"{_API_PREFIX}/videos/{quote(job.id, safe='')}"
        polling_url = {"relative": path, "absolute": self.origin + path}.get(job.polling_url, job.polling_url)
        body: dict[str, Any] = {
            "id": job.id,
            "generation_id": f"gen-{job.id}",
            "polling_url": polling_url,
            "status": status,
        }
        if status == "completed":
            for index, data in enumerate(job.outputs):
                if (job.id, index) not in self._videos:
                    self.add_video(job.id, data, index=index)
            count = range(len(job.outputs))
            body["unsigned_urls"] = [f"{self.origin}{path}/content?index={index}" for index in count]
            body["usage"] = {"cost": 0.5, "is_byok": False}
            with self._lock:
                expires = self._expires.setdefault(job.id, int(time.time() + self.stored_for))
                self._signed += self.refresh_urls
            schemas = self._spec.document.get("components", {}).get("schemas", {})
            fields = schemas.get("VideoGenerationResponse", {}).get("properties", {})
            # the spec has signed URLs (2026-10 on), and the copy is still stored
            if {"urls", "expires_at"} <= set(fields) and expires > time.time():
                body["urls"] = [self.signed_url(job.id, index, expires, self._signed) for index in count]
                body["expires_at"] = expires
        elif status == "failed":
            body["error"] = job.error or "generation failed"
        return body


def error_body(status: int, message: str) -> bytes:
    """The spec's JSON error shape, ``{"error": {"code": status, "message": message}}``."""
    return json.dumps({"error": {"code": status, "message": message}}).encode()


def _s3_error(code: str, message: str, *, expires: int = 0, now: float = 0.0) -> bytes:
    """The XML body S3 sends with a 403 for a presigned URL."""
    when = "".join(
        f"<{tag}>{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(value))}</{tag}>"
        for tag, value in (("Expires", expires), ("ServerTime", now))
        if value
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"{when}</Error>"
    ).encode()


def _refused(status: int, message: str) -> Exception:
    """The exception that has the handler answer ``status`` with ``message`` in the error shape."""
    from ._openapi import RequestRefused  # loaded by FakeOpenRouter() already

    return RequestRefused(status, message)


_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    fake: FakeOpenRouter
    _chunked = False  # whether the body being sent is chunked

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def setup(self) -> None:
        """Note the fake and turn Nagle's algorithm off (the headers and the body of an answer are
        written separately, and with it on, each small answer waited 40 ms for the delayed ACK)."""
        super().setup()
        self.fake = self.server.fake
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _head(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._head(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), *headers])
        if self.command != "HEAD":
            self.wfile.write(body)

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every method (``do_GET``, ``do_PUT``, ``do_FOO``...) is dispatched alike: one the spec does
        not define gets 405 with ``Allow`` (or 404 off its paths), not the standard library's 501."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        from ._openapi import RequestRefused  # loaded by FakeOpenRouter() already

        fake = self.fake
        with fake._lock:
            fake._answering += 1
            fake.peak_requests = max(fake.peak_requests, fake._answering)
        try:
            self._answer()
        except RequestRefused as refused:  # raised before anything is sent
            self._send(
                refused.status, error_body(refused.status, refused.message), headers=refused.headers.items()
            )
        finally:
            with fake._lock:
                fake._answering -= 1

    def _answer(self) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        origin = "storage" if self.server is fake._storage else "api"
        recorded = RecordedRequest(self.command, split.path, query, headers, body, origin)
        with fake._lock:
            fake.requests.append(recorded)
        if fake.on_request is not None:
            fake.on_request(recorded)
        if origin == "storage":  # a signed URL to the stored copy: no key, no spec
            self._storage_answer(split.path, query, headers)
            return
        match = fake._spec.match(self.command, split.path)
        operation = match.operation
        auth = self.headers.get("Authorization")
        if fake.require_auth and operation.documents(401) and auth != f"Bearer {fake.api_key}":
            raise _refused(401, "Missing Authentication header" if auth is None else "Invalid API key")
        route = _OPERATION_ROUTES.get(operation.operation_id)
        if route is None:
            raise _refused(500, f"The fake does not implement {operation.operation_id}")
        fault = self._fault(route)
        if isinstance(fault, Status | Redirect):
            return
        if isinstance(fault, Outage) and route != "content":
            self.close_connection = True
            fake._outage(fault.seconds)
            return
        if fake.strict:
            fake._spec.check(match, query, headers, body)
        job_id = unquote(match.path_params.get("jobId", ""))
        if route == "content":
            self._content(job_id, query, fault)
        elif route == "create":
            self._send(202, json.dumps(fake._job_json(fake._create_job(body), advance=False)).encode())
        elif route == "job":
            if job_id not in fake.jobs:
                raise _refused(404, f"Job {job_id} not found")
            self._send(200, json.dumps(fake._job_json(fake.jobs[job_id], advance=True)).encode())
        else:
            self._send(200, json.dumps({"data": fake.models}).encode())

    def _storage_answer(self, path: str, query: dict[str, list[str]], headers: Mapping[str, str]) -> None:
        fake = self.fake
        if "authorization" in headers:
            with fake._lock:
                fake.storage_authorization.append(path)
            raise _refused(400, "the storage origin takes no Authorization: a signed URL needs no key")
        if not path.startswith(STORAGE_PATH):
            raise _refused(404, f"No route for {path}")
        fault = self._fault("storage")
        if isinstance(fault, Status | Redirect):
            return
        if isinstance(stored := fake._stored(path, query), bytes):
            self._send(403, stored, "application/xml")
        else:
            self._serve_video(stored, None if isinstance(fault, Outage) else fault)

    def _content(self, job_id: str, query: dict[str, list[str]], fault: Fault | None) -> None:
        raw_index = query.get("index", ["0"])[-1]
        try:
            index = int(raw_index)
        except ValueError:
            raise _refused(400, f"index must be an integer, got {raw_index!r}") from None
        if index < 0:
            raise _refused(400, "index must be >= 0")
        fake = self.fake
        video = fake._videos.get((job_id, index))
        if video is None:
            raise _refused(404, f"Video output {index} of job {job_id} not found")
        expired = fake._expires.get(job_id, time.time() + 1) <= time.time() and not fake.content_outlives_copy
        if job_id in fake._gone or expired:
            raise _refused(410, f"Video output {index} of job {job_id} is no longer available")
        self._serve_video(video, fault)

    def _fault(self, route: str) -> Fault | None:
        """Take the next fault queued for ``route``; answer it here if it is a Status or a Redirect."""
        with self.fake._lock:
            queue = self.fake._faults[route]
            fault = queue.popleft() if queue else None
        if isinstance(fault, Redirect):
            self._head(fault.status, [("Location", fault.location), ("Content-Length", "0")])
        elif isinstance(fault, Status):
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            reason = self.responses.get(fault.status, ("Error",))[0]
            if fault.html:
                body = fault.body or _HTML_PAGE.format(status=fault.status, reason=reason).encode()
            else:
                body = fault.body if fault.body is not None else error_body(fault.status, reason)
            ctype = fault.content_type or ("text/html; charset=utf-8" if fault.html else "application/json")
            self._send(fault.status, body, ctype, headers.items())
        return fault

    def _requested_range(self, video: FakeVideo, total: int) -> tuple[int, int] | None:
        """The byte range ``(start, end)`` (end exclusive) a 206 should serve, ``None`` for a 200, or
        ``(total, total)`` for a range that starts at or after the end of the file (a 416)."""
        value = self.headers.get("Range")
        if value is None or self.fake.ignore_range:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and not self.fake.ignore_if_range:
            current = [video.etag] if video.sends_etag else []
            current += [video.last_modified] if video.sends_last_modified else []
            if if_range.strip() not in current:
                return None
        match = _BYTE_RANGE.fullmatch(value)
        if match is None or not (match[1] or match[2]):
            return None  # not a single byte range (e.g. a multipart one): ignored, as servers may
        if self.fake.ignore_bounded_ranges and match[1] and match[2]:
            return None
        if not match[1]:  # bytes=-n: the last n bytes ((total, total) for none, or of an empty file)
            return max(0, total - int(match[2])), total
        start = int(match[1])
        if match[2] and int(match[2]) < start:
            return None  # invalid: ignored
        if start >= total:
            return total, total
        return start, min(int(match[2]) + 1, total) if match[2] else total

    def _serve_video(self, video: FakeVideo, fault: Fault | None) -> None:
        fake = self.fake
        framing = fake.framing
        data = video.data
        if isinstance(fault, EndEarly) and framing == "content-length":
            data = data[: max(0, fault.at)]  # a file that is only `at` bytes long
        total = len(data)
        selected = self._requested_range(video, total)
        if selected == (total, total):
            self._head(
                416,
                [("Content-Range", f"bytes */{total}"), ("Accept-Ranges", "bytes"), ("Content-Length", "0")],
            )
            return
        start, end = selected if selected is not None else (0, total)
        headers = [("Content-Type", video.content_type)]
        if selected is None or fake.validators_on_206:
            headers += [("ETag", video.etag)] if video.sends_etag else []
            headers += [("Last-Modified", video.last_modified)] if video.sends_last_modified else []
        if fake.accept_ranges:
            headers.append(("Accept-Ranges", "bytes"))
        if selected is not None:
            shown = start + 1 if fake.wrong_content_range else start
            headers.append(("Content-Range", f"bytes {shown}-{end - 1}/{total}"))
        framing_header = {
            "content-length": ("Content-Length", str(end - start)),
            "chunked": ("Transfer-Encoding", "chunked"),
            "close": ("Connection", "close"),  # also sets close_connection
        }
        headers.append(framing_header[framing])
        self._head(200 if selected is None else 206, [*headers, *video.headers.items()])
        self._chunked = framing == "chunked"
        if self.command == "HEAD":
            if isinstance(fault, Outage):
                fake._outage(fault.seconds)
            return
        stop = end
        if isinstance(fault, Cut | Stall | EndEarly | Trickle | Outage):
            stop = max(start, min(end, fault.at))
        view = memoryview(data)
        if not self._write(view[start:stop]):
            return
        if isinstance(fault, Stall):
            if fake._stop.wait(fault.seconds):
                self.close_connection = True
                return
            if not self._write(view[stop:end]):
                return
        elif isinstance(fault, Trickle):
            for offset in range(stop, end, fault.size):
                if fake._stop.wait(fault.interval):
                    self.close_connection = True
                    return
                if not self._emit(view[offset : min(end, offset + fault.size)]):
                    return
        elif isinstance(fault, Cut) and stop < end:
            self.close_connection = True
            if fault.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_WR)
            return
        elif isinstance(fault, Outage):
            if stop == end:
                self._finish_body()
            self.close_connection = True
            fake._outage(fault.seconds)  # also shuts this connection down
            return
        self._finish_body()

    def _finish_body(self) -> None:
        """End the body: the terminating chunk when chunked (nothing else to do otherwise)."""
        if self._chunked:
            self._emit(memoryview(b""), last=True)

    def _write(self, view: memoryview) -> bool:
        """Send ``view`` as body bytes, at :attr:`FakeOpenRouter.rate` if set; false if it failed."""
        rate = self.fake.rate
        step = max(1, int(rate / 20) if rate else len(view))
        for start in range(0, len(view), step):
            if not self._emit(view[start : start + step]):
                return False
            if rate and self.fake._stop.wait(step / rate):
                self.close_connection = True
                return False
        return True

    def _emit(self, view: memoryview, *, last: bool = False) -> bool:
        """Send body bytes now, framed (chunks of at most ``chunk_size``); false if it failed."""
        try:
            if not self._chunked:
                self.wfile.write(view)
                return True
            size = self.fake.chunk_size
            for start in range(0, len(view), size):
                piece = view[start : start + size]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            if last:
                self.wfile.write(b"0\r\n\r\n")
            return True
        except OSError:
            self.close_connection = True
            return False
