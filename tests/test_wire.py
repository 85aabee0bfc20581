"""Wire-level faults of VideoClient.download / AsyncVideoClient.download that http.server cannot produce.

A small raw-socket HTTP server (:class:`RawServer`) reads each request head, records it and answers
with scripted bytes: HTTP/1.0 close-delimited bodies, bodies cut cleanly (FIN) or reset (RST),
chunked bodies with 1-byte chunks, chunk extensions and trailers, odd or duplicate headers,
informational responses, Content-Encoding the client did not ask for. Every case runs with the sync
and the async client and checks the bytes on disk, the requests and Range headers the server saw, the
``verified`` proof, and that the destination never exists after a failure.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_wire import RawServer, Reply, Script, Seen, data, response
from openrouter_video import (
    APIConnectionError,
    AsyncVideoClient,
    DownloadResult,
    IncompleteDownloadError,
    RetryPolicy,
    UnexpectedContentError,
    VideoClient,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.testing import mp4_bytes

pytestmark = pytest.mark.timeout(30)


MODES = ["sync", "async"]
TARGET = "/api/v1/videos/job-1/content?index=0"
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


# -- replies ---------------------------------------------------------------------------------------


def close_delimited(
    body: bytes,
    *headers: str,
    status: str = "200 OK",
    version: str = "HTTP/1.0",
    content_type: str = "video/mp4",
    end: str = "close",
    delay: float = 0.0,
) -> Reply:
    """No Content-Length, not chunked: the body ends when the connection closes."""
    lines = [f"Content-Type: {content_type}", *headers]
    if version == "HTTP/1.1":
        lines.append("Connection: close")
    return Reply(response(status, lines, body, version), end=end, delay=delay)


def sized(
    body: bytes,
    *headers: str,
    cut: int | None = None,
    content_type: str = "video/mp4",
    status: str = "200 OK",
) -> Reply:
    """Content-Length framing; ``cut``: send only that many body bytes, then close cleanly."""
    lines = [f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *headers, "Connection: close"]
    return Reply(response(status, lines, body[:cut]))


def partial(content: bytes, start: int, *headers: str, length: bool = True) -> Reply:
    """A 206 with ``content[start:]``; ``length=False`` leaves it close-delimited."""
    body = content[start:]
    lines = [f"Content-Range: bytes {start}-{len(content) - 1}/{len(content)}", "Content-Type: video/mp4"]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return Reply(response("206 Partial Content", [*lines, *headers, "Connection: close"], body))


def chunked(
    body: bytes,
    size: int,
    *headers: str,
    last: bool = True,
    extension: str = "",
    trailer: str = "",
    upper: bool = False,
) -> Reply:
    """Chunked framing in chunks of ``size`` bytes (sizes in hex, ``upper`` case), each with
    ``extension``; ``last=False`` leaves out the zero chunk, ``trailer`` follows it."""
    hex_format = b"%X" if upper else b"%x"
    pieces = [
        hex_format % len(piece) + b"%s\r\n%s\r\n" % (extension.encode(), piece)
        for piece in (body[i : i + size] for i in range(0, len(body), size))
    ]
    if last:
        pieces.append(b"0\r\n" + (trailer.encode() + b"\r\n" if trailer else b"") + b"\r\n")
    lines = ["Content-Type: video/mp4", "Transfer-Encoding: chunked", *headers, "Connection: close"]
    return Reply(response("200 OK", lines, b"".join(pieces)))


_RANGE = re.compile(r"^bytes=(\d+)-$")


def serve_range(content: bytes, *headers: str) -> Callable[[Seen], Reply]:
    """Answer a ``Range: bytes=N-`` request with a 206 of ``content[N:]``, anything else with a 200."""

    def reply(seen: Seen) -> Reply:
        match = _RANGE.match(seen.headers.get("range", ""))
        if match is None:
            return sized(content, *headers)
        return partial(content, int(match.group(1)), *headers)

    return reply


def probe_start(size: int) -> int:
    """Where the client's range probe (or resume) after ``size`` kept bytes starts."""
    return size - min(OVERLAP, size)


# -- the harness -----------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[RawServer]:
    raw = RawServer()
    try:
        yield raw
    finally:
        raw.close()


