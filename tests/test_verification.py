"""Proof of completeness before a file is committed, sync and async, against the real loopback fake
server: close-delimited and chunked bodies proven by a range probe or by their MP4 boxes, lengths that do
not add up, digests (Repr-Digest, Content-Digest, Digest), and sniffing what is and is not a video."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from harness import Harness, _content_requests, content_requests, files, no_temp_files, noise, ranges
from helpers_wire import RawServer, Reply, response
from openrouter_video import (
    IncompleteDownloadError,
    IntegrityError,
    RetryPolicy,
    UnexpectedContentError,
    VideoClient,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.testing import (
    Cut,
    EndEarly,
    FakeOpenRouter,
    RecordedRequest,
    Status,
    digest_headers,
    mp4_bytes,
)

KEY = "sk-or-v1-" + "k3y" * 12


# -- close-delimited and chunked bodies are proven complete, never assumed --------------------------


def test_close_delimited_body_that_is_cut_is_continued_not_committed(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    h.fake.enqueue(Cut(at=100_000))  # a clean close: no length says it was cut
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={100_000 - OVERLAP}-"]
    assert result.verified == "content-range"
    assert files(tmp_path) == ["out.mp4"]


def test_complete_close_delimited_body_is_proven_by_a_range_probe(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={len(payload) - OVERLAP}-"]
    assert result.verified == "range-probe"


def test_close_delimited_mp4_is_probed_or_else_proven_by_its_boxes(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(200_000, seed=3)
    h.fake.add_video("job-1", video)
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert ranges(h.fake) == [None, f"bytes={len(video) - OVERLAP}-"] and result.verified == "range-probe"
    h.fake.ignore_range = True  # no way to ask: the box walk is the proof
    result = h.download("job-1", tmp_path / "again.mp4", source="api")
    assert (tmp_path / "again.mp4").read_bytes() == video and result.verified == "mp4"


def test_close_delimited_cut_from_a_server_without_ranges_is_an_error_not_a_file(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    h.fake.ignore_range = True
    h.fake.enqueue(Cut(at=100_000))
    with pytest.raises(IncompleteDownloadError, match="ignores Range"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert not (tmp_path / "out.mp4").exists()
    assert len(content_requests(h.fake)) == 2


def test_chunked_stream_that_ends_cleanly_mid_mp4_is_resumed(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(300_000, seed=4)
    h.fake.add_video("job-1", video)
    h.fake.framing = "chunked"
    h.fake.enqueue(EndEarly(at=150_000))  # a proxy ends the chunked stream when its upstream failed
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert ranges(h.fake) == [None, f"bytes={150_000 - OVERLAP}-"]
    assert result.verified == "content-range"


def test_chunked_body_that_is_not_mp4_is_complete_at_its_last_chunk(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "chunked"
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.verified == "chunked" and len(content_requests(h.fake)) == 1


def test_a_chunked_body_shorter_than_its_content_length_is_never_committed(
    raw: RawServer, tmp_path: Path
) -> None:
    """Transfer-Encoding: chunked and Content-Length: 1000000, a chunked body that ends cleanly at
    400,000 bytes of a WebM: it was committed as complete (verified="chunked")."""
    webm = b"\x1a\x45\xdf\xa3" + os.urandom(400_000 - 4)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(webm[i : i + 50_000]), webm[i : i + 50_000])
        for i in range(0, len(webm), 50_000)
    )
    head = ["Content-Type: video/webm", "Transfer-Encoding: chunked", "Content-Length: 1000000", 'ETag: "v1"']
    for _ in range(10):
        raw.script(Reply(response("200 OK", head, chunks + b"0\r\n\r\n")))
    policy = RetryPolicy(max_attempts=2, sleep=lambda s: None)
    with VideoClient(api_key=KEY, base_url=raw.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError):
            client.download("job-1", tmp_path / "x.webm", max_connections=1, source="api")
    assert not (tmp_path / "x.webm").exists()


# -- MP4 boxes ---------------------------------------------------------------------------------------


def test_mp4_whose_boxes_do_not_add_up_is_never_committed(h: Harness, tmp_path: Path) -> None:
    broken = mp4_bytes(100_000)[:-10]  # the server itself serves a short file, with a matching length
    h.fake.add_video("job-1", broken)
    with pytest.raises(IncompleteDownloadError, match="MP4 is incomplete"):
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2), source="api")
    assert not (tmp_path / "out.mp4").exists()
    assert ranges(h.fake) == [None, None]  # downloaded again from 0 once, then given up


def boxes(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, type) of the top-level boxes of a well-formed MP4 with 32-bit sizes."""
    found, offset = [], 0
    while offset < len(data):
        found.append((offset, data[offset + 4 : offset + 8]))
        offset += struct.unpack(">I", data[offset : offset + 4])[0]
    return found


