"""The sans-I/O download core (:mod:`openrouter_video.engine.core`) on its own: its unit tests (the resume
rule, Content-Range, status errors, safe names) and a model-based test against a simulated server.

The model: a simulated HTTP server (pure Python: no sockets, no threads, no sleeping) serves a video (random
bytes, or an MP4: plain, fragmented, or with an ``mdat`` to the end of the file) whose content may
change between requests, and misbehaves as servers, CDNs and proxies do: it cuts bodies (cleanly or
with an error; with a Content-Length, chunked or close-delimited), ignores Range or If-Range, keeps
its ETag when the content changes, drops its validators, sends malformed 206s, 416s, error statuses,
HTML pages and wrong digests. A simulated driver mirrors ``Driver.chunks`` in memory (and
``PartialFile.check`` for the verdict of a file download, the digests only for a stream).

The property: whatever the core accepts (DONE, after which the consumer commits its buffer) is exactly
one complete version of the content the server served (never a splice of two versions, never
truncated, never extended), proven (``core.verified``) and of ``core.total`` bytes; when the core
gives up, it does so with one of the package's errors.

Changes of content are generated so that the core can notice each in principle: either the bytes it
re-reads before a resume point (OVERLAP) hold a changed byte, or the server is honest and its
validators tell. Deliberately broken cores (no overlap check, an overlap one byte short, validators
ignored, a close-delimited end or a fragment boundary trusted, the MP4 walk or the digests ignored,
no sniffing) all fail this test.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from openrouter_video import RetryPolicy, safe_filename
from openrouter_video.engine.core import (
    DONE,
    ERROR_BODY_LIMIT,
    MIN_PROGRESS,
    OVERLAP,
    Check,
    DownloadCore,
    Fail,
    Failure,
    ReadBody,
    Resumable,
    Retry,
    Stream,
    Verdict,
    build_status_error,
    parse_content_range,
)
from openrouter_video.engine.verify import SNIFF_BYTES, BoxWalk, walk_boxes
from openrouter_video.errors import (
    APIStatusError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ConflictError,
    GoneError,
    IntegrityError,
    InternalServerError,
    NotFoundError,
    OpenRouterVideoError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
)
from openrouter_video.io.http import failure
from openrouter_video.testing import mp4_bytes

# -- the resume rule, step by step ----------------------------------------------------------------


def test_core_resume_decisions() -> None:
    data = bytes(range(256)) * 800  # 204 800 bytes
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    assert "range" not in {k.lower() for k in core.request_headers()}
    headers = {"content-length": str(len(data)), "etag": '"v1"', "content-type": "video/mp4"}
    action = core.on_response(200, headers)
    assert isinstance(action, Stream) and action.fresh and action.head is not None
    action = core.on_body_end(100_000, failure(httpx.ReadError("cut")), tail=data[:100_000])
    assert isinstance(action, Retry) and action.delay == 0.0 and "resuming" in action.reason
    assert core.offset == 100_000
    sent = core.request_headers()
    assert sent["Range"] == f"bytes={100_000 - OVERLAP}-" and sent["If-Range"] == '"v1"'
    partial = {"content-range": f"bytes {100_000 - OVERLAP}-{len(data) - 1}/{len(data)}", "etag": '"v1"'}
    action = core.on_response(206, partial)
    assert isinstance(action, Stream) and not action.fresh and action.head is not None
    head = action.head
    assert head.feed(data[100_000 - OVERLAP : 100_000 + 10]) == data[100_000 : 100_000 + 10]
    assert head.passed
    assert isinstance(core.on_body_end(len(data) - 100_000, None, head, data[-OVERLAP:]), Check)
    assert core.on_verdict(Verdict(BoxWalk("not-bmff"))) is DONE
    assert core.verified == "content-range"
    assert (core.offset, core.resumes, core.attempts) == (len(data), 1, 2)


def test_core_restarts_on_changed_etag_in_206() -> None:
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    core.request_headers()
    core.on_response(200, {"content-length": "100", "etag": '"v1"'})
    core.on_body_end(40, None, tail=b"x" * 40)  # ended early without an error
    core.request_headers()
    action = core.on_response(206, {"content-range": "bytes 0-99/100", "etag": '"v2"'})
    assert isinstance(action, Retry) and action.delay == 1.0  # the second failure in a row
    assert "range" not in {k.lower() for k in core.request_headers()}
    action = core.on_response(200, {"content-length": "120", "etag": '"v2"'})
    assert isinstance(action, Stream) and action.fresh


def test_core_overlap_mismatch_restarts_from_zero_even_without_validators() -> None:
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    core.request_headers()
    core.on_response(200, {"content-length": "200000"})
    core.on_body_end(100_000, failure(httpx.ReadError("cut")), tail=b"a" * 100_000)
    sent = core.request_headers()
    assert sent["Range"] == f"bytes={100_000 - OVERLAP}-" and "If-Range" not in sent
    action = core.on_response(206, {"content-range": f"bytes {100_000 - OVERLAP}-199999/200000"})
    assert isinstance(action, Stream) and action.head is not None
    assert action.head.feed(b"a" * 1000 + b"b") == b"" and action.head.failed == "mismatch"
    retry = core.on_body_end(0, None, action.head)
    assert isinstance(retry, Retry) and "changed" in retry.reason
    assert core.offset == 0 and "Range" not in core.request_headers()


# -- the switch rule: a partial kept from another origin ------------------------------------------

STORED = "https://storage.example:443"


def _switched(data: bytes, kept: int, *, etag: str = '"api-1"') -> DownloadCore:
    """A core fetching from the stored copy, resuming a partial the content endpoint left."""
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t", origin=STORED)
    core.resume(kept, data[max(0, kept - OVERLAP) : kept], Resumable(etag=etag, total=len(data)))
    return core


def test_a_partial_from_another_origin_resumes_without_if_range_and_adopts_the_new_validators() -> None:
    data = bytes(range(256)) * 800
    core = _switched(data, 100_000)
    sent = core.request_headers()
    assert sent["Range"] == f"bytes={100_000 - OVERLAP}-" and "If-Range" not in sent
    stored = {"content-range": f"bytes {100_000 - OVERLAP}-{len(data) - 1}/{len(data)}", "etag": '"s3-9"'}
    action = core.on_response(206, stored)
    assert isinstance(action, Stream) and action.head is not None
    assert action.head.feed(data[100_000 - OVERLAP : 100_000 + 5]) == data[100_000 : 100_000 + 5]
    assert core.content.etag == '"s3-9"' and core.content.origin == STORED
    core.on_body_end(50_000, failure(httpx.ReadError("cut")), action.head, data[100_000:150_000])
    assert core.request_headers()["If-Range"] == '"s3-9"'  # this origin's validator from now on


def test_a_partial_from_the_same_origin_still_sends_its_validator() -> None:
    data = bytes(range(256)) * 800
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t", origin=STORED)
    core.resume(100_000, data[100_000 - OVERLAP : 100_000], Resumable(etag='"s3-9"', origin=STORED))
    assert core.request_headers()["If-Range"] == '"s3-9"'


def test_a_switch_to_a_copy_of_another_size_starts_again_from_byte_0() -> None:
    data = bytes(range(256)) * 800
    core = _switched(data, 100_000)
    core.request_headers()
    other = {"content-range": f"bytes {100_000 - OVERLAP}-{len(data)}/{len(data) + 1}", "etag": '"s3-9"'}
    action = core.on_response(206, other)
    assert isinstance(action, Retry) and "restarting from byte 0" in action.reason
    assert core.offset == 0 and "Range" not in core.request_headers()


def test_a_switch_to_a_copy_of_the_same_size_with_other_bytes_starts_again_never_splices() -> None:
    data = bytes(range(256)) * 800
    other = bytes(255 - b for b in data)  # same size, every byte different
    core = _switched(data, 100_000)
    core.request_headers()
    stored = {"content-range": f"bytes {100_000 - OVERLAP}-{len(data) - 1}/{len(data)}", "etag": '"s3-9"'}
    action = core.on_response(206, stored)
    assert isinstance(action, Stream) and action.head is not None
    assert action.head.feed(other[100_000 - OVERLAP :]) == b"" and action.head.failed == "mismatch"
    retry = core.on_body_end(0, None, action.head)
    assert isinstance(retry, Retry) and "changed" in retry.reason
    assert core.offset == 0 and core.content.etag is None and "Range" not in core.request_headers()


# -- Content-Range and status errors -------------------------------------------------------------


def test_parse_content_range() -> None:
    assert parse_content_range("bytes 10-99/100") == (10, 99, 100)
    assert parse_content_range("bytes 10-99/*") == (10, 99, None)
    assert parse_content_range("items 1-2/3") is None
    assert parse_content_range(None) is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (502, BadGatewayError),
        (500, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (409, ConflictError),
        (410, GoneError),
        (413, PayloadTooLargeError),
        (418, APIStatusError),
    ],
)
def test_status_classes(status: int, cls: type[APIStatusError]) -> None:
    error = build_status_error(status, {}, b'{"error": {"code": %d, "message": "m"}}' % status)
    assert type(error) is cls and error.status_code == status and error.message == "m"


def test_error_bodies_that_are_not_json() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    assert build_status_error(502, {"content-type": "text/html"}, html).message == "502 Bad Gateway"
    assert build_status_error(500, {}, b"").message == "Internal Server Error"
    assert build_status_error(503, {}, b"  upstream\n reset ").message == "upstream reset"
    assert build_status_error(500, {}, b'{"error": "plain string"}').message == "plain string"


# -- safe file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "job_id",
    ["../../x", "..", ".", "a/b", "a\\b", "/etc/passwd", "x" * 500, "jöb 視頻", "", ".hidden", "a..b"],
)
def test_safe_filename_never_escapes_or_hides(job_id: str) -> None:
    name = safe_filename(job_id)
    assert "/" not in name and "\\" not in name and ".." not in name
    assert not name.startswith(".") and name.endswith(".mp4")
    assert len(name) <= 130


def test_safe_filename_keeps_plain_ids_and_separates_different_ones() -> None:
    assert safe_filename("job-abc123") == "job-abc123.mp4"
    assert safe_filename("job-abc123", 2) == "job-abc123-2.mp4"
    assert safe_filename("a/b") != safe_filename("a b")


@settings(max_examples=300, deadline=None, derandomize=True)
@example([("x", 1), ("x-1", 0)])
@example([("job-7", 12), ("job-7-12", 0), ("job", 7)])
@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,3}(-[0-9]{1,2}){0,2}", fullmatch=True), st.integers(0, 12)),
        min_size=2,
        max_size=6,
        unique=True,
    )
)
def test_safe_filename_never_maps_two_outputs_to_one_name(pairs: list[tuple[str, int]]) -> None:
    names = [safe_filename(job, index) for job, index in pairs]
    assert len(set(names)) == len(names)


#: Requests one simulated download may send before the test stops it (it then commits nothing).
MAX_REQUESTS = 60


#: Flips every byte: a changed region differs from the old one at every position.
XOR = bytes(b ^ 0x5A for b in range(256))


#: A body's first chunks are of the drawn (possibly tiny) sizes; the rest at least this big (speed).
TINY_CHUNKS = 32


BULK_CHUNK = 16 * 1024


#: Payload bytes per fragment of a fragmented MP4.
FRAGMENT = 40_000


# -- helpers ---------------------------------------------------------------------------------------


class Clock:
    """A fake monotonic clock: the driver advances it by each retry's delay (nobody sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, max_attempts: int = 10) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, jitter=lambda: 0.0, clock=clock, min_speed=None)


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def box_ends(data: bytes) -> list[int]:
    """The offsets where the top-level boxes of an MP4 (with 32-bit box sizes) end."""
    ends, offset = [], 0
    while offset + 8 <= len(data):
        (size,) = struct.unpack(">I", data[offset : offset + 4])
        if size == 0:  # to the end of the file
            return [*ends, len(data)]
        if size < 8:
            break
        offset += size
        ends.append(offset)
    return ends