class Harness:
    """Runs a download with the sync or async client against the raw server.

    The retry policy's sleeps are recorded, not slept, and advance a fake clock (the policy's), so
    that the resume window sees the time the waits would have taken.
    """

    def __init__(self, mode: str, server: RawServer) -> None:
        self.mode = mode
        self.server = server
        self.sleeps: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, **kwargs: Any) -> RetryPolicy:
        kwargs.setdefault("jitter", lambda: 1.0)
        kwargs.setdefault("clock", lambda: self.now)
        return RetryPolicy(sleep=self.sleep, **kwargs)

    def download(
        self, dest: Path, *, retry: RetryPolicy | None = None, timeout: float = 5.0, **kwargs: Any
    ) -> DownloadResult:
        config: dict[str, Any] = {
            "api_key": "k",
            "base_url": self.server.base_url,
            "retry": retry or self.policy(),
            "timeout": timeout,
        }
        if self.mode == "sync":
            with VideoClient(**config) as client:
                return client.download("job-1", dest, **kwargs)

        async def run() -> DownloadResult:
            async with AsyncVideoClient(**config) as client:
                return await client.download("job-1", dest, **kwargs)

        return asyncio.run(run())


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, server: RawServer) -> Harness:
    return Harness(request.param, server)


def check_requests(server: RawServer, count: int) -> None:
    """``count`` requests, all the download's GET with identity encoding, and the whole script used."""
    assert server.errors == []
    assert len(server.seen) == count, server.seen
    for seen in server.seen:
        assert (seen.method, seen.target) == ("GET", TARGET)
        assert seen.headers["accept-encoding"] == "identity"
        assert seen.headers["authorization"] == "Bearer k"
    assert server.pending == 0


def only_partial_left(directory: Path) -> None:
    """After a failure: no destination, and the partial (with its state file) kept beside it."""
    assert not (directory / "out.mp4").exists()
    assert sorted(p.name for p in directory.iterdir()) == [".out.mp4.part", ".out.mp4.part.state"]


def nothing_left(directory: Path) -> None:
    assert list(directory.iterdir()) == []


# -- 1. a close-delimited body that is complete: the range probe proves it --------------------------


@pytest.mark.parametrize("size", [100, 1000, 100_000])
def test_close_delimited_complete_body_is_proven_by_a_206_probe(
    h: Harness, tmp_path: Path, size: int
) -> None:
    content = data(size)
    start = probe_start(size)
    h.server.script(
        close_delimited(content, 'ETag: "v1"'),
        Reply(
            response(
                "206 Partial Content",
                [
                    f"Content-Range: bytes {start}-{size - 1}/{size}",
                    f"Content-Length: {size - start}",
                    'ETag: "v1"',
                    "Connection: close",
                ],
                content[start:],
            )
        ),
    )
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={start}-"]
    assert h.server.if_ranges == [None, '"v1"']
    assert h.server.seen[0].connection != h.server.seen[1].connection
    assert (result.verified, result.size, result.attempts) == ("range-probe", size, 2)
    assert h.sleeps == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.mark.parametrize("size", [1000, 100_000])