def mp4_with_mdat_to_end_of_file(payload_size: int) -> bytes:
    """A complete MP4 whose last box, ``mdat``, has size 0: "runs to the end of the file"."""
    data = mp4_bytes(payload_size)
    offset = dict((kind, at) for at, kind in boxes(data))[b"mdat"]
    return data[:offset] + struct.pack(">I", 0) + data[offset + 4 :]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_a_cut_mp4_whose_mdat_runs_to_end_of_file_is_never_committed(
    h: Harness, tmp_path: Path, framing: str
) -> None:
    data = mp4_with_mdat_to_end_of_file(300_000)
    h.fake.add_video("job-1", data)
    h.fake.framing = framing
    # close: the connection closes at 200 000; chunked: a proxy ends the stream cleanly there
    h.fake.enqueue(Cut(at=200_000) if framing == "close" else EndEarly(at=200_000))
    try:
        result = h.download("job-1", tmp_path / "out.mp4", source="api")
    except IncompleteDownloadError:
        assert not (tmp_path / "out.mp4").exists()
        return
    assert (tmp_path / "out.mp4").read_bytes() == data, f"committed {result.size} of {len(data)} bytes"


def fragmented_mp4(fragments: int, fragment_payload: int) -> tuple[bytes, list[int]]:
    """ftyp, moov, then ``fragments`` moof+mdat pairs; also the offsets where each fragment ends."""
    base = mp4_bytes(16, fragmented=True)
    parts = {kind: base[at : at + struct.unpack(">I", base[at : at + 4])[0]] for at, kind in boxes(base)}
    data = parts[b"ftyp"] + parts[b"moov"]
    ends = []
    for i in range(fragments):
        payload = noise(fragment_payload, seed=i)
        data += parts[b"moof"] + struct.pack(">I", 8 + len(payload)) + b"mdat" + payload
        ends.append(len(data))
    return data, ends


@pytest.mark.timeout(30)
def test_a_chunked_fragmented_mp4_ended_at_a_fragment_boundary_is_never_committed(
    h: Harness, tmp_path: Path
) -> None:
    data, ends = fragmented_mp4(fragments=4, fragment_payload=100_000)
    h.fake.add_video("job-1", data)
    h.fake.framing = "chunked"
    h.fake.enqueue(EndEarly(at=ends[1]))  # the upstream failed after two of four fragments
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == data, f"committed {result.size} of {len(data)} bytes"


def _ftyp_moov() -> bytes:
    data = mp4_bytes(16)
    return data[: dict((kind, at) for at, kind in boxes(data))[b"mdat"]]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "body",
    [
        struct.pack(">I", 8) + b"ftyp",  # an 8-byte file
        _ftyp_moov() + struct.pack(">I", 0xFFFFFFF0) + b"mdat" + noise(1000),  # absurd 32-bit size
        _ftyp_moov() + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 2**63) + noise(1000),
        _ftyp_moov() + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 8) + noise(1000),  # 64-bit < 16
    ],
    ids=["8-bytes", "huge-32", "huge-64", "64-bit-too-small"],
)
def test_an_mp4_whose_boxes_do_not_add_up_is_never_committed_even_with_the_right_length(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    h.fake.add_video("job-1", body)
    with pytest.raises(IncompleteDownloadError):
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2), source="api")
    assert not (tmp_path / "out.mp4").exists()