def walk(data: bytes | bytearray) -> BoxWalk:
    return walk_boxes(lambda offset, size: bytes(data[offset : offset + size]), len(data))


def open_ended_mp4(payload: int, seed: int) -> bytes:
    """``ftyp``, ``moov``, then an ``mdat`` of size 0 ("to the end of the file"), as live muxers write:
    a cut anywhere in it walks as complete."""
    return mp4_bytes(0)[:-8] + struct.pack(">I", 0) + b"mdat" + random_bytes(seed, payload)


SIZES = (1, 2, 100, SNIFF_BYTES - 1, SNIFF_BYTES, SNIFF_BYTES + 1, 4096)


SIZES += (OVERLAP - 1, OVERLAP, OVERLAP + 1, 2 * OVERLAP + 3, 200_000)


def sizes(low: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([s for s in SIZES if s >= low]), st.integers(low, 200_000))


def fragmented_mp4(payload: int, seed: int) -> bytes:
    """A fragmented MP4: ``ftyp``, ``moov``, then a ``moof`` + ``mdat`` per 40 000 bytes of payload."""
    sizes = [FRAGMENT] * (payload // FRAGMENT)
    if payload % FRAGMENT or not sizes:
        sizes.append(payload % FRAGMENT)
    parts = [mp4_bytes(size, seed=seed * 1000 + i, fragmented=True) for i, size in enumerate(sizes)]
    head = box_ends(parts[0])[1]  # ftyp + moov
    return parts[0][:head] + b"".join(part[head:] for part in parts)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def http_date(generation: int) -> str:
    return email.utils.formatdate(1_700_000_000 + 60 * generation, usegmt=True)


# -- the simulated server --------------------------------------------------------------------------


@dataclass
class Fault:
    """How the server answers one request (the default: properly)."""

    framing: str = "length"  # "length" (Content-Length), "chunked" or "close" (neither header)
    change_to: bytes | None = None  # the content changes to these bytes before this request...
    validators: str = "new"  # ...with "new" validators, the "same" ones (a lying server) or "none"
    status: int | None = None  # an error status instead of the video
    retry_after: str | None = None
    request_error: bool = False  # the request fails before any response
    html: bool = False  # a 200 whose body is an HTML page (a captive portal, a CDN's error page)
    ignore_range: bool = False  # answer a Range request with 200 and the whole body
    ignore_if_range: bool = False  # answer 206 although If-Range no longer matches
    no_validators: bool = False  # this answer carries no ETag and no Last-Modified
    bad_206: str | None = None  # "from-zero", "no-total", "no-content-range", "short", "wrong-total"
    wrong_digest: bool = False  # announce the digest of other bytes
    cut_at: int | None = None  # the body ends at this byte of the content...
    cut_exc: Callable[[], Exception] | None = None  # ...cleanly (None) or with this error


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    start: int = 0  # the body's first byte in the content
    cut: int | None = None  # body bytes delivered before the end (None: all of them)
    exc: Exception | None = None  # how the body ends: cleanly (None) or with this error
    request_error: Exception | None = None


class Server:
    """Serves the current version of one video; remembers every version it ever served.

    ``generation`` numbers the validators: the ETag is built from it as ``etag_style`` says and the
    Last-Modified from it; a lying server keeps it when the content changes.
    """

    def __init__(
        self,
        data: bytes,
        *,
        etag_style: str = "quoted",  # "quoted", "unquoted", "weak" or "none"
        last_modified: bool = True,
        honour_if_range: bool = True,
        ranges: bool = True,
        validators_on_206: bool = True,
        digest: str = "none",  # "none", "repr" (Repr-Digest sha-256), "md5" (Content-MD5), "both"
        content_type: str | None = "video/mp4",
    ) -> None:
        self.data = data
        self.versions = [data]
        self.declared: list[bytes] = []  # bodies it ended early with the last chunk of a chunked body
        self.generation: int | None = 0
        self._next_generation = 1
        self.etag_style = etag_style
        self.send_last_modified = last_modified
        self.honour_if_range = honour_if_range
        self.ranges = ranges
        self.validators_on_206 = validators_on_206
        self.digest = digest
        self.content_type = content_type

    def etag(self) -> str | None:
        if self.generation is None or self.etag_style == "none":
            return None
        tag = f"v{self.generation}"
        return {"quoted": f'"{tag}"', "unquoted": tag, "weak": f'W/"{tag}"'}[self.etag_style]

    def last_modified(self) -> str | None:
        if self.generation is None or not self.send_last_modified:
            return None
        return http_date(self.generation)

    def change(self, data: bytes, validators: str) -> None:
        self.data = data
        self.versions.append(data)
        if validators == "new":
            self.generation = self._next_generation
            self._next_generation += 1
        elif validators == "none":
            self.generation = None
        # "same": the server keeps its validators although the content changed

    def _if_range_matches(self, value: str) -> bool:
        etag = self.etag()
        if etag is not None and not etag.startswith("W/") and value == etag:
            return True
        return value == self.last_modified()

    def respond(self, request: httpx.Headers, f: Fault) -> Reply:
        if f.change_to is not None:
            self.change(f.change_to, f.validators)
        if f.request_error:
            return Reply(0, request_error=httpx.ConnectError("[Errno 111] Connection refused"))
        if f.html:
            page = (
                b"<!DOCTYPE html><html><head><title>Oops</title></head><body>"
                + b"x" * 2000
                + b"</body></html>"
            )
            return Reply(200, {"content-type": "text/html", "content-length": str(len(page))}, page)
        if f.status is not None:
            headers = {"content-type": "application/json"}
            if f.retry_after is not None:
                headers["retry-after"] = f.retry_after
            body = b'{"error": {"code": %d, "message": "try later"}}' % f.status
            return Reply(f.status, headers, body)
        data, n = self.data, len(self.data)
        status, start = 200, 0
        range_ = request.get("range")
        if range_ is not None and self.ranges and not f.ignore_range:
            first = int(range_.removeprefix("bytes=").removesuffix("-"))
            if_range = request.get("if-range")
            honour = self.honour_if_range and not f.ignore_if_range
            if if_range is None or not honour or self._if_range_matches(if_range):
                if first >= n:
                    return Reply(416, {"content-range": f"bytes */{n}", "content-type": "text/plain"}, b"no")
                status, start = 206, first
        etag, modified = (None, None) if f.no_validators else (self.etag(), self.last_modified())
        headers: dict[str, str] = {}
        if self.content_type is not None:
            headers["content-type"] = self.content_type
        end, total = n - 1, str(n)
        if status == 206:
            if not self.validators_on_206:
                etag = modified = None
            if f.bad_206 == "from-zero":
                start = 0
            elif f.bad_206 == "no-total":
                total = "*"
            elif f.bad_206 == "wrong-total":
                total = str(n + 7)
            elif f.bad_206 == "short":
                end = start + (n - start - 1) // 2
            if f.bad_206 != "no-content-range":
                headers["content-range"] = f"bytes {start}-{end}/{total}"
        body = data[start : end + 1]
        if etag is not None:
            headers["etag"] = etag
        if modified is not None:
            headers["last-modified"] = modified
        if f.framing == "length":
            headers["content-length"] = str(len(body))
        elif f.framing == "chunked":
            headers["transfer-encoding"] = "chunked"
        described = data + b"!" if f.wrong_digest else data
        if self.digest in ("repr", "both"):
            headers["repr-digest"] = f"sha-256=:{b64(hashlib.sha256(described).digest())}:"
        if self.digest in ("md5", "both") and status == 200:
            headers["content-md5"] = b64(hashlib.md5(described, usedforsecurity=False).digest())
        reply = Reply(status, headers, body, start)
        if f.cut_at is not None:
            cut = max(0, f.cut_at - start)
            if cut < len(body) or f.cut_exc is not None:
                reply.cut = min(cut, len(body))
                reply.exc = f.cut_exc() if f.cut_exc is not None else None
        return reply


# -- the simulated driver (Driver.chunks, in memory) -------------------------------------------


@dataclass
class Outcome:
    committed: bytes | None = None
    error: OpenRouterVideoError | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def chunked(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    position, index = 0, 0
    while position < len(body):
        size = sizes[index % len(sizes)]
        if index >= TINY_CHUNKS:
            size = max(size, BULK_CHUNK)
        yield body[position : position + size]
        position += size
        index += 1


def read_body(
    core: DownloadCore, stream: Stream, reply: Reply, buffer: bytearray, recent: bytearray, sizes: list[int]
) -> object:
    """The body loop of ``Driver.chunks``: the bytes passed on go to ``buffer`` (the consumer) and
    ``recent`` (the driver's last bytes passed on, for ``on_body_end``'s ``tail``)."""
    fresh = stream.fresh
    if fresh:
        recent.clear()
    else:
        assert core.offset == len(buffer), "a resume that does not continue the consumer's bytes"
    head = stream.head if stream.head is not None and not stream.head.passed else None
    watchdog = core.watchdog()
    received = 0
    error: Failure | Exception | None = None

    def pass_on(chunk: bytes) -> None:
        nonlocal fresh, received
        if fresh:  # new content replaces what is kept once its first bytes passed the head's checks
            fresh = False
            # A stream's consumer cannot take bytes back: the core must never restart one.
            assert core.can_restart or not buffer, "the core restarted a stream whose bytes were consumed"
            buffer.clear()
        received += len(chunk)
        buffer.extend(chunk)
        recent.extend(chunk)
        if len(recent) > 2 * OVERLAP:
            del recent[:-OVERLAP]

    delivered = reply.body if reply.cut is None else reply.body[: reply.cut]
    broke = False
    for chunk in chunked(delivered, sizes):
        if head is not None:
            chunk = head.feed(chunk)
            if head.failed:
                broke = True
                break
            if head.passed:
                head = None
        if chunk:
            pass_on(chunk)
        if watchdog.tick(len(chunk)):
            error = watchdog.reason
            broke = True
            break
    if not broke:
        if reply.exc is not None:
            error = failure(reply.exc)  # as the drivers turn httpx's errors into core events
        elif head is not None and (chunk := head.end()):
            pass_on(chunk)
    return core.on_body_end(received, error, stream.head, bytes(recent[-OVERLAP:]))


def drive(
    core: DownloadCore,
    answer: Callable[[httpx.Headers], Reply],
    clock: Clock,
    *,
    buffer: bytearray | None = None,
    sizes: list[int] | None = None,
) -> Outcome:
    """Run ``core`` against ``answer`` (the server) as the Driver does; the consumer is ``buffer``.

    A file download (``core.can_restart``) is checked as ``PartialFile.check`` does (the box walk and
    the digests of the buffer); a stream as ``VideoStream`` does (the digests of what it passed on, no
    box walk: its bytes are gone).
    """
    buffer = bytearray() if buffer is None else buffer
    recent = bytearray(core.tail)  # as the Driver's _Recent, seeded with a resumed partial's tail
    sizes = sizes or [65_536]
    outcome = Outcome()

    def verdict() -> Verdict:
        digests = {name: hashlib.new(name, buffer).digest() for name in core.digest_algorithms}
        if not core.can_restart:  # a stream hashes what it passes on (VideoStream), but keeps no file
            return Verdict(None, digests)
        return Verdict(
            walk_boxes(lambda offset, size: bytes(buffer[offset : offset + size]), len(buffer)), digests
        )

    for _ in range(MAX_REQUESTS):
        request = core.request_headers()
        outcome.requests.append(request)
        reply = answer(httpx.Headers(request))
        outcome.statuses.append(reply.status)
        action: object
        if reply.request_error is not None:
            action = core.on_request_error(failure(reply.request_error))
        else:
            headers = httpx.Headers(reply.headers)
            action = core.on_response(reply.status, headers)
            if isinstance(action, Stream):
                action = read_body(core, action, reply, buffer, recent, sizes)
            elif isinstance(action, ReadBody):
                action = core.on_error_body(reply.status, headers, reply.body[:ERROR_BODY_LIMIT])
        while isinstance(action, Check):
            action = core.on_verdict(verdict())
        if action is DONE:
            outcome.committed = bytes(buffer)
            return outcome
        if isinstance(action, Fail):
            outcome.error = action.error
            return outcome
        assert isinstance(action, Retry), action
        clock.now += action.delay + 0.5
    return outcome


def describe(committed: bytes, versions: list[bytes]) -> str:
    lines = [f"committed {len(committed)} bytes, which are none of the {len(versions)} versions:"]
    for index, version in enumerate(versions):
        same = next((i for i, (a, b) in enumerate(zip(committed, version, strict=False)) if a != b), None)
        lines.append(f"  v{index}: {len(version)} bytes, first difference at {same}")
    return "\n".join(lines)


def check_outcome(outcome: Outcome, core: DownloadCore, server: Server) -> None:
    """The property: a commit is exactly one whole version the server served, proven so."""
    if outcome.committed is None:
        assert outcome.error is None or isinstance(outcome.error, OpenRouterVideoError)
        return
    committed = outcome.committed
    assert outcome.error is None
    assert core.verified is not None
    assert core.total == len(committed)
    for name, value in core.content.digests.items():
        assert hashlib.new(name, committed).digest() == value, f"committed bytes fail the {name} announced"
    if committed in server.declared and core.verified == "chunked":
        # A chunked body the server ended early with its last chunk: the core may take the server's
        # word for it when nothing better is available: a body that is not an MP4, a stream (whose
        # bytes cannot be walked), or an MP4 whose walk cannot tell, after a range probe the server
        # answered with the whole content (never an MP4 the walk shows incomplete).
        kind = walk(committed).kind
        probed = "Range" in outcome.requests[-1] and outcome.statuses[-1] == 200
        assert not core.can_restart or kind == "not-bmff" or (kind == "complete" and probed)
        return
    if len(server.versions) == 1:
        assert committed == server.versions[0], describe(committed, server.versions)
    assert any(committed == version for version in server.versions), describe(committed, server.versions)


# -- the hypothesis model --------------------------------------------------------------------------


FAULTS = (
    "cut",
    "cut",
    "cut",
    "change",
    "change",
    "status",
    "request-error",
    "ignore-range",
    "ignore-if-range",
    "no-validators",
    "bad-206",
    "wrong-digest",
    "html",
)


ERRORS: dict[str, Callable[[], Exception] | None] = {
    "clean": None,
    "protocol": lambda: httpx.RemoteProtocolError("peer closed connection without sending complete body"),
    "reset": lambda: httpx.ReadError("[Errno 104] Connection reset by peer"),
}


class Model:
    """Draws the server's personality, its content's versions and a fault for every request."""

    def __init__(self, data: st.DataObject) -> None:
        self.draw = draw = data.draw
        self.kind = draw(st.sampled_from(["random", "mp4", "fragmented", "open-ended"]), label="kind")
        self.seed = draw(st.integers(0, 2**16), label="seed")
        self.payload = 0  # of an MP4
        # An honest server sends validators on every answer and changes them with the content (it
        # serves ranges, but mostly ignores If-Range, so that its 206's validators show a change
        # the bytes re-read may not); a liar keeps them when the content changes (only the bytes
        # re-read show a change); else anything goes.
        self.character = draw(st.sampled_from(["honest", "liar", "mixed"]), label="server")
        self.honest = self.character == "honest"
        # Storylines, so that the rare sequences that matter most come up often: a body is cut (far
        # enough in that the bytes re-read do not reach back to byte 0), then the content changes
        # around the resume point before the resume; or a body without a length ends cleanly, at a
        # box boundary if it is an MP4.
        self.plan = draw(
            st.sampled_from(
                [
                    [],
                    [{"cut", "far"}, {"change", "aimed"}],
                    [{"cut", "far"}, {"change", "aimed"}],
                    [{"cut", "unframed", "clean", "boxes"}],
                ]
            ),
            label="storyline",
        )
        self.data = self.new_content(None)
        self.server = Server(
            self.data,
            etag_style=draw(st.sampled_from(["quoted", "unquoted", "weak", "none"]), label="etag"),
            last_modified=draw(st.booleans(), label="last_modified"),
            honour_if_range=draw(
                st.sampled_from([False, False, False, True]) if self.honest else st.booleans(),
                label="honour_if_range",
            ),
            ranges=self.honest or draw(st.sampled_from([True, True, True, False]), label="ranges"),
            validators_on_206=self.honest or draw(st.booleans(), label="validators_on_206"),
            digest=draw(
                st.sampled_from(["none", "none", "none", "none", "repr", "md5", "both"]), label="digest"
            ),
            content_type=draw(
                st.sampled_from(["video/mp4", None, "application/octet-stream"]), label="ctype"
            ),
        )
        if self.honest and self.server.etag_style == "none":
            self.server.send_last_modified = True
        self.framings = draw(
            st.lists(st.sampled_from(["length", "chunked", "close"]), min_size=1, max_size=3, unique=True),
            label="framings",
        )
        self.budget = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8]), label="fault budget")
        self.stream = draw(st.sampled_from([False, False, False, True]), label="stream")
        self.sizes = draw(
            st.lists(
                st.one_of(
                    st.sampled_from([1, 3, 511, 512, 513, 4096, 65_535, 65_536, 65_537]),
                    st.integers(1, 70_000),
                ),
                min_size=1,
                max_size=5,
            ),
            label="chunk sizes",
        )
        self.clock = Clock()
        self.core = DownloadCore(
            policy(self.clock), what="GET /videos/x/content", can_restart=not self.stream
        )
        self.buffer = bytearray()
        if not self.stream and not self.plan and draw(st.booleans(), label="resume from disk"):
            self.resume_from_disk()

    # -- content ---------------------------------------------------------------------------------
    def new_content(self, old: bytes | None, *, aimed: bool = False) -> bytes:
        """A new version of the content (the first one when ``old`` is None); ``aimed``: two bytes
        change around the resume point."""
        draw = self.draw
        self.seed += 1
        if self.kind != "random":
            how = (
                "new size"
                if old is None
                else "two bytes"
                if aimed
                else draw(st.sampled_from(["two bytes", "payload", "new", "new size"]), label="change")
            )
            mdat = box_ends(old)[-2] + 8 if old is not None else 0  # the last mdat's payload
            if how == "two bytes" and old is not None and mdat < self.core.offset < len(old):
                return self.two_bytes(old, mdat)
            if how == "payload" and old is not None and mdat < len(old):
                return self.flip(old, self.differs_from(mdat, len(old)))
            if how == "new size":
                self.payload = draw(sizes(OVERLAP + 2 if self.plan else 0), label="payload")
            build = {"mp4": mp4_bytes, "fragmented": fragmented_mp4, "open-ended": open_ended_mp4}[self.kind]
            return build(self.payload, seed=self.seed)
        if old is None:
            return random_bytes(self.seed, draw(sizes(OVERLAP + 2 if self.plan else 1), label="size"))
        n = len(old)
        how = (
            "two bytes"
            if aimed
            else draw(
                st.sampled_from(["two bytes", "same length", "tail", "whole", "truncate", "extend"]),
                label="change",
            )
        )
        if how == "two bytes" and 0 < self.core.offset < n:
            return self.two_bytes(old, 0)
        if how == "truncate" and n > 1:
            return old[: draw(st.integers(1, n - 1), label="to")]
        if how == "extend":
            return old + random_bytes(self.seed, draw(st.integers(1, 70_000), label="by"))
        if how == "whole":
            start, size = 0, draw(sizes(1), label="size")
        else:
            start = self.differs_from(0, n)
            tail = st.integers(1, max(1, 200_000 - start))
            size = n if how == "same length" else start + draw(tail, label="tail")
        return self.flip(old[:size], start) + random_bytes(self.seed, max(0, size - n))

    def two_bytes(self, old: bytes, low: int) -> bytes:
        """``old`` with one byte changed ``before`` bytes before the resume point and one at or after it.

        Such a change is a splice's worst case: the bytes re-read hold a change only when ``before``
        is at most OVERLAP (the core re-reads exactly that much). A liar's changes stay within that
        distance; an honest server's may go further (its validators then tell).
        """
        offset, n = self.core.offset, len(old)
        longest = offset - low if self.honest else min(OVERLAP, offset - low)
        special = [d for d in (1, 2, 16, 17, OVERLAP - 1, OVERLAP, OVERLAP + 1, 2 * OVERLAP) if d <= longest]
        options = [st.sampled_from(special or [1]), st.integers(1, longest)]
        if longest >= OVERLAP:  # the edge of the bytes re-read, often
            options.insert(0, st.just(OVERLAP))
        if longest > OVERLAP:  # beyond them (an honest server), often
            options[:0] = [st.integers(OVERLAP + 1, longest), st.just(OVERLAP + 1)]
        before = self.draw(st.one_of(options), label="before")
        after = self.draw(st.one_of(st.just(0), st.integers(0, n - 1 - offset)), label="after")
        changed = bytearray(old)
        for at in (offset - before, offset + after):
            changed[at] ^= 0x5A
        return bytes(changed)

    def differs_from(self, low: int, n: int) -> int:
        """Where a change starts (in ``[low, n)``): often where the next resume's overlap starts."""
        offset = self.core.offset
        aims = [p for p in (offset - OVERLAP - 1, offset - 1) if low <= p < n]
        points = [p for p in (low, n - 1, n - OVERLAP, n - OVERLAP - 1) if low <= p < n]
        options = [st.integers(low, n - 1), st.sampled_from(points or [low])]
        if aims:
            options.append(st.sampled_from(aims))
        return self.draw(st.one_of(options), label="differs from")

    def flip(self, data: bytes, start: int) -> bytes:
        """``data`` with every ``period``-th byte from ``start`` on changed.

        A splice of two versions differs from both only when they differ on both sides of the resume
        point. With ``period <= OVERLAP`` every window of OVERLAP bytes after ``start`` holds a changed
        byte, so the bytes the core re-reads show every such change. A longer period makes changes
        only the validators (or the length) can reveal: only an honest server makes them.
        """
        longest = 200_000 if self.honest else OVERLAP
        period = self.draw(
            st.one_of(
                st.sampled_from(
                    [p for p in (1, 2, OVERLAP - 1, OVERLAP, OVERLAP + 1, 2 * OVERLAP) if p <= longest]
                ),
                st.integers(1, longest),
            ),
            label="period",
        )
        changed = bytearray(data)
        changed[start::period] = bytes(changed[start::period]).translate(XOR)
        return bytes(changed)

    def resume_from_disk(self) -> None:
        """Start from a partial file kept by an earlier call (``DownloadCore.resume``)."""
        data, server = self.data, self.server
        kept = self.draw(st.integers(1, len(data)), label="kept")
        self.buffer += data[:kept]
        digests = {}
        if server.digest in ("repr", "both"):
            digests["sha256"] = hashlib.sha256(data).digest()
        content = Resumable(
            etag=server.etag(),
            last_modified=server.last_modified(),
            total=self.draw(st.sampled_from([len(data), None]), label="total known"),
            content_type=server.content_type,
            digests=digests,
        )
        self.core.resume(kept, data[max(0, kept - OVERLAP) : kept], content)

    # -- faults ----------------------------------------------------------------------------------
    def fault(self, request: httpx.Headers) -> Fault:
        draw = self.draw
        f = Fault(framing=draw(st.sampled_from(self.framings), label="framing"))
        if self.plan:
            kinds = self.plan.pop(0) | set(draw(st.lists(st.sampled_from(FAULTS), max_size=1), label="and"))
        elif self.budget > 0:
            kinds = set(draw(st.lists(st.sampled_from(FAULTS), max_size=3), label="faults"))
        else:
            kinds = set()
        if not kinds:
            return f
        self.budget -= 1
        if "change" in kinds:
            f.change_to = self.new_content(self.server.data, aimed="aimed" in kinds)
            f.ignore_if_range = draw(st.booleans(), label="and ignore If-Range")
            if self.character == "liar":
                f.validators = "same"
            elif self.character == "mixed":
                f.validators = draw(st.sampled_from(["new", "same", "none"]), label="validators")
        if "status" in kinds:
            f.status = draw(st.sampled_from([500, 503, 429, 502, 500, 503, 404]), label="status")
            f.retry_after = draw(st.sampled_from([None, "0", "2", None, "0", "1000"]), label="retry-after")
        f.request_error = "request-error" in kinds
        f.html = "html" in kinds
        f.ignore_range = "ignore-range" in kinds
        f.ignore_if_range = f.ignore_if_range or "ignore-if-range" in kinds
        f.no_validators = "no-validators" in kinds and not self.honest
        f.wrong_digest = "wrong-digest" in kinds
        if "bad-206" in kinds:
            f.bad_206 = draw(
                st.sampled_from(["from-zero", "no-total", "no-content-range", "short", "wrong-total"]),
                label="bad 206",
            )
        if "cut" in kinds:
            data = f.change_to if f.change_to is not None else self.server.data
            n, offset = len(data), self.core.offset
            points = [0, 1, SNIFF_BYTES - 1, SNIFF_BYTES, SNIFF_BYTES + 1, OVERLAP - 1, OVERLAP, OVERLAP + 1]
            points += [offset, offset + 1, offset + MIN_PROGRESS - 1, offset + MIN_PROGRESS, n - 1, n]
            low = OVERLAP + 1 if "far" in kinds and n > OVERLAP + 1 else 0
            options = [st.integers(low, n), st.sampled_from(sorted({p for p in points if low <= p <= n}))]
            if self.kind != "random":  # at a top-level box boundary, often where the walk is complete
                ends = [p for p in box_ends(data) if low <= p]
                whole = [p for p in ends if p < n and walk(data[:p]).kind == "complete"]
                boundaries = [st.sampled_from(ends or [n])] + ([st.sampled_from(whole)] if whole else [])
                options = boundaries if "boxes" in kinds else options + boundaries
            f.cut_at = draw(st.one_of(options), label="cut at")
            ends = "clean" if "clean" in kinds else draw(st.sampled_from(list(ERRORS)), label="ends")
            f.cut_exc = ERRORS[ends]
        if "unframed" in kinds:
            f.framing = draw(st.sampled_from(["close", "chunked"]), label="unframed")
        return f

    def answer(self, request: httpx.Headers) -> Reply:
        f = self.fault(request)
        reply = self.server.respond(request, f)
        # A chunked body that ends cleanly was ended by the server's last chunk: the server says it is
        # complete (see check_outcome). A close-delimited one was cut: the core must find out (it
        # probes whatever the box walk says, but for a conclusive walk, a non-fragmented MP4 without
        # an open-ended box, which the MP4s generated here only give at their end).
        if reply.exc is None and reply.cut is not None and reply.status == 200 and f.framing == "chunked":
            self.server.declared.append(reply.body[: reply.cut])
        note(
            f"{dict(request)} -> {f.framing} {reply.status} {reply.headers} cut={reply.cut} exc={reply.exc!r}"
        )
        return reply