def test_close_delimited_complete_body_is_proven_by_a_416_probe(
    h: Harness, tmp_path: Path, size: int
) -> None:
    content = data(size)
    h.server.script(
        close_delimited(content),
        Reply(
            response(
                "416 Range Not Satisfiable",
                [f"Content-Range: bytes */{size}", "Content-Length: 0", "Connection: close"],
            )
        ),
    )
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(size)}-"]
    assert (result.verified, result.size) == ("range-probe", size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


# -- 2. a close-delimited body cut early: the probe finds the rest ----------------------------------


@pytest.mark.parametrize("length", [True, False], ids=["206-sized", "206-close-delimited"])
@pytest.mark.parametrize("end", ["close", "reset"])
@pytest.mark.parametrize(("size", "cut"), [(50_000, 30_000), (200_000, 120_000)])
def test_close_delimited_body_cut_early_is_completed_from_the_probe(
    h: Harness, tmp_path: Path, size: int, cut: int, end: str, length: bool
) -> None:
    content = data(size)
    # a reset comes after a pause, so that the client has read the bytes before it
    first = close_delimited(content[:cut], end=end, delay=0.1 if end == "reset" else 0.0)
    h.server.script(first, partial(content, probe_start(cut), length=length))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(cut)}-"]
    assert (result.verified, result.size, result.resumes) == ("content-range", size, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


# -- 3. close-delimited, cut, and the server ignores Range: cannot be proven ------------------------


def test_close_delimited_cut_body_from_a_server_without_ranges_is_incomplete(
    h: Harness, tmp_path: Path
) -> None:
    content = data(150_000)
    h.server.script(close_delimited(content[:100_000]), close_delimited(content))
    with pytest.raises(IncompleteDownloadError) as caught:
        h.download(tmp_path / "out.mp4", source="api")
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-"]
    assert caught.value.received == 100_000 and caught.value.expected is None
    only_partial_left(tmp_path)
    assert caught.value.partial_path == tmp_path / ".out.mp4.part"
    assert caught.value.partial_path.read_bytes() == content[:100_000]


def test_the_partial_of_an_unproven_close_delimited_body_is_resumed_by_the_next_call(
    h: Harness, tmp_path: Path
) -> None:
    content = data(150_000)
    h.server.script(close_delimited(content[:100_000]), close_delimited(content))
    with pytest.raises(IncompleteDownloadError):
        h.download(tmp_path / "out.mp4", source="api")
    h.server.script(serve_range(content))  # the server now supports ranges
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 3)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-", f"bytes={probe_start(100_000)}-"]
    assert (result.resumed_from, result.verified) == (100_000, "content-range")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def _unusable_probe_answer(kind: str, content: bytes) -> Reply:
    size = len(content)
    start = probe_start(size)
    if kind == "206-unknown-total":
        return Reply(
            response(
                "206 Partial Content",
                [
                    f"Content-Range: bytes {start}-{size - 1}/*",
                    f"Content-Length: {size - start}",
                    "Connection: close",
                ],
                content[start:],
            )
        )
    if kind == "206-from-zero":
        return partial(content, 0)
    return Reply(
        response(
            "416 Range Not Satisfiable",
            [f"Content-Range: bytes */{size + 1}", "Content-Length: 0", "Connection: close"],
        )
    )


@pytest.mark.parametrize("kind", ["206-unknown-total", "206-from-zero", "416-other-total"])
def test_probe_answers_that_prove_nothing_end_after_max_attempts(
    h: Harness, tmp_path: Path, kind: str
) -> None:
    """Each unusable probe answer discards the body and starts again: this must not loop forever even
    though every new full body is "progress"."""
    content = data(100_000)
    for _ in range(6):
        h.server.script(close_delimited(content), _unusable_probe_answer(kind, content))
    with pytest.raises(IncompleteDownloadError):
        h.download(tmp_path / "out.mp4", retry=h.policy(max_attempts=3), source="api")
    assert h.server.errors == []
    assert len(h.server.seen) == 6  # three full bodies, each followed by a probe
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-"] * 3
    assert h.sleeps == [0.5, 1.0]
    assert not (tmp_path / "out.mp4").exists()


def test_close_delimited_body_that_stalls_is_resumed_not_committed(h: Harness, tmp_path: Path) -> None:
    content = data(150_000)
    # 100 000 bytes, then nothing (no FIN) until long after the client's read timeout
    h.server.script(close_delimited(content[:100_000], delay=3.0, end="reset"), serve_range(content))
    result = h.download(tmp_path / "out.mp4", timeout=0.3, source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-"]
    assert (result.verified, result.resumes) == ("content-range", 1)
    assert h.sleeps == []  # the stalled body brought more than 64 KiB: resumed at once


# -- 4. close-delimited MP4: the box walk proves it, or shows the cut -------------------------------


def test_close_delimited_complete_mp4_is_probed_and_its_boxes_prove_it_without_ranges(
    h: Harness, tmp_path: Path
) -> None:
    """A cut between two whole-looking top-level boxes also walks as complete, so a close-delimited
    MP4 is probed too; only a server that cannot answer a range leaves the boxes as the proof."""
    video = mp4_bytes(100_000)
    h.server.script(close_delimited(video), sized(video))  # the probe is answered 200: no ranges
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(len(video))}-"]
    # the 200 says its length, which settles it (with no length, the boxes would be the proof)
    assert (result.verified, result.attempts, result.resumes) == ("content-length", 2, 0)


def test_close_delimited_complete_fragmented_mp4_is_probed(h: Harness, tmp_path: Path) -> None:
    """A fragmented MP4 cut at a fragment boundary walks as complete: the walk cannot prove it."""
    video = mp4_bytes(100_000, fragmented=True)
    h.server.script(close_delimited(video, 'ETag: "f1"'), serve_range(video, 'ETag: "f1"'))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(len(video))}-"]
    assert result.verified == "range-probe"


