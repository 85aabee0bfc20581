"""The fake server's faults, framings, validators and ranges, seen through plain clients.

These tests talk to :class:`~openrouter_video.testing.FakeOpenRouter` with raw sockets (to see the
framing on the wire), :mod:`http.client` and plain httpx (its storage origin, signed URLs, expiry and
continuation), never through the package's client, so that they pin down what the fake does
independently of the download engine.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from openrouter_video.testing import (
    Cut,
    EndEarly,
    FakeOpenRouter,
    FakeVideo,
    Outage,
    Stall,
    Trickle,
    digest_headers,
    mp4_bytes,
)

DATA = random.Random(42).randbytes(5000)
JOB = "job-f"


# -- a raw HTTP/1.1 client -------------------------------------------------------------------------


@pytest.fixture
def raw(fake: FakeOpenRouter) -> Iterator[Raw]:
    fake.add_video(JOB, DATA)
    conn = Raw(fake)
    yield conn
    conn.close()


class Raw:
    """One TCP connection; requests are written by hand and responses parsed from the bytes."""

    def __init__(self, fake: FakeOpenRouter) -> None:
        self.fake = fake
        self.sock = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def request(
        self, path: str | None = None, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> None:
        path = path or f"/api/v1/videos/{JOB}/content?index=0"
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {self.fake.api_key}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def head(self) -> tuple[int, dict[str, str]]:
        """Read the status line and headers (names lower-cased; a repeated header is an error)."""
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"connection closed before the headers end: {self.buf!r}"
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            assert name.lower() not in headers, f"duplicate header {name}"
            headers[name.lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            assert self._fill(), "connection closed early"
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_close(self) -> bytes:
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def chunks(self) -> tuple[list[int], bytes, bool]:
        """Read a chunked body: the chunk sizes, the bytes, and whether the zero chunk ended it."""
        sizes: list[int] = []
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                if not self._fill():
                    assert self.buf == b"", f"connection closed inside a chunk: {self.buf!r}"
                    return sizes, body, False
            line, self.buf = self.buf.split(b"\r\n", 1)
            size = int(line, 16)
            if size == 0:
                assert self.exactly(2) == b"\r\n"
                return sizes, body, True
            sizes.append(size)
            body += self.exactly(size)
            assert self.exactly(2) == b"\r\n"

    def is_closed(self) -> bool:
        """Whether the server closed the connection (EOF or reset), waiting up to a second."""
        self.sock.settimeout(1)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False


def get(
    fake: FakeOpenRouter, headers: dict[str, str] | None = None, job: str = JOB
) -> tuple[int, dict[str, str], bytes]:
    """One request with http.client: status, headers (lower-cased names) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        conn.request(
            "GET",
            f"/api/v1/videos/{job}/content?index=0",
            headers={"Authorization": f"Bearer {fake.api_key}", **(headers or {})},
        )
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


# -- 1. framing ------------------------------------------------------------------------------------


def test_content_length_framing_is_the_default(fake: FakeOpenRouter, raw: Raw) -> None:
    assert fake.framing == "content-length"
    raw.request()
    status, headers = raw.head()
    assert status == 200 and headers["content-length"] == str(len(DATA))
    assert "transfer-encoding" not in headers
    assert raw.exactly(len(DATA)) == DATA
    raw.request(headers={"Range": "bytes=100-"})  # keep-alive
    status, headers = raw.head()
    assert status == 206 and raw.exactly(int(headers["content-length"])) == DATA[100:]


@pytest.mark.parametrize("range_header", [None, "bytes=1000-"])
def test_close_framing_has_no_length_and_closes_after_the_body(
    fake: FakeOpenRouter, raw: Raw, range_header: str | None
) -> None:
    fake.framing = "close"
    raw.request(headers={"Range": range_header} if range_header else {})
    status, headers = raw.head()
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    if range_header:
        assert status == 206 and headers["content-range"] == f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"
        assert raw.until_close() == DATA[1000:]
    else:
        assert status == 200 and raw.until_close() == DATA