@pytest.mark.timeout(600)  # generating takes seconds; shrinking a failure may take minutes
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_the_core_commits_exactly_one_complete_version(data: st.DataObject) -> None:
    model = Model(data)
    outcome = drive(model.core, model.answer, model.clock, buffer=model.buffer, sizes=model.sizes)
    note(f"versions: {[len(v) for v in model.server.versions]}; outcome: {outcome.error!r}")
    if outcome.committed is not None:
        event(f"committed ({model.core.verified})")
        if len(model.server.versions) > 1:
            event("committed after a change of content")
    else:
        event(f"failed: {type(outcome.error).__name__}")
    check_outcome(outcome, model.core, model.server)


# -- the scenarios that matter most, step by step --------------------------------------------------


def scripted(server: Server, faults: list[Fault]) -> Callable[[httpx.Headers], Reply]:
    """The server answers the n-th request with ``faults[n]`` (properly once they run out)."""
    queue = list(faults)
    return lambda request: server.respond(request, queue.pop(0) if queue else Fault())


def download(
    server: Server, faults: list[Fault], *, can_restart: bool = True
) -> tuple[DownloadCore, Outcome]:
    clock = Clock()
    core = DownloadCore(policy(clock), what="GET /videos/x/content", can_restart=can_restart)
    outcome = drive(core, scripted(server, faults), clock, sizes=[1000, 4096, 65_536])
    check_outcome(outcome, core, server)
    return core, outcome


