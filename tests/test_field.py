"""The field failures of issue 10, one or more tests per row, each against the real loopback fake
server, for the sync and the async client: the bytes committed, the requests and headers the server
saw, and what is left on disk.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import MODES, Harness, content_requests
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openrouter_video import (
    APIConnectionError,
    DeadlineExceededError,
    DownloadLockedError,
    IncompleteDownloadError,
    IntegrityError,
    InternalServerError,
    InvalidRequestError,
    RetryPolicy,
    UnexpectedContentError,
    VideoClient,
    cleanup_partials,
    safe_filename,
)
from openrouter_video.engine.core import OVERLAP, DownloadCore, Fail, Retry
from openrouter_video.io.http import failure
from openrouter_video.testing import (
    Cut,
    EndEarly,
    FakeOpenRouter,
    Outage,
    RecordedRequest,
    Stall,
    Status,
    Trickle,
    digest_headers,
    mp4_bytes,
)

MIB = 1024 * 1024


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Harness:
    return Harness(request.param, fake)


def ranges(fake: FakeOpenRouter) -> list[str | None]:
    return [r.headers.get("range") for r in content_requests(fake)]


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- row 1: close-delimited bodies are proven complete, never assumed --------------------------------
def test_close_delimited_body_that_is_cut_is_continued_not_committed(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    h.fake.enqueue(Cut(at=100_000))  # a clean close: no length says it was cut
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={100_000 - OVERLAP}-"]
    assert result.verified == "content-range"
    assert files(tmp_path) == ["out.mp4"]


def test_complete_close_delimited_body_is_proven_by_a_range_probe(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={len(payload) - OVERLAP}-"]
    assert result.verified == "range-probe"


def test_close_delimited_mp4_is_probed_or_else_proven_by_its_boxes(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(200_000, seed=3)
    h.fake.add_video("job-1", video)
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert ranges(h.fake) == [None, f"bytes={len(video) - OVERLAP}-"] and result.verified == "range-probe"
    h.fake.ignore_range = True  # no way to ask: the box walk is the proof
    result = h.download("job-1", tmp_path / "again.mp4")
    assert (tmp_path / "again.mp4").read_bytes() == video and result.verified == "mp4"


def test_close_delimited_cut_from_a_server_without_ranges_is_an_error_not_a_file(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "close"
    h.fake.ignore_range = True
    h.fake.enqueue(Cut(at=100_000))
    with pytest.raises(IncompleteDownloadError, match="ignores Range"):
        h.download("job-1", tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    assert len(content_requests(h.fake)) == 2


def test_chunked_stream_that_ends_cleanly_mid_mp4_is_resumed(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(300_000, seed=4)
    h.fake.add_video("job-1", video)
    h.fake.framing = "chunked"
    h.fake.enqueue(EndEarly(at=150_000))  # a proxy ends the chunked stream when its upstream failed
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert ranges(h.fake) == [None, f"bytes={150_000 - OVERLAP}-"]
    assert result.verified == "content-range"


def test_chunked_body_that_is_not_mp4_is_complete_at_its_last_chunk(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.framing = "chunked"
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.verified == "chunked" and len(content_requests(h.fake)) == 1


def test_mp4_whose_boxes_do_not_add_up_is_never_committed(h: Harness, tmp_path: Path) -> None:
    broken = mp4_bytes(100_000)[:-10]  # the server itself serves a short file, with a matching length
    h.fake.add_video("job-1", broken)
    with pytest.raises(IncompleteDownloadError, match="MP4 is incomplete"):
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2))
    assert not (tmp_path / "out.mp4").exists()
    assert ranges(h.fake) == [None, None]  # downloaded again from 0 once, then given up


# -- row 2: small pieces ----------------------------------------------------------------------------
def test_700_byte_chunks_are_gathered_into_whole_buffers(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(3 * MIB)  # ~1500 chunks of 700 bytes per 1 MiB writer buffer, straddling them
    h.fake.add_video("job-1", payload)
    h.fake.framing = "chunked"
    h.fake.chunk_size = 700
    h.download("job-1", tmp_path / "out.mp4")  # no checksum: the writer thread alone
    assert (tmp_path / "out.mp4").read_bytes() == payload
    result = h.download("job-1", tmp_path / "hashed.mp4", checksum="sha256")
    assert result.sha256 == hashlib.sha256(payload).hexdigest()


def test_without_os_writev_downloads_still_work(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "writev")  # as on Windows
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=100_000))
    h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload


# -- row 3: resume never splices -------------------------------------------------------------------
def _change_after_first(fake: FakeOpenRouter, new: bytes, **video: Any) -> None:
    def change(request: RecordedRequest) -> None:
        if len(fake.requests) == 2:
            fake.add_video("job-1", new, **video)

    fake.on_request = change


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"etag": '"v1"'}, {"etag": '"v2"'}),  # quoted ETags, If-Range ignored
        ({"etag": "v1"}, {"etag": "v2"}),  # unquoted ETags
        (
            {"validators": "last-modified"},
            {"validators": "last-modified", "last_modified": "Wed, 25 Nov 2026"},
        ),
        ({"etag": '"same"'}, {"etag": '"same"'}),  # a server that does not change its ETag
        ({"validators": "none"}, {"validators": "none"}),  # no validator at all
    ],
    ids=["etag", "unquoted-etag", "last-modified-only", "unchanged-etag", "no-validators"],
)
def test_changed_content_behind_a_server_that_ignores_if_range_is_never_spliced(
    h: Harness, payload: bytes, tmp_path: Path, first: dict[str, Any], second: dict[str, Any]
) -> None:
    h.fake.add_video("job-1", payload, **first)
    new = os.urandom(len(payload))  # same length: only the bytes tell
    _change_after_first(h.fake, new, **second)
    h.fake.ignore_if_range = True
    h.fake.enqueue(Cut(at=150_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == new
    assert ranges(h.fake) == [None, f"bytes={150_000 - OVERLAP}-", None]
    assert result.resumes == 0


def test_a_206_without_validators_is_checked_by_its_overlap(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.validators_on_206 = False
    h.fake.enqueue(Cut(at=150_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.resumes == 1
    new = os.urandom(len(payload))
    _change_after_first(h.fake, new)
    h.fake.requests.clear()
    h.fake.ignore_if_range = True
    h.fake.enqueue(Cut(at=150_000))
    h.download("job-1", tmp_path / "out2.mp4")
    assert (tmp_path / "out2.mp4").read_bytes() == new


def test_a_weak_etag_is_not_sent_in_if_range(h: Harness, payload: bytes, tmp_path: Path) -> None:
    video = h.fake.add_video("job-1", payload, etag='W/"weak"')
    h.fake.enqueue(Cut(at=100_000))
    h.download("job-1", tmp_path / "out.mp4")
    assert content_requests(h.fake)[1].headers["if-range"] == video.last_modified


# -- row 4: sniff before you save -------------------------------------------------------------------
def test_html_labelled_video_mp4_is_unexpected_content(h: Harness, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><title>Access denied</title></head><body>" + b"x" * 2000
    h.fake.add_video("job-1", page, content_type="video/mp4")
    with pytest.raises(UnexpectedContentError, match="Access denied"):
        h.download("job-1", tmp_path / "out.mp4")
    assert files(tmp_path) == [] and len(content_requests(h.fake)) == 1


def test_json_labelled_octet_stream_is_unexpected_content(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video(
        "job-1", b'{"error": {"code": 403, "message": "no"}}', content_type="application/octet-stream"
    )
    with pytest.raises(UnexpectedContentError):
        h.download("job-1", tmp_path / "out.mp4")
    assert files(tmp_path) == []


def test_an_empty_200_is_an_error(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video("job-1", b"")
    with pytest.raises(UnexpectedContentError, match="empty body"):
        h.download("job-1", tmp_path / "out.mp4")
    assert files(tmp_path) == []


def test_an_mp4_labelled_text_plain_is_a_video(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(5000)
    h.fake.add_video("job-1", video, content_type="text/plain")
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video and result.verified == "content-length"


# -- row 6: progress is kept across calls ---------------------------------------------------------
def test_a_call_that_fails_at_90_percent_is_continued_by_the_next(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(2 * MIB)
    h.fake.add_video("job-1", payload)
    at = len(payload) * 9 // 10
    h.fake.enqueue(Cut(at=at), Status(503), Status(503))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2, resume_window=0))
    part = tmp_path / ".out.mp4.part"
    assert caught.value.partial_path == part and part.read_bytes() == payload[:at]
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.resumed_from == at and ranges(h.fake)[-1] == f"bytes={at - OVERLAP}-"
    assert files(tmp_path) == ["out.mp4"]


def _can_reserve(directory: Path) -> bool:
    """Whether fallocate reserves blocks here (checked without the package's own helper)."""
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    probe = directory / "probe"
    with open(probe, "wb") as f:
        done = libc.fallocate(f.fileno(), 1, ctypes.c_int64(0), ctypes.c_int64(4 * MIB)) == 0
        reserved = done and os.fstat(f.fileno()).st_blocks * 512 >= 4 * MIB
    probe.unlink()
    return reserved


def test_the_partial_reserves_the_whole_size_but_its_length_is_what_was_written(
    h: Harness, tmp_path: Path
) -> None:
    """Blocks for the whole video are reserved up front (fallocate, KEEP_SIZE: 1.3-1.6 -> 2.3-2.4
    GB/s to ext4); the length stays the bytes written, which is what the next call resumes from."""
    if not _can_reserve(tmp_path):
        pytest.skip("this filesystem does not reserve blocks with fallocate")
    payload = os.urandom(4 * MIB)
    h.fake.add_video("job-1", payload)
    at = MIB
    h.fake.enqueue(Cut(at=at), Status(503), Status(503))
    with pytest.raises(InternalServerError):
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2, resume_window=0))
    part = os.stat(tmp_path / ".out.mp4.part")
    assert part.st_size == at and part.st_blocks * 512 >= len(payload)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=1)
    assert result.resumed_from == at and (tmp_path / "out.mp4").read_bytes() == payload


