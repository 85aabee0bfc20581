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

The server implements the four operations of openapi.yaml, and is as strict as the spec (it needs the
``testing`` extra, ``pip install 'openrouter-video[testing]'``, for ``jsonschema`` and ``pyyaml``):

* **Every request is checked against openapi.yaml itself** (the copy shipped in the package, or the
  repository's in a source checkout), with ``jsonschema``: the ``POST /videos`` body (JSON, its
  types, enums, minimums, required fields, nested objects and ``format: uri``), and the path and
  query parameters (types and minimums; a parameter given twice, ``?index=1&index=0``, is refused).
  A violation gets 400 with the spec's error shape and a message naming the field, e.g.
  ``{"error": {"code": 400, "message": "duration: -5 is less than the minimum of 1"}}``. A path
  parameter that fails its schema (an empty job id) gets 400 where the operation documents 400, 404
  where it does not (``GET /videos/{jobId}``). Query parameters the spec does not declare are
  ignored, as the spec does not forbid them. :attr:`FakeOpenRouter.strict` set to false turns these
  checks off (routing, 404, 405 and 401 stay).
* **Routing follows the spec's paths**: a path it does not have gets 404; a method it does not define
  for a path (``PUT``, ``DELETE``, ``PATCH``, ``OPTIONS``, ``TRACE`` or any other) gets 405 with
  ``Allow`` listing the methods it does, and a JSON error body.