@pytest.mark.parametrize("cut", [1000, 80_000, 100_050])
def test_close_delimited_mp4_cut_in_mdat_is_resumed(h: Harness, tmp_path: Path, cut: int) -> None:
    video = mp4_bytes(100_000)
    assert cut < len(video) - 8
    h.server.script(close_delimited(video[:cut], 'ETag: "m1"'), serve_range(video, 'ETag: "m1"'))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(cut)}-"]
    assert h.server.if_ranges == [None, '"m1"']
    assert (result.verified, result.resumes) == ("content-range", 1)
    assert h.sleeps == [0.5]  # a cut that the box walk found: a failure, with backoff


def fragmented_mp4(fragments: int) -> tuple[bytes, list[int]]:
    """ftyp + moov + ``fragments`` x (moof + mdat), and the offsets where each fragment ends."""
    one = mp4_bytes(20_000, fragmented=True)
    moof = one.index(b"moof") - 4
    header, fragment = one[:moof], one[moof:]
    video = header + fragment * fragments
    return video, [len(header) + len(fragment) * (i + 1) for i in range(fragments)]


@pytest.mark.parametrize("where", ["after-moov", "after-first-fragment"])
def test_close_delimited_mp4_cut_at_a_box_boundary_is_not_committed_truncated(
    h: Harness, tmp_path: Path, where: str
) -> None:
    if where == "after-moov":
        video = mp4_bytes(100_000)
        cut = video.index(b"mdat") - 4  # ftyp + moov: the whole mdat is missing
    else:
        video, ends = fragmented_mp4(3)
        cut = ends[0]  # one fragment of three
    h.server.script(close_delimited(video[:cut]), serve_range(video))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video, (
        f"committed {result.size} of {len(video)} bytes, verified {result.verified!r}, "
        f"{len(h.server.seen)} request(s)"
    )


# -- 5. chunked bodies in tiny chunks (many pieces per writer buffer) -----------------------------


@pytest.mark.parametrize(
    ("kind", "size", "chunk"),
    [
        ("random", 16 * 1024, 1),
        ("mp4", 16 * 1024, 1),
        ("random", 512 * 1024, 700),
        ("mp4", 512 * 1024, 700),
        ("random", 1536 * 1024, 700),  # a full 1 MiB batch of about 1500 pieces
    ],
)
def test_chunked_body_in_tiny_chunks(h: Harness, tmp_path: Path, kind: str, size: int, chunk: int) -> None:
    body = data(size) if kind == "random" else mp4_bytes(size)
    h.server.script(chunked(body, chunk))
    result = h.download(tmp_path / "out.mp4", checksum="sha256", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == body
    check_requests(h.server, 1)
    assert result.verified == ("chunked" if kind == "random" else "mp4")
    assert result.size == len(body)


def test_chunked_body_in_tiny_chunks_without_hashing(h: Harness, tmp_path: Path) -> None:
    """Without a hash, the writer thread alone (no hashing thread) writes the gathered buffers."""
    body = data(1536 * 1024, seed=3)
    h.server.script(chunked(body, 700))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == body
    check_requests(h.server, 1)
    assert result.verified == "chunked"


def test_chunked_with_extensions_upper_case_sizes_and_trailers(h: Harness, tmp_path: Path) -> None:
    body = data(70_000, seed=4)
    h.server.script(
        chunked(body, 4000, extension=";name=value", trailer="X-Checksum-Note: ignored", upper=True)
    )
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == body
    check_requests(h.server, 1)
    assert result.verified == "chunked"


# -- 6. a chunked MP4 that ends cleanly inside its mdat ---------------------------------------------


@pytest.mark.parametrize("cut", [5_000, 90_000])
def test_chunked_mp4_that_ends_inside_mdat_is_resumed(h: Harness, tmp_path: Path, cut: int) -> None:
    video = mp4_bytes(120_000)
    h.server.script(chunked(video[:cut], 1000), serve_range(video))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(cut)}-"]
    assert (result.verified, result.resumes) == ("content-range", 1)