def test_a_partial_of_other_content_is_not_continued(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=150_000), Status(404))
    with pytest.raises(Exception, match="404"):
        h.download("job-1", tmp_path / "out.mp4")
    new = os.urandom(len(payload))
    h.fake.add_video("job-1", new)  # replaced meanwhile (a new ETag): If-Range gets a 200
    h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == new


def test_a_second_download_to_the_same_destination_is_refused_while_the_first_runs(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=1.0))
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(h.download("job-1", tmp_path / "out.mp4")))
    first.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / ".out.mp4.part").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    with VideoClient(api_key=h.fake.api_key, base_url=h.fake.base_url) as client:
        with pytest.raises(DownloadLockedError, match=r"out\.mp4"):
            client.download("job-1", tmp_path / "out.mp4")
    first.join(timeout=20)
    assert (tmp_path / "out.mp4").read_bytes() == payload and len(results) == 1


def test_stale_partials_are_swept_when_a_download_starts(h: Harness, payload: bytes, tmp_path: Path) -> None:
    old = tmp_path / ".old.mp4.part"
    old.write_bytes(b"x")
    (tmp_path / ".old.mp4.part.state").write_text("{}")
    young = tmp_path / ".young.mp4.part"
    young.write_bytes(b"y")
    (tmp_path / ".young.mp4.part.state").write_text("{}")
    (tmp_path / ".not-ours.part").write_bytes(b"a user's file")  # no state file: never touched
    os.utime(tmp_path / ".not-ours.part", (time.time() - 8 * 24 * 3600,) * 2)
    week_ago = time.time() - 8 * 24 * 3600
    for path in (old, tmp_path / ".old.mp4.part.state"):
        os.utime(path, (week_ago, week_ago))
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4")
    assert files(tmp_path) == [".not-ours.part", ".young.mp4.part", ".young.mp4.part.state", "out.mp4"]
    assert cleanup_partials(tmp_path, older_than=0) == [young, tmp_path / ".young.mp4.part.state"]
    assert files(tmp_path) == [".not-ours.part", "out.mp4"]