* **Statuses are the ones the spec documents for each operation.** The bearer key is checked (401
  with the spec's error shape, ``Missing Authentication header`` or ``Invalid API key``) on the
  operations that document 401; ``GET /videos/models`` documents none, so it is served with or
  without a key. An unknown job, output index or model gets 404.
* **Beyond the spec**, and only these: ``HEAD`` is answered wherever ``GET`` is (as HTTP requires;
  ``Allow`` lists it); 405 for an undefined method; 206 and 416 for range requests on
  ``GET /videos/{jobId}/content`` (below); and whatever a test queues itself (:class:`Status`,
  :class:`Redirect`...). A queued fault is used before the request is checked, as a proxy or rate
  limiter in front of the API would answer.

* ``POST /videos`` creates a job (202); ``GET /videos/{jobId}`` walks it through its statuses, one
  per poll (``pending``, ``in_progress``, ``completed`` unless :meth:`FakeOpenRouter.script_job`
  says otherwise); a completed job lists its ``unsigned_urls`` and serves its outputs.
* ``GET /videos/models`` lists :attr:`FakeOpenRouter.models`.
* ``GET /videos/{jobId}/content`` serves ``Range: bytes=a-``, ``bytes=a-b`` and ``bytes=-n``
  requests with 206 and ``Content-Range``, honouring ``If-Range``; a range that starts at or after
  the end of the file gets 416 with ``Content-Range: bytes */LENGTH``; 400 for a malformed
  ``index``. Each video has an ETag and a Last-Modified date (see :meth:`FakeOpenRouter.add_video`
  for other validators and extra headers such as :func:`digest_headers`).

Faults are queued per route with :meth:`FakeOpenRouter.enqueue` (or the shorthand methods) and each
one is used up by the next request to that route: :class:`Status` (any status, JSON or HTML body,
Retry-After), :class:`Cut` (close the connection after a given byte of the file), :class:`Stall`
(stop sending for a while), :class:`Redirect`, :class:`EndEarly` (end the body cleanly, but early),
:class:`Trickle` (a few bytes now and then) and :class:`Outage` (close the connection and refuse
new ones for a while; :meth:`FakeOpenRouter.outage` starts one at once). Switches stay on until
turned off:

* :attr:`~FakeOpenRouter.framing` (``"content-length"``, ``"close"`` or ``"chunked"``: how video
  bodies are delimited) and :attr:`~FakeOpenRouter.chunk_size`;
* :attr:`~FakeOpenRouter.ignore_range` (answer every request with a full 200);
* :attr:`~FakeOpenRouter.accept_ranges` (when false, no ``Accept-Ranges: bytes`` header);
* :attr:`~FakeOpenRouter.ignore_if_range` (honour ``Range`` even when ``If-Range`` does not match);
* :attr:`~FakeOpenRouter.ignore_bounded_ranges` (a full 200 for ``bytes=a-b``, 206 for ``bytes=a-``);
* :attr:`~FakeOpenRouter.validators_on_206` (when false, 206 answers carry no ETag/Last-Modified);
* :attr:`~FakeOpenRouter.wrong_content_range` (a 206 whose Content-Range starts elsewhere);
* :attr:`~FakeOpenRouter.rate` (a slow link, capped per connection).

:attr:`~FakeOpenRouter.connections`, :attr:`~FakeOpenRouter.open_connections` and
:attr:`~FakeOpenRouter.peak_connections` count the TCP connections, and
:attr:`~FakeOpenRouter.peak_requests` the requests answered at the same time.

:func:`mp4_bytes` builds a small, structurally valid ISO-BMFF (MP4) file;
:attr:`FakeOpenRouter.default_output` is one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
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
        validators: Which validators 200 and 206 answers carry and ``If-Range`` may match:
            ``"both"``, ``"etag"``, ``"last-modified"`` or ``"none"`` (see :data:`VALIDATORS`).
            ``If-Range`` is compared to them as strings, so a weak tag matches itself.
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


@dataclass(frozen=True)
class EndEarly(Fault):
    """Serve the video but end the body *cleanly* at byte offset ``at`` of the file.

    Like a proxy that ends its response normally when its upstream failed. How depends on
    :attr:`FakeOpenRouter.framing`:

    * ``"chunked"``: the terminating zero-length chunk is sent at ``at`` (the connection stays
      usable); the headers (and a 206's Content-Range) still describe the whole file;
    * ``"close"``: the connection is closed at ``at``;
    * ``"content-length"``: the answer is that of a file ``at`` bytes long (the first ``at`` bytes,
      same validators): Content-Length and a 206's Content-Range total both say so, and a range
      starting at or after ``at`` gets 416.
    """

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
    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # creation, modification, timescale, duration
        struct.pack(">IH", 0x00010000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),  # reserved
        matrix,
        bytes(24),  # pre_defined
        struct.pack(">I", 2),  # next_track_ID
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
        return self.fake._accept(self, request)

    def shutdown_request(self, request: Any) -> None:
        self.fake._forget(request)
        super().shutdown_request(request)


def _shutdown_socket(sock: socket.socket) -> None:
    """Shut a socket down at the OS level (bypassing TLS), waking up whoever blocks on it."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


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
        strict: When true (the default), every request is checked against openapi.yaml (parameters
            and body; see the module's documentation) and a violation answered 400 naming the field.
            When false, anything the handlers can read is accepted (e.g. to see what a service does
            with a 202 to a body the spec refuses).
        on_request: Called with each request before it is answered (e.g. to change a video
            between attempts).
        ignore_range: When true, ``Range`` is ignored and every answer is a full 200.
        accept_ranges: When false, video answers carry no ``Accept-Ranges: bytes`` header (ranges
            are still honoured, as by servers that do not advertise them).
        wrong_content_range: When true, a range request gets a 206 whose Content-Range starts one
            byte after the requested offset.
        ignore_if_range: When true, ``Range`` is honoured (206) even when ``If-Range`` does not
            match the video's current validators (a server that ignores ``If-Range``). When false
            (the default), a non-matching ``If-Range`` gets the full file with 200.
        ignore_bounded_ranges: When true, a range with an end (``bytes=a-b``) gets the whole file
            with 200; open ranges (``bytes=a-``) are still honoured.
        validators_on_206: When false, 206 answers carry neither ETag nor Last-Modified (200
            answers still carry what the video's ``validators`` say).
        rate: When set, video bodies are sent at about this many bytes per second, per response:
            a cap per connection, like nginx's ``limit_rate`` (so that two connections together
            get twice the rate, as from a CDN that caps each connection).
        connections: How many TCP connections the server has accepted since it was created.
        peak_connections: The most connections that were open at the same time (see
            :attr:`open_connections`; a client's idle keep-alive connections count too).
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
    ) -> None:
        from ._openapi import load_spec  # needs the `testing` extra (jsonschema, pyyaml)

        self._spec: OpenAPISpec = load_spec()
        self.strict = strict
        self.api_key = api_key if api_key is not None else "sk-or-fake-" + secrets.token_hex(8)
        self.require_auth = require_auth
        self.ssl_context = ssl_context
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self.requests: list[RecordedRequest] = []
        self.ignore_range = False
        self.accept_ranges = True
        self.wrong_content_range = False
        self.ignore_if_range = False
        self.ignore_bounded_ranges = False
        self.validators_on_206 = True
        self.rate: float | None = None
        self.connections = 0
        self.peak_connections = 0
        self.peak_requests = 0
        self._answering = 0
        self._framing = "content-length"
        self._chunk_size = 65536
        self._videos: dict[tuple[str, int], FakeVideo] = {}
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        #: Jobs created through ``POST /videos``, by id.
        self.jobs: dict[str, FakeJob] = {}
        #: What a job's output is when no script says otherwise: ``mp4_bytes(16)``, a minimal
        #: structurally valid MP4 file (ftyp, moov, mdat).
        self.default_output = mp4_bytes(16)
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
        # Listening state: _server is None while running during an outage.
        self._listen_lock = threading.Lock()
        self._running = False
        self._bound_port = 0
        self._outage_generation = 0
        self._outage_timer: threading.Timer | None = None
        self._sockets: set[Any] = set()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenRouter:
        """Bind and start serving in a background thread; returns ``self``."""
        with self._listen_lock:
            self._stop.clear()
            self._listen(self._port)
            self._running = True
        return self

    def _listen(self, port: int) -> None:
        """Bind a new server on ``port`` and serve it (the caller holds ``_listen_lock``)."""
        server = _Server((self._host, port), _Handler, bind_and_activate=False)
        server.fake = self
        try:
            server.server_bind()
            server.server_activate()
        except BaseException:
            server.server_close()
            raise
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._bound_port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket. Stalled responses are woken up and dropped.

        Also works during an outage, whose re-listening it cancels.
        """
        self._stop.set()
        with self._listen_lock:
            self._running = False
            self._outage_generation += 1
            timer, self._outage_timer = self._outage_timer, None
            server, self._server = self._server, None
        if timer is not None:
            timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()

    def outage(self, seconds: float) -> None:
        """Go down now for ``seconds``: refuse new connections and close the open ones.

        The listening socket is closed (connecting fails with ``ECONNREFUSED``) and every open
        connection, idle keep-alive ones included, is shut down. After ``seconds`` the server
        listens again on the same port with the same state. Called during an outage, it restarts
        the countdown. See also the :class:`Outage` fault.
        """
        if not self._running:
            raise RuntimeError("FakeOpenRouter is not running")
        self._outage(seconds)

    def _outage(self, seconds: float) -> None:
        with self._listen_lock:
            if not self._running:
                return  # stopped meanwhile
            self._outage_generation += 1
            generation = self._outage_generation
            timer, self._outage_timer = self._outage_timer, None
            server, self._server = self._server, None
            sockets = list(self._sockets)
        if timer is not None:
            timer.cancel()
        if server is not None:
            _shutdown_socket(server.socket)  # refuse at once, before the serving loop notices
            server.shutdown()
            server.server_close()
        for sock in sockets:
            _shutdown_socket(sock)
        with self._listen_lock:
            if self._running and generation == self._outage_generation:
                timer = threading.Timer(seconds, self._end_outage, args=(generation,))
                timer.daemon = True
                self._outage_timer = timer
                timer.start()

    @property
    def in_outage(self) -> bool:
        """Whether the server is running but not listening (during an :meth:`outage`)."""
        return self._running and self._server is None

    def _end_outage(self, generation: int) -> None:
        while True:
            with self._listen_lock:
                if not self._running or generation != self._outage_generation:
                    return
                try:
                    self._listen(self._bound_port)
                except OSError:
                    pass  # the port is still busy (e.g. in use by a closing socket): try again
                else:
                    self._outage_timer = None
                    return
            if self._stop.wait(0.02):
                return

    def _accept(self, server: _Server, request: Any) -> bool:
        with self._listen_lock:
            self.connections += 1
            if server is not self._server:
                return False
            self._sockets.add(request)
            self.peak_connections = max(self.peak_connections, len(self._sockets))
            return True

    def _forget(self, request: Any) -> None:
        with self._listen_lock:
            self._sockets.discard(request)

    @property
    def open_connections(self) -> int:
        """How many connections are open right now."""
        with self._listen_lock:
            return len(self._sockets)

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
        """The port the server listens on (also during an outage)."""
        if not self._running:
            raise RuntimeError("FakeOpenRouter is not running")
        return self._bound_port

    @property
    def framing(self) -> str:
        """How video bodies (200 and 206 from the content route) are delimited.

        * ``"content-length"`` (the default): a Content-Length header;
        * ``"close"``: neither Content-Length nor Transfer-Encoding; ``Connection: close`` and the
          connection is closed after the body (HTTP/1.0 style, like nginx with
          ``chunked_transfer_encoding off``);
        * ``"chunked"``: ``Transfer-Encoding: chunked``, chunks of at most :attr:`chunk_size`
          bytes, ended by the zero-length chunk. Chunks never straddle a fault's offset, so a
          :class:`Cut` ends the stream after whole chunks (without the terminating chunk).

        Other answers (errors, JSON, redirects, 416) always carry a Content-Length.
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
        last_modified: str | None = None,
        validators: str = "both",
        headers: Mapping[str, str] | None = None,
    ) -> FakeVideo:
        """Store ``data`` as output ``index`` of ``job_id``; replaces (and re-tags) an old one.

        Args:
            job_id: The job.
            data: The bytes of the file.
            index: The output index.
            content_type: The Content-Type it is served with.
            etag: The ETag, sent verbatim: ``'"x"'``, weak ``'W/"x"'`` or even unquoted ``"x"``.
                ``None`` derives a strong tag from ``data``.
            last_modified: The Last-Modified value, sent verbatim (``None``: a fixed date).
            validators: Which validators answers carry: ``"both"``, ``"etag"``,
                ``"last-modified"`` or ``"none"`` (see :class:`FakeVideo`).
            headers: Extra headers for every 200 and 206 answer, e.g. :func:`digest_headers`.
        """
        video = FakeVideo(
            data=data,
            content_type=content_type,
            etag=etag or "",
            last_modified=last_modified if last_modified is not None else _DEFAULT_LAST_MODIFIED,
            validators=validators,
            headers=dict(headers or {}),
        )
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
        (``GET /videos/models``). :class:`Cut`, :class:`Stall`, :class:`EndEarly` and
        :class:`Trickle` apply to content only; :class:`Outage` to any route.
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


_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _chunked = False  # whether the body being sent is chunked

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def setup(self) -> None:
        """Turn Nagle's algorithm off: the headers and the body of an answer are written separately,
        and with it on, each small answer waited about 40 ms for the client's delayed ACK."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

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

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every other method (``do_PUT``, ``do_TRACE``, ``do_FOO``...) is dispatched too, to be
        answered 405 with ``Allow`` (or 404 off the spec's paths) rather than the standard library's
        501 HTML page."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        fake = self.fake
        with fake._lock:
            fake._answering += 1
            fake.peak_requests = max(fake.peak_requests, fake._answering)
        try:
            self._answer()
        finally:
            with fake._lock:
                fake._answering -= 1

    def _answer(self) -> None:
        from ._openapi import RequestRefused  # loaded by FakeOpenRouter() already

        fake = self.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake._record(
            RecordedRequest(method=self.command, path=split.path, query=query, headers=headers, body=body)
        )
        spec = fake._spec
        try:
            match = spec.match(self.command, split.path)
        except RequestRefused as refused:
            self._error(refused.status, refused.message, refused.headers)
            return
        operation = match.operation
        if (
            fake.require_auth
            and operation.documents(401)
            and self.headers.get("Authorization") != f"Bearer {fake.api_key}"
        ):
            message = (
                "Missing Authentication header" if "Authorization" not in self.headers else "Invalid API key"
            )
            self._error(401, message)
            return
        route = _OPERATION_ROUTES.get(operation.operation_id)
        if route is None:
            self._error(500, f"The fake does not implement {operation.operation_id}")
            return
        fault = fake._next_fault(route)
        if isinstance(fault, Status):
            self._status_fault(fault)
            return
        if isinstance(fault, Redirect):
            self._redirect(fault)
            return
        if isinstance(fault, Outage) and route != "content":
            self.close_connection = True
            fake._outage(fault.seconds)
            return
        if fake.strict:
            try:
                spec.check(match, query, headers, body)
            except RequestRefused as refused:
                self._error(refused.status, refused.message, refused.headers)
                return
        job_id = unquote(match.path_params.get("jobId", ""))
        if route == "content":
            self._content(job_id, query, fault)
        elif route == "create":
            self._create(body)
        elif route == "job":
            self._job(job_id)
        else:
            self._send(200, json.dumps({"data": fake.models}).encode())

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

    def _requested_range(self, video: FakeVideo, total: int) -> tuple[int, int] | None:
        """The byte range ``(start, end)`` (end exclusive) a 206 should serve, or ``None`` for a 200.

        Raises :class:`_Unsatisfiable` for a range that starts at or after the end of the file.
        """
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
        if not match[1]:  # bytes=-n: the last n bytes
            if int(match[2]) == 0 or total == 0:
                raise _Unsatisfiable
            return max(0, total - int(match[2])), total
        start = int(match[1])
        if match[2] and int(match[2]) < start:
            return None  # invalid: ignored
        if start >= total:
            raise _Unsatisfiable
        return start, min(int(match[2]) + 1, total) if match[2] else total

    def _serve_video(self, video: FakeVideo, fault: Fault | None) -> None:
        fake = self.fake
        framing = fake.framing
        data = video.data
        if isinstance(fault, EndEarly) and framing == "content-length":
            data = data[: max(0, fault.at)]  # a file that is only `at` bytes long
        total = len(data)
        try:
            selected = self._requested_range(video, total)
        except _Unsatisfiable:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{total}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = selected if selected is not None else (0, total)
        self.send_response(200 if selected is None else 206)
        self.send_header("Content-Type", video.content_type)
        if selected is None or fake.validators_on_206:
            if video.sends_etag:
                self.send_header("ETag", video.etag)
            if video.sends_last_modified:
                self.send_header("Last-Modified", video.last_modified)
        if fake.accept_ranges:
            self.send_header("Accept-Ranges", "bytes")
        if selected is not None:
            shown = start + 1 if fake.wrong_content_range else start
            self.send_header("Content-Range", f"bytes {shown}-{end - 1}/{total}")
        if framing == "content-length":
            self.send_header("Content-Length", str(end - start))
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")  # also sets close_connection
        for name, value in video.headers.items():
            self.send_header(name, value)
        self.end_headers()
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


class _Unsatisfiable(Exception):
    """A range request that starts at or after the end of the file (answered with 416)."""