def test_chunked_206_in_odd_sized_chunks_straddling_the_overlap(h: Harness, tmp_path: Path) -> None:
    """The 64 KiB re-read before the resume point arrives in 7-byte chunks; one straddles its end."""
    content = data(200_000)
    start = probe_start(100_000)
    body = chunked(content[start:], 7).data.split(b"\r\n\r\n", 1)[1]
    head = [f"Content-Range: bytes {start}-199999/200000", "Transfer-Encoding: chunked", "Connection: close"]
    h.server.script(sized(content, cut=100_000), Reply(response("206 Partial Content", head, body)))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={start}-"]
    assert (result.verified, result.resumes) == ("content-range", 1)


# -- 7. odd headers --------------------------------------------------------------------------------


def test_unquoted_etag_is_sent_back_verbatim_in_if_range(h: Harness, tmp_path: Path) -> None:
    content = data(200_000)
    h.server.script(sized(content, "ETag: abc123", cut=100_000), serve_range(content, "ETag: abc123"))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-"]
    assert h.server.if_ranges == [None, "abc123"]
    assert (result.verified, result.resumes) == ("content-range", 1)
    assert h.sleeps == []  # the cut brought more than 64 KiB: resumed at once


def test_weak_etag_is_not_sent_and_last_modified_is(h: Harness, tmp_path: Path) -> None:
    content = data(200_000)
    validators = ('ETag: W/"x"', f"Last-Modified: {LAST_MODIFIED}")
    h.server.script(sized(content, *validators, cut=100_000), serve_range(content, *validators))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.if_ranges == [None, LAST_MODIFIED]
    assert result.verified == "content-range"


def test_lower_case_upper_case_and_oddly_spaced_headers(h: Harness, tmp_path: Path) -> None:
    content = data(200_000)
    start = probe_start(100_000)
    first = (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type:video/mp4\r\n"
        b"CONTENT-LENGTH:    200000   \r\n"
        b'etag:   "odd"  \r\n'
        b"connection: close\r\n\r\n" + content[:100_000]
    )
    second = (
        (
            b"HTTP/1.1 206\r\n"  # no reason phrase
            b"content-range:  bytes %d-199999/200000\r\n"
            b"Content-Length:%d\r\n"
            b'ETAG: "odd"\r\n'
            b"CONTENT-TYPE:   video/mp4\t\r\n"
            b"Connection: close\r\n\r\n" % (start, 200_000 - start)
        )
        + content[start:]
    )
    h.server.script(Reply(first), Reply(second))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={start}-"]
    assert h.server.if_ranges == [None, '"odd"']
    assert (result.verified, result.content_type) == ("content-range", "video/mp4")


def test_bare_lf_line_endings_and_a_folded_header(h: Harness, tmp_path: Path) -> None:
    content = data(200_000)
    start = probe_start(100_000)
    first = b'HTTP/1.1 200 OK\nContent-Type: video/mp4\nContent-Length: 200000\nETag: "lf"\n'
    first += b"Connection: close\n\n" + content[:100_000]
    second = response(
        "206 Partial Content",
        [
            f"Content-Range:\r\n  bytes {start}-199999/200000",
            f"Content-Length: {200_000 - start}",
            'ETag: "lf"',
        ],
        content[start:],
    )
    h.server.script(Reply(first), Reply(second))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.if_ranges == [None, '"lf"']
    assert result.verified == "content-range"


@pytest.mark.parametrize("lengths", [["{n}", "{n}"], ["{n}, {n}"], ["{n}", "{n},{n}"]])
def test_duplicate_equal_content_lengths(h: Harness, tmp_path: Path, lengths: list[str]) -> None:
    content = data(80_000)
    lines = ["Content-Type: video/mp4", *(f"Content-Length: {v.format(n=80_000)}" for v in lengths)]
    h.server.script(Reply(response("200 OK", [*lines, "Connection: close"], content)))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 1)
    assert (result.verified, result.size) == ("content-length", 80_000)


def test_conflicting_content_lengths_are_a_protocol_error_not_a_file(h: Harness, tmp_path: Path) -> None:
    content = data(80_000)
    lines = ["Content-Type: video/mp4", "Content-Length: 80000", "Content-Length: 70000", "Connection: close"]
    h.server.script(*(Reply(response("200 OK", lines, content)) for _ in range(2)))
    with pytest.raises(APIConnectionError, match="RemoteProtocolError"):
        h.download(tmp_path / "out.mp4", retry=h.policy(max_attempts=2), source="api")
    check_requests(h.server, 2)
    nothing_left(tmp_path)