def test_the_sweep_runs_at_most_once_a_minute_per_directory(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listing the directory on every download made a directory of thousands of videos cost about a
    # millisecond per download (half of a small async download's CPU); once a minute is enough for
    # partials that go stale after days.
    from openrouter_video.io import journal as _journal

    clock = [1000.0]
    monkeypatch.setattr(_journal, "_sweep_clock", lambda: clock[0], raising=False)
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "a.mp4")  # sweeps (nothing to remove)
    stale = tmp_path / ".old.mp4.part"
    stale.write_bytes(b"x")
    (tmp_path / ".old.mp4.part.state").write_text("{}")
    week_ago = time.time() - 8 * 24 * 3600
    for path in (stale, tmp_path / ".old.mp4.part.state"):
        os.utime(path, (week_ago, week_ago))
    clock[0] += 59
    h.download("job-1", tmp_path / "b.mp4")
    assert stale.exists(), "swept again within the interval"
    other = tmp_path / "other"
    h.download("job-1", other / "c.mp4")  # another directory has its own schedule
    clock[0] += 1
    h.download("job-1", tmp_path / "d.mp4")
    assert files(tmp_path) == ["a.mp4", "b.mp4", "d.mp4", "other"]


# -- row 7: an outage --------------------------------------------------------------------------------
def test_an_outage_mid_download_is_ridden_out(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(MIB)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Outage(at=500_000, seconds=1.5))
    policy = RetryPolicy(
        max_attempts=2, initial_delay=0.1, max_delay=0.3, jitter=lambda: 1.0, resume_window=10
    )
    result = h.download("job-1", tmp_path / "out.mp4", retry=policy)
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={500_000 - OVERLAP}-"]
    assert result.attempts >= 4  # refused connections in between, beyond max_attempts=2