def test_lying_server_changes_content_within_the_overlap_and_the_core_restarts() -> None:
    """Same length, same ETag, If-Range ignored: only the re-read overlap shows the change."""
    old = random_bytes(1, 200_000)
    cut = 150_000
    new = old[:140_000] + old[140_000:].translate(XOR)  # differs from byte 140_000 to the end
    server = Server(old, etag_style="quoted", honour_if_range=False)
    core, outcome = download(
        server,
        [
            Fault(cut_at=cut, cut_exc=ERRORS["protocol"]),
            Fault(change_to=new, validators="same"),
        ],
    )
    assert outcome.committed == new
    assert outcome.statuses == [200, 206, 200]
    assert outcome.requests[1]["Range"] == f"bytes={cut - OVERLAP}-"
    assert outcome.requests[1]["If-Range"] == '"v0"'
    assert "Range" not in outcome.requests[2]
    assert (core.verified, core.total, core.attempts) == ("content-length", len(new), 3)
    assert server.versions == [old, new]


@pytest.mark.parametrize("cut", [70_000, 100_000], ids=["truncated", "whole"])
def test_close_delimited_body_that_ends_cleanly_is_probed_with_a_range_request(cut: int) -> None:
    data = random_bytes(2, 100_000)
    server = Server(data)
    core, outcome = download(server, [Fault(framing="close", cut_at=cut)])
    assert outcome.committed == data
    assert outcome.statuses == [200, 206]
    assert outcome.requests[1]["Range"] == f"bytes={cut - OVERLAP}-"
    assert core.verified == ("content-range" if cut < len(data) else "range-probe")
    assert core.total == len(data)