def test_informational_103_before_the_video_is_skipped(h: Harness, tmp_path: Path) -> None:
    content = data(50_000)
    early = response("103 Early Hints", ["Link: </style.css>; rel=preload"])
    h.server.script(Reply(early + sized(content).data))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 1)
    assert result.verified == "content-length"


def test_the_first_bytes_reach_the_disk_before_the_rest_of_the_body(h: Harness, tmp_path: Path) -> None:
    """The writer gets the first bytes of a body at once, not once a whole 1 MiB buffer is full: the
    server sends 100 KB (in 1,000-byte chunks: copied into the writer's buffers), then waits; the bytes
    are in the partial file while it waits."""
    content, released = data(4_000_000), threading.Event()
    first = chunked(content[:100_000], 1000, 'ETag: "v1"', last=False).data
    h.server.script(Reply(first, hold=released), serve_range(content, 'ETag: "v1"'))
    part, results = tmp_path / ".out.mp4.part", []
    args = (tmp_path / "out.mp4",)
    worker = threading.Thread(target=lambda: results.append(h.download(*args, source="api", timeout=30)))
    worker.start()
    try:
        end = time.monotonic() + 10
        while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < end:
            time.sleep(0.01)
        assert part.exists() and part.stat().st_size > 0, "nothing written while the server waits"
    finally:
        released.set()
        worker.join(30)
    assert (tmp_path / "out.mp4").read_bytes() == content and results[0].resumes == 1


# -- connections ------------------------------------------------------------------------------------


def test_a_kept_alive_connection_is_reused_after_a_retried_status(h: Harness, tmp_path: Path) -> None:
    content = data(80_000)
    busy = response("503 Service Unavailable", ["Retry-After: 0", "Content-Length: 4"], b"busy")
    video = response("200 OK", ["Content-Type: video/mp4", f"Content-Length: {len(content)}"], content)
    h.server.script(Reply(busy, end="keep"), Reply(video, end="keep"))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.seen[0].connection == h.server.seen[1].connection
    assert (result.verified, result.attempts) == ("content-length", 2)


def test_a_kept_alive_connection_the_server_closed_is_not_a_failure_of_the_download(
    h: Harness, tmp_path: Path
) -> None:
    content = data(80_000)
    # no "Connection: close", yet the server closes the connection after the answer
    busy = response("503 Service Unavailable", ["Retry-After: 1", "Content-Length: 4"], b"busy")
    h.server.script(Reply(busy, end="close"), sized(content))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.seen[0].connection != h.server.seen[1].connection
    assert result.verified == "content-length"


# -- 8. 206 answers without validators --------------------------------------------------------------


def test_206_without_validators_but_the_right_bytes_completes(h: Harness, tmp_path: Path) -> None:
    content = data(200_000)
    h.server.script(sized(content, cut=100_000), serve_range(content))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == content
    check_requests(h.server, 2)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-"]
    assert h.server.if_ranges == [None, None]
    assert (result.verified, result.resumes) == ("content-range", 1)


@pytest.mark.parametrize("cut", [30_000, 100_000])
def test_206_with_other_bytes_in_the_overlap_restarts_from_zero(h: Harness, tmp_path: Path, cut: int) -> None:
    old, new = data(200_000, seed=1), data(200_000, seed=2)  # same size, other content
    h.server.script(sized(old, cut=cut), serve_range(new), serve_range(new))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new
    check_requests(h.server, 3)
    assert h.server.ranges == [None, f"bytes={probe_start(cut)}-", None]
    assert (result.verified, result.attempts, result.size) == ("content-length", 3, len(new))
    # the change of content counts as a failure (so does a cut that brought less than 64 KiB)
    assert h.sleeps == ([0.5] if cut >= OVERLAP else [0.5, 1.0])


def test_206_with_other_bytes_after_a_close_delimited_body_restarts_from_zero(
    h: Harness, tmp_path: Path
) -> None:
    """The probe of a close-delimited body answers with bytes that differ from those kept."""
    old, new = data(100_000, seed=1), data(100_000, seed=2)
    h.server.script(close_delimited(old), serve_range(new), serve_range(new))
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new
    check_requests(h.server, 3)
    assert h.server.ranges == [None, f"bytes={probe_start(100_000)}-", None]
    assert result.verified == "content-length"