def _box(kind: bytes, body: bytes, *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(body)) + body
    return struct.pack(">I", 8 + len(body)) + kind + body


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "body",
    [
        _box(b"free", b"\0" * 32) + _ftyp_moov() + _box(b"mdat", noise(200_000)),  # free first
        _ftyp_moov() + _box(b"mdat", noise(200_000), large=True),  # 64-bit mdat
        _box(b"wide", b"") + _ftyp_moov() + _box(b"mdat", noise(200_000)),  # QuickTime's wide atom
    ],
    ids=["free-first", "64-bit-mdat", "wide-first"],
)
def test_odd_but_complete_close_delimited_mp4s_are_proven_by_their_boxes(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    h.fake.add_video("job-1", body, content_type="application/octet-stream")
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == body
    # a close-delimited body is always probed when the server takes ranges (a cut between two
    # whole-looking top-level boxes also walks as complete) ...
    assert result.verified == "range-probe" and len(content_requests(h.fake)) == 2
    # ... and when it does not, the boxes are the proof
    h.fake.ignore_range = True
    result = h.download("job-1", tmp_path / "again.mp4", source="api")
    assert (tmp_path / "again.mp4").read_bytes() == body
    assert result.verified == "mp4" and len(content_requests(h.fake)) == 4


def test_a_complete_but_malformed_mp4_is_fetched_twice_at_most_and_named_plainly(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """Content-Length met, but no moov box: it was fetched five times and called "incomplete"."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isommp41"
    mdat = struct.pack(">I", 8 + 100_000) + b"mdat" + os.urandom(100_000)
    fake.add_video("job-1", ftyp + mdat)
    policy = RetryPolicy(max_attempts=5, sleep=lambda s: None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError) as caught:
            client.download("job-1", tmp_path / "x.mp4", max_connections=1, source="api")
    assert "the server's file is not a complete MP4" in str(caught.value) and "moov" in str(caught.value)
    assert _content_requests(fake) == 2


# -- digests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Content-MD5", "Repr-Digest", "x-goog-hash", "x-amz-checksum-sha256"])
def test_a_matching_digest_verifies_the_file(h: Harness, payload: bytes, tmp_path: Path, header: str) -> None:
    h.fake.add_video("job-1", payload, headers={header: digest_headers(payload)[header]})
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "digest"


def test_a_wrong_digest_is_retried_once_from_zero_and_never_committed(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    wrong = {k: v for k, v in digest_headers(payload, wrong=True).items() if k == "Repr-Digest"}
    h.fake.add_video("job-1", payload, headers=wrong)
    with pytest.raises(IntegrityError, match="sha256"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert ranges(h.fake) == [None, None]
    assert files(tmp_path) == []  # not even a partial: it could only fail again


@pytest.mark.timeout(30)
def test_a_right_repr_digest_sent_only_on_206_does_not_discard_the_download(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    video = h.fake.add_video("job-1", payload)
    right = {"Repr-Digest": digest_headers(payload)["Repr-Digest"]}

    def digest_on_ranges_only(request: RecordedRequest) -> None:
        video.headers = right if "range" in request.headers else {}

    h.fake.on_request = digest_on_ranges_only
    h.fake.enqueue(Cut(at=200_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={200_000 - OVERLAP}-"], "the 200 000 bytes were downloaded again"
    assert result.verified in ("digest", "content-range")


@pytest.mark.timeout(30)
def test_malformed_or_unsupported_digest_headers_are_ignored(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video(
        "job-1",
        payload,
        headers={
            "Content-MD5": "not base64!",
            "Repr-Digest": "sha-384=:AAAA:, sha-256=:@@@:, sha-512=:QUJD:",  # unsupported, bad, short
            "Content-Digest": "unixsum=:AAAA:",
            "x-goog-hash": "crc32c=AAAAAA==, md5=short",
            "x-amz-checksum-sha256": "dGVu",
        },
    )
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "content-length"


@pytest.mark.timeout(30)
def test_a_content_digest_on_a_206_describes_that_body_not_the_file(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    video = h.fake.add_video("job-1", payload)
    of_the_range = {k: v for k, v in digest_headers(payload[100_000:]).items() if k != "Repr-Digest"}

    def per_response(request: RecordedRequest) -> None:
        video.headers = of_the_range if "range" in request.headers else {}

    h.fake.on_request = per_response
    h.fake.enqueue(Cut(at=200_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "content-range"
    assert ranges(h.fake) == [None, f"bytes={200_000 - OVERLAP}-"]


# -- sniff before you save ---------------------------------------------------------------------------


def test_200_with_an_html_body_is_unexpected_content(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(200, html=True, body=b"<html><title>Sign in to Wi-Fi</title></html>"))
    with pytest.raises(UnexpectedContentError) as caught:
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert "Sign in to Wi-Fi" in str(caught.value)
    assert len(h.fake.requests) == 1
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_html_labelled_video_mp4_is_unexpected_content(h: Harness, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><title>Access denied</title></head><body>" + b"x" * 2000
    h.fake.add_video("job-1", page, content_type="video/mp4")
    with pytest.raises(UnexpectedContentError, match="Access denied"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert files(tmp_path) == [] and len(content_requests(h.fake)) == 1


def test_json_labelled_octet_stream_is_unexpected_content(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video(
        "job-1", b'{"error": {"code": 403, "message": "no"}}', content_type="application/octet-stream"
    )
    with pytest.raises(UnexpectedContentError):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert files(tmp_path) == []


def test_an_empty_200_is_an_error(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video("job-1", b"")
    with pytest.raises(UnexpectedContentError, match="empty body"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert files(tmp_path) == []


def test_an_mp4_labelled_text_plain_is_a_video(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(5000)
    h.fake.add_video("job-1", video, content_type="text/plain")
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == video and result.verified == "content-length"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("start", [b"<", b"{", b"[", b"<html>", b"\xef\xbb\xbf<?xml"])
def test_binary_that_starts_like_markup_or_json_is_still_a_video(
    h: Harness, tmp_path: Path, start: bytes
) -> None:
    body = start + noise(100_000)
    h.fake.add_video("job-1", body)
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == body and result.verified == "content-length"