def test_chunked_mp4_that_ends_cleanly_mid_file_is_resumed() -> None:
    data = mp4_bytes(150_000, seed=3)
    cut = 100_000
    server = Server(data)
    core, outcome = download(server, [Fault(framing="chunked", cut_at=cut)])
    assert outcome.committed == data
    assert outcome.statuses == [200, 206]
    assert outcome.requests[1]["Range"] == f"bytes={cut - OVERLAP}-"
    assert (core.verified, core.total, core.resumes) == ("content-range", len(data), 1)


# -- bugs found by the model (strict xfails until fixed; now regression tests) ---------------------


@pytest.mark.parametrize(
    ("data", "cut"),
    [
        (mp4_bytes(150_000, seed=5), box_ends(mp4_bytes(150_000))[1]),  # after 'moov': no 'mdat'
        (fragmented_mp4(150_000, seed=5), box_ends(fragmented_mp4(150_000, seed=5))[3]),  # a fragment
    ],
    ids=["after-moov", "after-a-fragment"],
)
def test_close_delimited_mp4_cut_at_a_box_boundary_is_resumed(data: bytes, cut: int) -> None:
    server = Server(data)
    core, outcome = download(server, [Fault(framing="close", cut_at=cut)])
    assert outcome.committed == data
    assert outcome.statuses == [200, 206]
    assert outcome.requests[1]["Range"] == f"bytes={max(0, cut - OVERLAP)}-"
    assert core.verified == "content-range"