def _same_failure_forever(kind: str, attempt: int) -> list[Script]:
    """The replies of one round of a server that fails the same way on every request."""
    if kind == "cut-and-range-ignored":  # a proxy that drops every response after 100 kB, no ranges
        return [sized(data(200_000), cut=100_000)]
    if kind == "content-changes-every-time":  # no validators, other bytes on every request, cuts
        return [
            sized(data(200_000, seed=2 * attempt), cut=100_000),
            serve_range(data(200_000, seed=2 * attempt + 1)),
        ]
    video = mp4_bytes(200_000)  # the MP4 always ends inside its mdat, and ranges are ignored
    return [chunked(video[:100_000], 1000)]


@pytest.mark.parametrize(
    "kind", ["cut-and-range-ignored", "content-changes-every-time", "mp4-short-and-range-ignored"]
)
def test_a_failure_that_repeats_after_every_restart_gives_up(h: Harness, tmp_path: Path, kind: str) -> None:
    """Never more than a few rounds when no round gets further than the one before; the server's
    script runs out after 12 rounds (then it answers 418, which is not retried)."""
    for attempt in range(12):
        h.server.script(*_same_failure_forever(kind, attempt))
    # (resume_window=0: with the default, failures after the first cut's progress are retried until
    # 60 s pass without progress, which the fake clock reaches after about as many rounds)
    with pytest.raises(IncompleteDownloadError):
        h.download(tmp_path / "out.mp4", retry=h.policy(max_attempts=3, resume_window=0), source="api")
    assert len(h.server.seen) <= 8, f"{len(h.server.seen)} requests, sleeps {h.sleeps}"
    assert not (tmp_path / "out.mp4").exists()


# -- 9. what is and is not a video -----------------------------------------------------------------


@pytest.mark.parametrize("framing", ["sized", "close", "chunked"])
def test_html_labelled_video_mp4_is_unexpected_content(h: Harness, tmp_path: Path, framing: str) -> None:
    page = b"<!DOCTYPE html><html><head><title>Captive portal</title></head><body>" + b"x" * 2000
    page += b"</body></html>"
    reply = {"sized": sized(page), "close": close_delimited(page), "chunked": chunked(page, 100)}[framing]
    h.server.script(reply)
    with pytest.raises(UnexpectedContentError) as caught:
        h.download(tmp_path / "out.mp4", source="api")
    assert "Captive portal" in str(caught.value)
    assert caught.value.content_type == "video/mp4"
    check_requests(h.server, 1)
    assert h.sleeps == []
    nothing_left(tmp_path)


@pytest.mark.parametrize("framing", ["sized", "close", "chunked"])
def test_empty_200_is_unexpected_content(h: Harness, tmp_path: Path, framing: str) -> None:
    reply = {"sized": sized(b""), "close": close_delimited(b""), "chunked": chunked(b"", 10)}[framing]
    h.server.script(reply)
    with pytest.raises(UnexpectedContentError, match="empty body"):
        h.download(tmp_path / "out.mp4", source="api")
    check_requests(h.server, 1)
    nothing_left(tmp_path)


@pytest.mark.parametrize("framing", ["sized", "close"])
def test_ftyp_body_labelled_text_plain_is_saved_as_video(h: Harness, tmp_path: Path, framing: str) -> None:
    video = mp4_bytes(50_000)
    if framing == "sized":
        reply = sized(video, content_type="text/plain; charset=utf-8")
    else:
        reply = close_delimited(video, content_type="text/plain")
    h.server.script(reply)
    if framing == "close":
        h.server.script(sized(video, content_type="text/plain"))  # the probe answered 200: no ranges
    result = h.download(tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    check_requests(h.server, 1 if framing == "sized" else 2)
    assert result.verified == "content-length"  # (the probe's 200 says its length)
    assert result.content_type is not None and result.content_type.startswith("text/plain")


# -- 10. Content-Encoding on the video --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "br", " GZIP "])
def test_content_encoding_on_the_video_is_unexpected_content(
    h: Harness, tmp_path: Path, encoding: str
) -> None:
    import gzip

    body = gzip.compress(mp4_bytes(20_000))
    h.server.script(sized(body, f"Content-Encoding: {encoding}"))
    with pytest.raises(UnexpectedContentError, match="Content-Encoding"):
        h.download(tmp_path / "out.mp4", source="api")
    check_requests(h.server, 1)
    assert h.sleeps == []
    nothing_left(tmp_path)