def test_an_outage_longer_than_the_window_fails_and_keeps_the_partial(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(MIB)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Outage(at=500_000, seconds=3))
    policy = RetryPolicy(
        max_attempts=2, initial_delay=0.1, max_delay=0.1, jitter=lambda: 1.0, resume_window=0.3
    )
    with pytest.raises(APIConnectionError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=policy)
    assert caught.value.partial_path is not None
    assert caught.value.partial_path.read_bytes() == payload[:500_000]


def test_the_default_policy_rides_out_a_30_s_outage_after_progress() -> None:
    now = [0.0]
    policy = RetryPolicy(clock=lambda: now[0])
    core = DownloadCore(policy, what="t")
    core.request_headers()
    core.on_response(200, {"content-length": str(10 * MIB)})
    assert isinstance(core.on_body_end(MIB, failure(httpx.ReadError("reset")), tail=b"x" * OVERLAP), Retry)
    waited = 0.0
    while True:
        core.request_headers()
        action = core.on_request_error(failure(httpx.ConnectError("refused")))
        if isinstance(action, Fail):
            break
        assert isinstance(action, Retry)
        now[0] += action.delay
        waited = now[0]
    assert waited >= 30 and policy.resume_window <= waited + policy.max_delay
    assert core.attempts > policy.max_attempts


def test_before_any_progress_the_attempt_count_applies() -> None:
    now = [0.0]
    core = DownloadCore(RetryPolicy(clock=lambda: now[0], jitter=lambda: 1.0), what="t")
    actions = []
    for _ in range(10):
        core.request_headers()
        actions.append(core.on_request_error(failure(httpx.ConnectError("refused"))))
        if isinstance(actions[-1], Fail):
            break
    assert [type(a) for a in actions] == [Retry] * 4 + [Fail]


# -- row 8: a trickle -----------------------------------------------------------------------------
def test_a_trickling_server_uses_up_the_attempts(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(MIB)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(*(Trickle(at=300_000, interval=0.02) for _ in range(5)))
    policy = h.policy(max_attempts=3, min_speed=(10_000, 0.25), resume_window=0.1)
    started = time.monotonic()
    with pytest.raises(IncompleteDownloadError, match="slower than"):
        h.download("job-1", tmp_path / "out.mp4", retry=policy, timeout=5)
    assert time.monotonic() - started < 5
    assert len(content_requests(h.fake)) == 4  # the first brought progress; three more did not
    assert ranges(h.fake)[1].startswith("bytes=")  # type: ignore[union-attr]


# -- deadline ----------------------------------------------------------------------------------------
def test_a_deadline_ends_a_stalled_download(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=10))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        h.download("job-1", tmp_path / "out.mp4", timeout=30, deadline=0.5)
    assert 0.4 < time.monotonic() - started < 3
    assert caught.value.partial_path is not None  # the bytes received are kept


# -- row 9: durability -----------------------------------------------------------------------------
def test_the_commit_fsyncs_the_file_before_the_rename_and_the_directory_after(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        events.append("link")
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4")
    assert events == ["fsync-file", "link", "fsync-dir"]
    events.clear()
    h.download("job-1", tmp_path / "out2.mp4", durable=False)
    assert events == ["link"]


# -- row 10 and smaller holes ------------------------------------------------------------------------
def test_job_x_output_1_and_job_x_1_output_0_get_different_files(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video("x", b"\x00" * 1000 + b"first", index=1)
    h.fake.add_video("x-1", b"\x00" * 1000 + b"second", index=0)
    a = h.download("x", tmp_path, index=1)
    b = h.download("x-1", tmp_path, index=0)
    assert a.path != b.path
    assert a.path.read_bytes().endswith(b"first") and b.path.read_bytes().endswith(b"second")


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


@pytest.mark.parametrize("job_id", [".", ".."])
def test_dot_job_ids_are_refused_before_sending(h: Harness, tmp_path: Path, job_id: str) -> None:
    with pytest.raises(InvalidRequestError):
        h.download(job_id, tmp_path / "out.mp4")
    assert h.fake.requests == []


# -- digests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("header", ["Content-MD5", "Repr-Digest", "x-goog-hash", "x-amz-checksum-sha256"])
def test_a_matching_digest_verifies_the_file(h: Harness, payload: bytes, tmp_path: Path, header: str) -> None:
    h.fake.add_video("job-1", payload, headers={header: digest_headers(payload)[header]})
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "digest"


def test_a_wrong_digest_is_retried_once_from_zero_and_never_committed(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    wrong = {k: v for k, v in digest_headers(payload, wrong=True).items() if k == "Repr-Digest"}
    h.fake.add_video("job-1", payload, headers=wrong)
    with pytest.raises(IntegrityError, match="sha256"):
        h.download("job-1", tmp_path / "out.mp4")
    assert ranges(h.fake) == [None, None]
    assert files(tmp_path) == []  # not even a partial: it could only fail again