def _mp4_with_two_mdats(payload: int) -> bytes:
    """``ftyp``, ``moov``, ``mdat``, ``mdat``: media data written in two boxes (the second one is cut)."""
    first = mp4_bytes(payload, seed=7)
    return first + struct.pack(">I", 8 + payload) + b"mdat" + random_bytes(8, payload)


@pytest.mark.parametrize(
    ("data", "cut"),
    [
        (open_ended_mp4(150_000, seed=4), 100_000),  # anywhere in the open-ended 'mdat'
        (_mp4_with_two_mdats(75_000), len(mp4_bytes(75_000))),  # between the two 'mdat' boxes
    ],
    ids=["open-ended-mdat", "between-two-mdats"],
)
def test_close_delimited_mp4_cut_where_its_boxes_walk_complete_is_not_committed(
    data: bytes, cut: int
) -> None:
    server = Server(data)
    core, outcome = download(server, [Fault(framing="close", cut_at=cut)])
    assert outcome.committed == data, f"committed {len(outcome.committed or b'')} bytes ({core.verified})"


def test_stream_from_a_server_that_announces_a_digest_completes() -> None:
    data = random_bytes(6, 100_000)
    server = Server(data, digest="repr")
    _, outcome = download(server, [], can_restart=False)
    assert not isinstance(outcome.error, IntegrityError), outcome.error
    assert outcome.committed == data


# -- a probe answered 200 with a length settles it -------------------------------------------------


def test_close_delimited_mp4_cut_between_two_mdats_from_a_server_without_ranges_is_not_committed() -> None:
    data = _mp4_with_two_mdats(75_000)
    cut = len(mp4_bytes(75_000))
    server = Server(data, ranges=False)
    # The walk of ftyp, moov, mdat is complete and "conclusive" at the cut; the probe's 200 says the
    # whole length (150 160), so the core takes the whole content instead. (Were that 200 also
    # close-delimited, the boxes would be the only proof left: a documented limitation.)
    _, outcome = download(server, [Fault(framing="close", cut_at=cut)])
    assert outcome.committed in (None, data)


def test_range_probe_answered_with_new_content_restarts() -> None:
    old, new = random_bytes(1, 100_000), random_bytes(2, 100_000)
    server = Server(old)  # honours If-Range, new ETag for the new content
    _, outcome = download(server, [Fault(framing="close"), Fault(change_to=new)])
    assert outcome.statuses[:2] == [200, 200]
    assert outcome.requests[1]["If-Range"] == '"v0"'
    assert outcome.error is None, outcome.error
    assert outcome.committed == new