def test_chunked_framing_sends_small_chunks_and_the_zero_chunk(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.framing = "chunked"
    fake.chunk_size = 700
    raw.request()
    status, headers = raw.head()
    assert status == 200 and headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    sizes, body, terminated = raw.chunks()
    assert terminated and body == DATA
    assert max(sizes) == 700 and all(0 < size <= 700 for size in sizes)
    raw.request(headers={"Range": "bytes=4000-"})  # the connection stays usable
    status, headers = raw.head()
    assert status == 206 and headers["content-range"] == f"bytes 4000-4999/{len(DATA)}"
    assert raw.chunks()[1:] == (DATA[4000:], True)


def test_framing_and_chunk_size_are_validated(fake: FakeOpenRouter) -> None:
    with pytest.raises(ValueError):
        fake.framing = "gzip"
    with pytest.raises(ValueError):
        fake.chunk_size = 0


def test_cut_in_chunked_framing_ends_without_the_zero_chunk(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.framing = "chunked"
    fake.chunk_size = 700
    fake.enqueue(Cut(at=1000))
    raw.request()
    raw.head()
    sizes, body, terminated = raw.chunks()
    assert not terminated and body == DATA[:1000] and sizes == [700, 300]
    assert raw.is_closed()


def test_cut_in_close_framing_just_closes(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.framing = "close"
    fake.enqueue(Cut(at=1234))
    raw.request()
    raw.head()
    assert raw.until_close() == DATA[:1234]


@pytest.mark.parametrize("framing", ["content-length", "close", "chunked"])
def test_stall_and_rate_work_in_every_framing(fake: FakeOpenRouter, raw: Raw, framing: str) -> None:
    fake.framing = framing
    fake.chunk_size = 700
    fake.rate = 100_000.0  # 5000 bytes in about 50 ms
    fake.enqueue(Stall(at=2000, seconds=0.2))
    began = time.monotonic()
    raw.request()
    raw.head()
    if framing == "chunked":
        sizes, body, terminated = raw.chunks()
        assert terminated and all(size <= 700 for size in sizes)
    elif framing == "close":
        body = raw.until_close()
    else:
        body = raw.exactly(len(DATA))
    assert body == DATA
    assert 0.2 <= time.monotonic() - began < 1.5


# -- 2. EndEarly -----------------------------------------------------------------------------------


def test_end_early_in_chunked_framing_sends_the_zero_chunk_at_the_offset(
    fake: FakeOpenRouter, raw: Raw
) -> None:
    fake.framing = "chunked"
    fake.chunk_size = 700
    fake.enqueue(EndEarly(at=3000))
    raw.request(headers={"Range": "bytes=1000-"})
    status, headers = raw.head()
    assert status == 206 and headers["content-range"] == f"bytes 1000-4999/{len(DATA)}"  # the whole file
    sizes, body, terminated = raw.chunks()
    assert terminated and body == DATA[1000:3000] and all(size <= 700 for size in sizes)
    raw.request()  # a clean end: the connection is still usable
    assert raw.head()[0] == 200
    assert raw.chunks()[1:] == (DATA, True)


def test_end_early_in_close_framing_closes_at_the_offset(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.framing = "close"
    fake.enqueue(EndEarly(at=3000))
    raw.request()
    status, headers = raw.head()
    assert status == 200 and "content-length" not in headers
    assert raw.until_close() == DATA[:3000]


def test_end_early_in_content_length_framing_describes_a_shorter_file(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.enqueue(EndEarly(at=3000), EndEarly(at=3000), EndEarly(at=3000))
    raw.request()
    status, headers = raw.head()
    assert status == 200 and headers["content-length"] == "3000"
    assert raw.exactly(3000) == DATA[:3000]
    raw.request(headers={"Range": "bytes=1000-"})
    status, headers = raw.head()
    assert status == 206 and headers["content-range"] == "bytes 1000-2999/3000"
    assert headers["content-length"] == "2000" and raw.exactly(2000) == DATA[1000:3000]
    raw.request(headers={"Range": "bytes=3000-"})
    status, headers = raw.head()
    assert status == 416 and headers["content-range"] == "bytes */3000"
    assert headers["content-length"] == "0"
    assert fake.pending_faults == 0


# -- 3. validators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("etag", ["abc123", 'W/"weak-1"', '"strong-1"'])
def test_etags_are_sent_verbatim_and_if_range_compares_them_as_strings(
    fake: FakeOpenRouter, etag: str
) -> None:
    fake.add_video(JOB, DATA, etag=etag)
    status, headers, _ = get(fake)
    assert status == 200 and headers["etag"] == etag
    status, _, body = get(fake, {"Range": "bytes=10-", "If-Range": etag})
    assert status == 206 and body == DATA[10:]


def test_last_modified_can_be_set(fake: FakeOpenRouter) -> None:
    date = "Wed, 01 Jan 2025 10:00:00 GMT"
    video = fake.add_video(JOB, DATA, last_modified=date)
    assert video.last_modified == date
    _, headers, _ = get(fake)
    assert headers["last-modified"] == date
    assert get(fake, {"Range": "bytes=10-", "If-Range": date})[0] == 206
    assert get(fake, {"Range": "bytes=10-", "If-Range": "Thu, 02 Jan 2025 10:00:00 GMT"})[0] == 200


@pytest.mark.parametrize(
    ("validators", "etag_sent", "date_sent"),
    [("both", True, True), ("etag", True, False), ("last-modified", False, True), ("none", False, False)],
)
def test_validators_choose_what_is_sent_and_what_if_range_matches(
    fake: FakeOpenRouter, validators: str, etag_sent: bool, date_sent: bool
) -> None:
    video = fake.add_video(JOB, DATA, validators=validators)
    assert video.validators == validators
    for range_header in (None, "bytes=10-"):
        status, headers, _ = get(fake, {"Range": range_header} if range_header else {})
        assert status == (206 if range_header else 200)
        assert ("etag" in headers, "last-modified" in headers) == (etag_sent, date_sent)
    by_etag = get(fake, {"Range": "bytes=10-", "If-Range": video.etag})[0]
    by_date = get(fake, {"Range": "bytes=10-", "If-Range": video.last_modified})[0]
    assert (by_etag, by_date) == (206 if etag_sent else 200, 206 if date_sent else 200)


def test_unknown_validators_are_refused(fake: FakeOpenRouter) -> None:
    with pytest.raises(ValueError):
        fake.add_video(JOB, DATA, validators="strong")


def test_206_without_validators(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    fake.validators_on_206 = False
    status, headers, body = get(fake, {"Range": "bytes=10-"})
    assert status == 206 and body == DATA[10:]
    assert "etag" not in headers and "last-modified" not in headers
    status, headers, _ = get(fake)
    assert status == 200 and "etag" in headers and "last-modified" in headers


# -- 4. If-Range -----------------------------------------------------------------------------------


def test_a_non_matching_if_range_gets_the_whole_file_unless_ignored(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    stale = {"Range": "bytes=10-", "If-Range": '"stale"'}
    status, headers, body = get(fake, stale)
    assert status == 200 and body == DATA and "content-range" not in headers
    fake.ignore_if_range = True
    status, headers, body = get(fake, stale)
    assert status == 206 and body == DATA[10:] and headers["content-range"] == f"bytes 10-4999/{len(DATA)}"


# -- 5. ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [
        ("bytes=10-19", 10, 19),
        ("bytes=4990-99999", 4990, 4999),
        ("bytes=0-0", 0, 0),
        ("bytes=-5", 4995, 4999),
    ],
)
def test_bounded_and_suffix_ranges(fake: FakeOpenRouter, range_header: str, first: int, last: int) -> None:
    fake.add_video(JOB, DATA)
    status, headers, body = get(fake, {"Range": range_header})
    assert status == 206 and headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert body == DATA[first : last + 1] and headers["content-length"] == str(last + 1 - first)


@pytest.mark.parametrize("range_header", [f"bytes={len(DATA)}-", f"bytes={len(DATA) + 10}-20000"])
def test_a_range_past_the_end_gets_416(fake: FakeOpenRouter, raw: Raw, range_header: str) -> None:
    raw.request(headers={"Range": range_header})
    status, headers = raw.head()
    assert status == 416 and headers["content-range"] == f"bytes */{len(DATA)}"
    assert headers["content-length"] == "0"
    raw.request()  # nothing else was sent: the next answer follows at once
    status, headers = raw.head()
    assert status == 200 and raw.exactly(len(DATA)) == DATA


def test_416_is_not_sent_when_if_range_does_not_match_or_range_is_ignored(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    past_end = {"Range": f"bytes={len(DATA)}-"}
    status, _, body = get(fake, {**past_end, "If-Range": '"other"'})
    assert status == 200 and body == DATA
    fake.ignore_range = True
    assert get(fake, past_end)[0] == 200
    assert get(fake, {"Range": "bytes=10-19"})[0] == 200


def test_wrong_content_range_applies_to_bounded_ranges(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    fake.wrong_content_range = True
    status, headers, body = get(fake, {"Range": "bytes=10-19"})
    assert status == 206 and headers["content-range"] == f"bytes 11-19/{len(DATA)}" and body == DATA[10:20]


def test_malformed_and_multipart_ranges_are_ignored(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    for value in ("bytes=20-10", "bytes=0-1,5-6", "items=0-", "bytes=-", "bytes=abc-"):
        status, _, body = get(fake, {"Range": value})
        assert (status, body) == (200, DATA), value


# -- 6. extra headers and digests ------------------------------------------------------------------


def test_digest_headers_values() -> None:
    data = b"hello video"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert digest_headers(data) == {
        "Content-MD5": md5,
        "Repr-Digest": f"sha-256=:{sha}:",
        "x-goog-hash": f"md5={md5}",
        "x-amz-checksum-sha256": sha,
    }
    wrong = digest_headers(data, wrong=True)
    assert wrong == digest_headers(data + b"x")
    assert all(wrong[name] != value for name, value in digest_headers(data).items())


def test_video_headers_are_sent_on_200_and_206(fake: FakeOpenRouter) -> None:
    only = {k: v for k, v in digest_headers(DATA).items() if k == "Repr-Digest"}
    video = fake.add_video(JOB, DATA, headers=only)
    assert video.headers == only
    for extra in ({}, {"Range": "bytes=10-"}):
        _, headers, _ = get(fake, extra)
        assert headers["repr-digest"] == only["Repr-Digest"]
        assert "content-md5" not in headers and "x-goog-hash" not in headers
    fake.add_video("job-all", DATA, headers=digest_headers(DATA, wrong=True))
    _, headers, _ = get(fake, job="job-all")
    assert headers["x-amz-checksum-sha256"] == digest_headers(DATA + b"x")["x-amz-checksum-sha256"]


# -- 7. outage -------------------------------------------------------------------------------------


def _refused(fake: FakeOpenRouter) -> bool:
    try:
        socket.create_connection(("127.0.0.1", fake.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _wait_until_listening(fake: FakeOpenRouter, within: float = 3.0) -> float:
    began = time.monotonic()
    while _refused(fake):
        assert time.monotonic() - began < within, "the server did not come back"
        time.sleep(0.02)
    return time.monotonic()


def test_outage_fault_cuts_refuses_then_serves_on_the_same_port(fake: FakeOpenRouter, raw: Raw) -> None:
    port = fake.port
    idle = Raw(fake)  # an idle keep-alive connection that already served a request
    idle.request()
    idle.head()
    idle.exactly(len(DATA))
    fake.enqueue(Outage(at=1000, seconds=0.3), Cut(at=10))
    raw.request()
    raw.head()
    began = time.monotonic()
    assert raw.until_close() == DATA[:1000]
    assert _refused(fake) and fake.in_outage
    assert idle.is_closed()  # open connections were closed too
    idle.close()
    back = _wait_until_listening(fake)
    assert 0.25 <= back - began < 2 and fake.port == port and not fake.in_outage
    assert fake.pending_faults == 1  # the queued Cut survived, and is used now
    after = Raw(fake)
    after.request()
    assert after.head()[0] == 200 and after.until_close() == DATA[:10]
    after.close()
    assert get(fake)[2] == DATA
    assert [r.headers.get("range") for r in fake.requests] == [None] * 4  # all recorded, none lost
    assert fake.connections == 5  # raw, idle, the probe that found the server back, after, get's


def test_outage_method_and_keep_alive_connections(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    auth = {"Authorization": f"Bearer {fake.api_key}"}
    conn.request("GET", f"/api/v1/videos/{JOB}/content?index=0", headers=auth)
    assert conn.getresponse().read() == DATA
    connections = fake.connections
    fake.outage(0.3)
    assert _refused(fake)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("GET", f"/api/v1/videos/{JOB}/content?index=0", headers=auth)
        conn.getresponse().read()
    conn.close()
    _wait_until_listening(fake)
    assert get(fake)[2] == DATA
    assert fake.connections > connections


def test_outage_on_another_route_drops_the_request(fake: FakeOpenRouter) -> None:
    fake.enqueue(Outage(at=0, seconds=0.3), route="models")
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("GET", "/api/v1/videos/models", headers={"Authorization": f"Bearer {fake.api_key}"})
        conn.getresponse()
    conn.close()
    assert _refused(fake)
    _wait_until_listening(fake)


def test_stop_during_an_outage_cancels_the_relisten() -> None:
    fake = FakeOpenRouter().start()
    port = fake.port
    fake.outage(0.2)
    began = time.monotonic()
    fake.stop()
    assert time.monotonic() - began < 0.5
    time.sleep(0.35)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    with pytest.raises(RuntimeError):
        fake.outage(1)


def test_the_body_is_completed_when_the_outage_is_past_its_end(fake: FakeOpenRouter, raw: Raw) -> None:
    fake.framing = "chunked"
    fake.enqueue(Outage(at=len(DATA) + 1, seconds=0.2))
    raw.request()
    raw.head()
    assert raw.chunks()[1:] == (DATA, True)
    assert raw.is_closed()
    _wait_until_listening(fake)


# -- 8. trickle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_trickle_sends_the_tail_slowly(fake: FakeOpenRouter, raw: Raw, framing: str) -> None:
    fake.framing = framing
    fake.enqueue(Trickle(at=len(DATA) - 10, interval=0.1, size=2))
    began = time.monotonic()
    raw.request()
    raw.head()
    if framing == "chunked":
        sizes, body, terminated = raw.chunks()
        assert terminated and sizes[-5:] == [2] * 5
    else:
        assert raw.exactly(len(DATA) - 10) == DATA[:-10]
        assert time.monotonic() - began < 0.09  # the head of the body came at once
        body = DATA[:-10] + raw.exactly(10)
    elapsed = time.monotonic() - began
    assert body == DATA and 0.5 <= elapsed < 1.2


def test_stop_interrupts_a_trickle() -> None:
    fake = FakeOpenRouter().start()
    fake.add_video(JOB, DATA)
    fake.enqueue(Trickle(at=100, interval=10))
    raw = Raw(fake)
    raw.request()
    raw.head()
    raw.exactly(100)
    threading.Timer(0.1, fake.stop).start()
    began = time.monotonic()
    assert raw.is_closed() and time.monotonic() - began < 0.6
    raw.close()


def test_trickle_is_validated() -> None:
    with pytest.raises(ValueError):
        Trickle(at=0, interval=0.1, size=0)


# -- 9. mp4 ----------------------------------------------------------------------------------------


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The boxes that tile ``data`` exactly: (type, body) pairs."""
    found = []
    offset = 0
    while offset < len(data):
        assert len(data) - offset >= 8
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert 8 <= size <= len(data) - offset, f"{kind!r} has a bad size {size}"
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    assert offset == len(data)
    return found


@pytest.mark.parametrize("fragmented", [False, True])
def test_mp4_bytes_boxes_tile_the_file(fragmented: bool) -> None:
    data = mp4_bytes(100, seed=7, fragmented=fragmented)
    top = boxes(data)
    kinds = [kind for kind, _ in top]
    assert kinds == ([b"ftyp", b"moov", b"moof", b"mdat"] if fragmented else [b"ftyp", b"moov", b"mdat"])
    ftyp = dict(top)[b"ftyp"]
    assert ftyp[:4] == b"isom" and struct.unpack(">I", ftyp[4:8])[0] == 0x200
    assert ftyp[8:] == b"isomiso2mp41"
    assert dict(top)[b"mdat"] == random.Random(7).randbytes(100)
    moov = boxes(dict(top)[b"moov"])
    assert moov[0][0] == b"mvhd" and len(moov[0][1]) == 100  # version 0 mvhd: 108 bytes in all
    if fragmented:
        assert [kind for kind, _ in moov] == [b"mvhd", b"mvex"] and boxes(moov[1][1])[0][0] == b"trex"
        moof = boxes(dict(top)[b"moof"])
        assert [kind for kind, _ in moof] == [b"mfhd", b"traf"]
        assert [kind for kind, _ in boxes(moof[1][1])] == [b"tfhd", b"trun"]
    assert mp4_bytes(100, seed=7, fragmented=fragmented) == data
    assert mp4_bytes(100, seed=8, fragmented=fragmented) != data


def test_default_output_is_a_small_mp4() -> None:
    fake = FakeOpenRouter()
    assert fake.default_output == mp4_bytes(16)
    assert len(fake.default_output) < 200
    assert [kind for kind, _ in boxes(fake.default_output)] == [b"ftyp", b"moov", b"mdat"]
    assert mp4_bytes(0)[-8:] == b"\x00\x00\x00\x08mdat"


def test_fake_video_keeps_its_defaults() -> None:
    video = FakeVideo(b"abc")
    assert video.etag.startswith('"') and video.validators == "both" and video.headers == {}


def test_rate_is_a_cap_per_connection_and_open_connections_are_counted(fake: FakeOpenRouter) -> None:
    # Like nginx's limit_rate: three connections at once each get the rate, so together they take
    # about as long as one (a cap shared by the server would take three times as long).
    size, rate = 40_000, 100_000.0  # 0.4 s per response
    fake.add_video("job-1", bytes(size))
    fake.rate = rate
    seconds: list[float] = []
    during: list[int] = []

    def fetch() -> None:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        try:
            connection.request(
                "GET", "/api/v1/videos/job-1/content", headers={"Authorization": f"Bearer {fake.api_key}"}
            )
            response = connection.getresponse()
            during.append(fake.open_connections)
            assert len(response.read()) == size
        finally:
            connection.close()
        seconds.append(time.monotonic() - started)

    started = time.monotonic()
    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    together = time.monotonic() - started
    assert len(seconds) == 3 and min(seconds) >= 0.8 * size / rate  # paced (bar the last step)
    assert together < 2 * size / rate, f"3 connections took {together:.2f} s: the cap is shared"
    assert fake.peak_connections == 3 and max(during) == 3
    deadline = time.monotonic() + 5
    while fake.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.open_connections == 0


# -- 7. signed URLs: the storage origin, expiry, refresh, continuation (plain httpx) ---------------


@pytest.fixture
def api(fake: FakeOpenRouter) -> Iterator[httpx.Client]:
    """An httpx client with the key, for the API origin."""
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as c:
        yield c


def signed(api: httpx.Client, job: str = JOB, index: int = 0) -> tuple[str, dict[str, object]]:
    """The signed URL of output ``index`` from one read of the job, and the job's JSON."""
    body = api.get(f"/videos/{job}").json()
    return body["urls"][index], body


def test_storage_is_another_origin_with_validators_of_its_own(
    fake: FakeOpenRouter, api: httpx.Client
) -> None:
    modified = "Wed, 01 Jan 2025 00:00:00 GMT"
    fake.add_video(JOB, DATA, last_modified=modified)
    url, _ = signed(api)
    assert url.startswith(fake.storage_origin + "/storage/") and fake.storage_origin.startswith(
        "http://127.0.0.2:"
    )
    assert fake.storage_origin != fake.origin
    content = api.get(f"/videos/{JOB}/content").headers["etag"]
    whole = httpx.get(url)  # no key
    etag = whole.headers["etag"]
    assert whole.status_code == 200 and whole.content == DATA
    assert etag == '"s3-' + hashlib.md5(DATA).hexdigest() + '"' != content
    assert whole.headers["last-modified"] == modified  # like the video's
    part = httpx.get(url, headers={"Range": "bytes=100-", "If-Range": etag})
    assert part.status_code == 206 and part.content == DATA[100:]
    assert part.headers["content-range"] == f"bytes 100-{len(DATA) - 1}/{len(DATA)}"
    assert httpx.get(url, headers={"Range": "bytes=100-", "If-Range": content}).status_code == 200
    origins = [(r.origin, r.path.startswith("/storage/")) for r in fake.requests]
    assert origins.count(("storage", True)) == 3 and ("api", False) in origins


def test_storage_refuses_and_records_an_authorization(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    url, _ = signed(api)
    refused = httpx.get(url, headers={"Authorization": f"Bearer {fake.api_key}"})
    assert refused.status_code == 400 and "error" in refused.json()
    assert fake.storage_authorization == [httpx.URL(url).path]


def test_storage_faults_are_queued_for_their_own_route(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    url, _ = signed(api)
    fake.enqueue(Cut(1000), route="storage")
    assert api.get(f"/videos/{JOB}/content").content == DATA  # the content endpoint is not cut
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    assert httpx.get(url).content == DATA and fake.pending_faults == 0


def test_an_expired_or_badly_signed_url_gets_s3s_xml_403(fake: FakeOpenRouter) -> None:
    fake.add_video(JOB, DATA)
    expired = httpx.get(fake.signed_url(JOB, 0, int(time.time()) - 60))
    assert expired.status_code == 403 and expired.headers["content-type"] == "application/xml"
    assert expired.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>')
    assert (
        "<Message>Request has expired</Message><Expires>" in expired.text and "<ServerTime>" in expired.text
    )
    forged = httpx.get(fake.signed_url(JOB, 0, int(time.time()) + 60)[:-4] + "0000")
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text


def test_expire_drops_the_urls_and_the_old_ones_fail(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    url, body = signed(api)
    assert body["status"] == "completed" and isinstance(body["expires_at"], int)
    fake.expire(JOB)
    after = api.get(f"/videos/{JOB}").json()
    assert "urls" not in after and "expires_at" not in after and after["unsigned_urls"]
    gone = httpx.get(url)
    assert gone.status_code == 403 and "Request has expired" in gone.text
    assert api.get(f"/videos/{JOB}/content").status_code == 410  # the output is gone with its copy
    fake.content_outlives_copy = True
    assert api.get(f"/videos/{JOB}/content").content == DATA  # unless the content endpoint outlives it


def test_each_read_signs_afresh_unless_refresh_urls_is_off(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    (first, one), (second, two) = signed(api), signed(api)
    assert first != second and one["expires_at"] == two["expires_at"]
    assert httpx.get(first).content == httpx.get(second).content == DATA
    fake.refresh_urls = False
    assert signed(api)[0] == signed(api)[0]


def test_store_makes_the_stored_copy_differ_until_add_video(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    other = bytes(reversed(DATA))  # same size, other bytes
    fake.store(JOB, other)
    url, _ = signed(api)
    assert httpx.get(url).content == other and api.get(f"/videos/{JOB}/content").content == DATA
    fake.add_video(JOB, DATA[:100])  # a new output: the stored copy follows
    assert httpx.get(url).content == DATA[:100]


def test_gone_makes_the_content_endpoint_answer_410(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    fake.gone(JOB)
    answer = api.get(f"/videos/{JOB}/content")
    assert answer.status_code == 410 and answer.json()["error"]["code"] == 410


def test_add_video_makes_a_completed_job(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    fake.add_video(JOB, DATA[:10], index=1)
    body = api.get(f"/videos/{JOB}").json()
    assert body["status"] == "completed" and len(body["unsigned_urls"]) == len(body["urls"]) == 2
    assert httpx.get(body["urls"][1]).content == DATA[:10]


def test_previous_job_id_must_name_a_completed_job(fake: FakeOpenRouter, api: httpx.Client) -> None:
    fake.add_video(JOB, DATA)
    made = api.post("/videos", json={"model": "google/veo-3.1", "prompt": "on", "previous_job_id": JOB})
    assert made.status_code == 202 and fake.job(made.json()["id"]).request["previous_job_id"] == JOB
    unknown = api.post("/videos", json={"model": "google/veo-3.1", "prompt": "on", "previous_job_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "Job nope not found"
    pending = api.post(
        "/videos", json={"model": "google/veo-3.1", "prompt": "on", "previous_job_id": made.json()["id"]}
    )
    assert pending.status_code == 400 and "not completed" in pending.json()["error"]["message"]
