"""Resuming, sync and async, against the real loopback fake server: cuts and resets resumed with Range
and If-Range, content that changed never spliced, partial files kept, continued by the next call or
discarded, their state files, and the lock and sweep that guard them (also across processes, SIGKILL).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from harness import NO_SLEEP, Harness, content_requests, files, noise, ranges, source
from helpers_cli import _download_cli, wait_for
from openrouter_video import (
    AsyncVideoClient,
    DownloadLockedError,
    IncompleteDownloadError,
    InternalServerError,
    NotFoundError,
    RetryPolicy,
    UnexpectedContentError,
    VideoClient,
    cleanup_partials,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.io import journal as _journal
from openrouter_video.io.journal import lock_partial
from openrouter_video.testing import Cut, FakeOpenRouter, RecordedRequest, Stall, Status, mp4_bytes

MIB = 1024 * 1024


# -- cuts and resumes --------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [1000, 65_536, 100_000, 256 * 1024 - 1])
def test_cut_mid_body_is_resumed_with_range_and_if_range(
    h: Harness, payload: bytes, tmp_path: Path, offset: int
) -> None:
    video = h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=offset))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    first, second = content_requests(h.fake)
    assert "range" not in first.headers
    # every resume re-reads up to 64 KiB before the bytes kept, and checks them
    assert second.headers["range"] == f"bytes={max(0, offset - OVERLAP)}-"
    assert second.headers["if-range"] == video.etag
    assert second.headers["accept-encoding"] == "identity"
    assert (result.attempts, result.resumes, result.verified) == (2, 1, "content-range")
    # a resume after at least 64 KiB of progress waits for nothing; a smaller one backs off
    assert h.sleeps == ([] if offset >= OVERLAP else [0.5])


def test_connection_reset_mid_body_is_resumed(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=50_000, reset=True))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert [r.headers.get("range") for r in content_requests(h.fake)] == [None, "bytes=0-"]
    assert result.resumes == 1


def test_many_cuts_in_a_row_that_each_bring_64_KiB_do_not_use_up_the_attempts(
    h: Harness, tmp_path: Path
) -> None:
    payload = os.urandom(2 * 1024 * 1024)
    h.fake.add_video("job-1", payload)
    offsets = list(range(70_000, 1_470_000, 70_000))  # 20 cuts, far more than max_attempts=3
    h.fake.cut_at(*offsets)
    result = h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3), source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None] + [f"bytes={o - OVERLAP}-" for o in offsets]
    assert (result.attempts, result.resumes) == (21, 20)
    assert h.sleeps == []


def test_cuts_that_bring_nothing_count_and_end_in_an_error(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.cut_at(1000, 1000, 1000, 1000)  # less than 64 KiB, then nothing new: no progress
    with pytest.raises(IncompleteDownloadError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3), source="api")
    assert len(content_requests(h.fake)) == 3
    assert caught.value.received == 1000 and caught.value.expected == len(payload)
    assert h.sleeps == [0.5, 1.0]
    assert not (tmp_path / "out.mp4").exists()
    # the 1000 bytes are kept for the next call, which resumes from them
    assert caught.value.partial_path == tmp_path / ".out.mp4.part"
    assert caught.value.partial_path.read_bytes() == payload[:1000]
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.resumed_from == 1000
    assert content_requests(h.fake)[-1].headers["range"] == "bytes=0-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_stall_longer_than_the_read_timeout_is_resumed(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=5.0))
    started = time.monotonic()
    result = h.download("job-1", tmp_path / "out.mp4", timeout=0.3, source="api")
    assert time.monotonic() - started < 4.0
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None, f"bytes={100_000 - OVERLAP}-"]
    assert result.resumes == 1


def test_a_successful_resume_is_logged_at_info(
    fake: FakeOpenRouter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_video("job-abc", b"y" * 300_000)
    fake.enqueue(Cut(at=200_000))
    with caplog.at_level(logging.INFO, logger="openrouter_video"):
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-abc", tmp_path / "out.mp4", source="api")
    resumes = [r for r in caplog.records if "resuming" in r.getMessage()]
    assert len(resumes) == 1 and resumes[0].levelno == logging.INFO


def test_stream_resumes_transparently(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.cut_at(70_000, 140_000)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with client.stream("job-1", source="api") as video:
            assert (video.content_type, video.total) == ("video/mp4", len(payload))
            got = b"".join(video.iter_bytes())
        assert got == payload and video.resumes == 2
    assert [r.headers.get("range") for r in fake.requests] == [
        None,
        f"bytes={70_000 - OVERLAP}-",
        f"bytes={140_000 - OVERLAP}-",
    ]


def test_async_stream_resumes_transparently(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-1", payload)
    fake.cut_at(70_000, 140_000)

    async def run() -> bytes:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as c:
            async with c.stream("job-1", source="api") as video:
                assert (video.content_type, video.total) == ("video/mp4", len(payload))
                return b"".join([chunk async for chunk in video.aiter_bytes()])

    assert asyncio.run(run()) == payload
    assert [r.headers.get("range") for r in fake.requests] == [
        None,
        f"bytes={70_000 - OVERLAP}-",
        f"bytes={140_000 - OVERLAP}-",
    ]


# -- content that changed is never spliced -----------------------------------------------------------


def test_server_that_ignores_range_restarts_from_zero(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.ignore_range = True
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    _, second = content_requests(h.fake)
    assert second.headers["range"] == f"bytes={100_000 - OVERLAP}-"
    assert result.resumes == 0 and result.attempts == 2
    # progress went back to 0 when the download restarted
    dones = [done for done, _ in h.progress]
    restart_at = dones.index(0, 1)
    assert max(dones[:restart_at]) > 0 and dones[-1] == len(payload)


def test_206_with_a_wrong_content_range_discards_and_restarts(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.wrong_content_range = True
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None, f"bytes={100_000 - OVERLAP}-", None]
    assert result.resumes == 0


def test_changed_etag_is_never_spliced(h: Harness, payload: bytes, tmp_path: Path) -> None:
    old = h.fake.add_video("job-1", payload)
    new_payload = os.urandom(len(payload) + 1000)

    def replace_on_second(request: RecordedRequest) -> None:
        if len(h.fake.requests) == 2:
            h.fake.add_video("job-1", new_payload)

    h.fake.on_request = replace_on_second
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new_payload
    _, second = content_requests(h.fake)
    assert second.headers["if-range"] == old.etag  # the server saw the old validator ...
    assert result.size == len(new_payload)  # ... and answered 200 with the new content
    assert result.resumes == 0


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
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new
    assert ranges(h.fake) == [None, f"bytes={150_000 - OVERLAP}-", None]
    assert result.resumes == 0


def test_a_206_without_validators_is_checked_by_its_overlap(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.validators_on_206 = False
    h.fake.enqueue(Cut(at=150_000))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.resumes == 1
    new = os.urandom(len(payload))
    _change_after_first(h.fake, new)
    h.fake.requests.clear()
    h.fake.ignore_if_range = True
    h.fake.enqueue(Cut(at=150_000))
    h.download("job-1", tmp_path / "out2.mp4", source="api")
    assert (tmp_path / "out2.mp4").read_bytes() == new


def test_a_weak_etag_is_not_sent_in_if_range(h: Harness, payload: bytes, tmp_path: Path) -> None:
    video = h.fake.add_video("job-1", payload, etag='W/"weak"')
    h.fake.enqueue(Cut(at=100_000))
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert content_requests(h.fake)[1].headers["if-range"] == video.last_modified


def test_sha256_covers_only_the_final_content_after_a_restart(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    import hashlib

    h.fake.add_video("job-1", payload)
    h.fake.ignore_range = True
    h.fake.cut_at(150_000)  # the restart discards 150 000 bytes already written and hashed
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256", source="api")
    assert result.sha256 == hashlib.sha256(payload).hexdigest()
    assert (tmp_path / "out.mp4").read_bytes() == payload


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_cannot_splice_when_the_server_ignores_range(
    fake: FakeOpenRouter, payload: bytes, mode: str
) -> None:
    fake.add_video("job-1", payload)
    fake.ignore_range = True
    fake.enqueue(Cut(at=100_000))
    got = bytearray()
    config = {"api_key": fake.api_key, "base_url": fake.base_url, "retry": NO_SLEEP}
    with pytest.raises(IncompleteDownloadError, match="cannot resume"):
        if mode == "sync":
            with VideoClient(**config) as client, client.stream("job-1", source="api") as video:  # type: ignore[arg-type]
                for chunk in video.iter_bytes():
                    got += chunk
        else:

            async def run() -> None:
                async with AsyncVideoClient(**config) as c, c.stream("job-1", source="api") as video:  # type: ignore[arg-type]
                    async for chunk in video.aiter_bytes():
                        got.extend(chunk)

            asyncio.run(run())
    assert bytes(got) == payload[: len(got)] and len(got) == 100_000


# -- partial files: kept, continued, discarded -------------------------------------------------------


def test_interrupt_mid_body_leaves_old_file_and_a_resumable_partial(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.stall(at=150_000, seconds=0.3)  # the progress callback runs again when bytes follow
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old video")

    def interrupt(done: int, total: int | None) -> None:
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        h.download("job-1", dest, overwrite=True, on_progress=interrupt, source="api")
    assert dest.read_bytes() == b"old video"
    part = tmp_path / ".out.mp4.part"
    assert caught.value.partial_path == part  # type: ignore[attr-defined]
    kept = part.read_bytes()
    assert len(kept) > 100_000 and payload.startswith(kept)
    result = h.download("job-1", dest, overwrite=True, on_progress=None, source="api")
    assert dest.read_bytes() == payload and result.resumed_from == len(kept)
    assert content_requests(h.fake)[-1].headers["range"] == f"bytes={len(kept) - OVERLAP}-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_keep_partial_false_deletes_it_on_failure(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.stall(at=150_000, seconds=0.3)

    def interrupt(done: int, total: int | None) -> None:
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h.download("job-1", tmp_path / "out.mp4", on_progress=interrupt, keep_partial=False, source="api")
    assert list(tmp_path.iterdir()) == []


def test_a_call_that_fails_at_90_percent_is_continued_by_the_next(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(2 * MIB)
    h.fake.add_video("job-1", payload)
    at = len(payload) * 9 // 10
    h.fake.enqueue(Cut(at=at), Status(503), Status(503))
    with pytest.raises(InternalServerError) as caught:
        h.download(
            "job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2, resume_window=0), source="api"
        )
    part = tmp_path / ".out.mp4.part"
    assert caught.value.partial_path == part and part.read_bytes() == payload[:at]
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
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
        h.download(
            "job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2, resume_window=0), source="api"
        )
    part = os.stat(tmp_path / ".out.mp4.part")
    assert part.st_size == at and part.st_blocks * 512 >= len(payload)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=1, source="api")
    assert result.resumed_from == at and (tmp_path / "out.mp4").read_bytes() == payload


def test_a_partial_of_other_content_is_not_continued(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=150_000), Status(404))
    with pytest.raises(Exception, match="404"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    new = os.urandom(len(payload))
    h.fake.add_video("job-1", new)  # replaced meanwhile (a new ETag): If-Range gets a 200
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new


PORTAL = b"<!DOCTYPE html><html><head><title>Sign in to the Wi-Fi</title></head><body>...</body></html>"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("body", [PORTAL, b""], ids=["captive-portal-page", "empty-200"])
def test_a_200_that_is_not_the_video_never_wipes_the_kept_partial(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    payload = noise(MIB)
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=900_000), Status(404))
    with pytest.raises(NotFoundError):
        h.download("job-1", dest, source="api")
    assert part.read_bytes() == payload[:900_000]  # 90% paid for and kept
    # the resume meets a captive portal, a proxy's block page or an empty 200, all "video/mp4"
    h.fake.enqueue(Status(200, body=body, content_type="video/mp4"))
    with pytest.raises(UnexpectedContentError):
        h.download("job-1", dest, source="api")
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]
    assert part.read_bytes() == payload[:900_000]
    result = h.download("job-1", dest, source="api")
    assert dest.read_bytes() == payload and result.resumed_from == 900_000


def test_a_full_disk_keeps_what_was_written_and_says_how_much_room_is_needed(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """After ENOSPC the partial was deleted and the next run started from byte 0."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        payload = os.urandom(6 * MIB)
        fake.add_video("job-1", payload)
        policy = RetryPolicy(max_attempts=1)
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
            with pytest.raises(OSError) as caught:
                client.download("job-1", disk / "x.mp4", max_connections=1, source="api")
        assert caught.value.errno == errno.ENOSPC
        message = str(caught.value)
        assert "more bytes are needed" in message and "written and kept" in message, message
        part = disk / ".x.mp4.part"
        kept = part.stat().st_size
        assert kept >= MIB and part.read_bytes() == payload[:kept]
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            result = client.download("job-1", disk / "x.mp4", max_connections=1, source="api")
        assert result.resumed_from == kept and (disk / "x.mp4").read_bytes() == payload
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.timeout(30)
def test_a_symlinked_part_never_writes_through_to_its_target(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    victim = tmp_path / "thesis.tex"
    victim.write_bytes(b"years of work\n" * 1000)
    out = tmp_path / "videos"  # e.g. a shared, group-writable directory
    out.mkdir()
    (out / ".out.mp4.part").symlink_to(victim)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(404))  # the download fails (or would succeed: the victim is clobbered either way)
    with pytest.raises(Exception):  # noqa: B017 - a fix may refuse the symlink instead of sending
        h.download("job-1", out / "out.mp4", source="api")
    assert victim.read_bytes() == b"years of work\n" * 1000


@pytest.mark.timeout(30)
def test_overwrite_never_truncates_the_destination_through_a_hard_linked_part(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    h.fake.add_video("job-1", payload)
    h.download("job-1", dest, source="api")
    # A crash (or SIGTERM) between commit's os.link and os.unlink leaves the .part as a second name of
    # the destination. (An overwrite=True commit through such a .part does not remove it either:
    # os.replace on two names of one file is a no-op, so the next call meets it again.)
    os.link(dest, tmp_path / ".out.mp4.part")
    h.fake.enqueue(Status(404))  # the job expired meanwhile
    with pytest.raises(NotFoundError):
        h.download("job-1", dest, overwrite=True, source="api")
    assert dest.read_bytes() == payload, f"the old video is now {dest.stat().st_size} bytes"


# -- the state file ----------------------------------------------------------------------------------


def state(fake: FakeOpenRouter, **fields: Any) -> str:
    record = {"version": 1, "source": source(fake), "etag": None, "last_modified": None}
    record.update(fields)
    return json.dumps(record)


@pytest.mark.timeout(30)
def test_a_state_file_with_an_unknown_digest_algorithm_starts_again(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    (tmp_path / ".out.mp4.part").write_bytes(payload[:100_000])
    (tmp_path / ".out.mp4.part.state").write_text(
        state(h.fake, total=len(payload), digests={"crc32c": "00000000"})  # e.g. a newer release's
    )
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload


@pytest.mark.timeout(30)
def test_a_fifo_named_like_the_state_file_never_hangs_a_download(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    # Anybody who can write to a shared download directory can plant it (read_state opens without
    # O_NONBLOCK and never checks that it opened a regular file).
    fifo = tmp_path / ".out.mp4.part.state"
    os.mkfifo(fifo)
    fake.add_video("job-1", mp4_bytes(100))
    outcome: list[Any] = []

    def download() -> None:
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            try:
                outcome.append(client.download("job-1", tmp_path / "out.mp4", deadline=0.5, source="api"))
            except Exception as exc:
                outcome.append(exc)

    thread = threading.Thread(target=download, daemon=True)
    thread.start()
    thread.join(1.0)
    hung = thread.is_alive()
    if hung:  # let the blocked open() return, so that nothing outlives the test
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
    assert not hung, "still blocked opening the state file after its 0.5 s deadline"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "kind", ["truncated", "not-an-object", "other-version", "other-source", "binary", "symlink", "too-long"]
)
def test_a_broken_or_foreign_state_file_starts_again_and_touches_nothing_else(
    h: Harness, payload: bytes, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "videos"
    out.mkdir()
    victim = tmp_path / "elsewhere.json"
    victim.write_text(state(h.fake, total=len(payload)))
    part, state_file = out / ".out.mp4.part", out / ".out.mp4.part.state"
    part.write_bytes(payload[:100_000] if kind != "too-long" else payload + b"trailing bytes")
    content = {
        "truncated": state(h.fake, total=len(payload))[:25],
        "not-an-object": "[1, 2, 3]",
        "other-version": json.dumps({**json.loads(state(h.fake, total=len(payload))), "version": 2}),
        "other-source": state(h.fake, total=len(payload), source=source(h.fake, "job-2")),
        "binary": "\x00\xff\xfe" * 10,
        "too-long": state(h.fake, total=len(payload)),  # the part is longer than the total
    }
    if kind == "symlink":
        state_file.symlink_to(victim)  # a state file elsewhere, valid, but not in this directory
        part.write_bytes(b"Z" * 100_000)
    else:
        state_file.write_text(content[kind])
    h.fake.add_video("job-1", payload)
    h.download("job-1", out / "out.mp4", source="api")
    assert (out / "out.mp4").read_bytes() == payload
    assert files(out) == ["out.mp4"]
    assert victim.read_text() == state(h.fake, total=len(payload))
    if kind != "symlink":  # (the symlinked state is followed and resumed; its overlap check restarts)
        assert ranges(h.fake)[0] is None


# -- the lock and the sweep --------------------------------------------------------------------------


def test_a_second_download_to_the_same_destination_is_refused_while_the_first_runs(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=1.0))
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(h.download("job-1", tmp_path / "out.mp4", source="api"))
    )
    first.start()
    # The partial is created a moment before it is locked: wait for the first request, which is sent
    # once it is locked (waiting for the file alone let the second download win the lock now and then).
    deadline = time.monotonic() + 10
    while not h.fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    with VideoClient(api_key=h.fake.api_key, base_url=h.fake.base_url) as client:
        with pytest.raises(DownloadLockedError, match=r"out\.mp4"):
            client.download("job-1", tmp_path / "out.mp4", source="api")
    first.join(timeout=20)
    assert (tmp_path / "out.mp4").read_bytes() == payload and len(results) == 1


@pytest.mark.timeout(30)
def test_a_second_process_on_the_same_destination_is_refused_and_corrupts_nothing(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(3 * MIB)
    fake.add_video("job-abc", payload)
    fake.enqueue(Stall(at=2 * MIB, seconds=30))
    first = _download_cli(fake, tmp_path)
    part = tmp_path / ".job-abc.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    second = _download_cli(fake, tmp_path)
    _, stderr = second.communicate(timeout=10)
    assert second.returncode == 1
    assert stderr.startswith("error: another download is writing to") and "job-abc.mp4" in stderr
    assert len(content_requests(fake)) == 1  # refused before sending anything
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=10)
    assert first.returncode == 143 and part.read_bytes() == payload[: 2 * MIB]
    assert files(tmp_path) == [".job-abc.mp4.part", ".job-abc.mp4.part.state"]


@pytest.mark.timeout(30)
def test_without_flock_a_download_killed_by_sigkill_can_be_resumed(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = noise(2 * MIB)
    fake.add_video("job-1", payload)
    fake.enqueue(Stall(at=3 * MIB // 2, seconds=30))
    dest = tmp_path / "out.mp4"
    code = textwrap.dedent(
        f"""
        import openrouter_video.io.journal as journal
        journal.fcntl = None  # as on Windows
        from openrouter_video import VideoClient
        with VideoClient(api_key={fake.api_key!r}, base_url={fake.base_url!r}) as client:
            client.download("job-1", {str(dest)!r}, source="api")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        part = tmp_path / ".out.mp4.part"
        wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    finally:
        proc.kill()
        proc.wait()
    monkeypatch.setattr(_journal, "fcntl", None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        result = client.download("job-1", dest, source="api")
    assert dest.read_bytes() == payload and result.resumed_from >= MIB


@pytest.mark.timeout(30)
def test_without_flock_and_writev_the_lock_file_works_and_is_released(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_journal, "fcntl", None)
    monkeypatch.delattr(os, "writev")
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=150_000), Status(404))
    with pytest.raises(NotFoundError):
        h.download("job-1", dest, source="api")
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]  # no .lock left behind
    held = lock_partial(part, dest)  # another process is downloading it
    try:
        assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.lock", ".out.mp4.part.state"]
        with pytest.raises(DownloadLockedError, match=r"out\.mp4"):
            h.download("job-1", dest, source="api")
        assert _journal.cleanup_partials(tmp_path, older_than=0) == []  # a locked partial is not swept
    finally:
        held.release()
    assert part.read_bytes() == payload[:150_000]
    result = h.download("job-1", dest, source="api")
    assert dest.read_bytes() == payload and result.resumed_from == 150_000
    assert files(tmp_path) == ["out.mp4"]


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
    h.download("job-1", tmp_path / "out.mp4", source="api")
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
    h.download("job-1", tmp_path / "a.mp4", source="api")  # sweeps (nothing to remove)
    stale = tmp_path / ".old.mp4.part"
    stale.write_bytes(b"x")
    (tmp_path / ".old.mp4.part.state").write_text("{}")
    week_ago = time.time() - 8 * 24 * 3600
    for path in (stale, tmp_path / ".old.mp4.part.state"):
        os.utime(path, (week_ago, week_ago))
    clock[0] += 59
    h.download("job-1", tmp_path / "b.mp4", source="api")
    assert stale.exists(), "swept again within the interval"
    other = tmp_path / "other"
    h.download("job-1", other / "c.mp4", source="api")  # another directory has its own schedule
    clock[0] += 1
    h.download("job-1", tmp_path / "d.mp4", source="api")
    assert files(tmp_path) == ["a.mp4", "b.mp4", "d.mp4", "other"]


WEEK_AGO = time.time() - 8 * 24 * 3600


@pytest.mark.timeout(30)
def test_the_sweep_never_deletes_a_partial_locked_between_its_check_and_its_unlink(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A partial kept 8 days ago; download B resumes it while download A, starting in the same
    # directory, sweeps. The hook lets B lock the partial right after A found it free (the race).
    payload = noise(MIB)
    fake.add_video("job-1", payload)
    fake.add_video("job-2", mp4_bytes(100))
    dest = tmp_path / "out.mp4"
    part, state_file = tmp_path / ".out.mp4.part", tmp_path / ".out.mp4.part.state"
    part.write_bytes(payload[:300_000])
    state_file.write_text(state(fake, etag=fake.video("job-1").etag, total=len(payload)))
    for path in (part, state_file):
        os.utime(path, (WEEK_AGO, WEEK_AGO))
    fake.enqueue(Stall(at=600_000, seconds=0.4))  # B is mid-body when A's sweep unlinks
    client = VideoClient(api_key=fake.api_key, base_url=fake.base_url)
    outcome: dict[str, Any] = {}

    def download_b() -> None:
        try:
            outcome["result"] = client.download("job-1", dest, partial_ttl=None, source="api")
        except Exception as exc:
            outcome["error"] = exc

    b = threading.Thread(target=download_b)
    real_remove = _journal._remove_if_unlocked

    def remove_if_unlocked(path: Path, companions: list[Path]) -> bool:
        # A found the old partial; B locks it before A acts on it (the race).
        if path == part and "started" not in outcome:
            outcome["started"] = True
            b.start()
            wait_for(lambda: len(content_requests(fake)) == 1)
            time.sleep(0.05)
        return real_remove(path, companions)

    monkeypatch.setattr(_journal, "_remove_if_unlocked", remove_if_unlocked)
    with client:
        client.download("job-2", tmp_path / "other.mp4", source="api")  # A
        if "started" not in outcome:  # (a fix that no longer calls _is_locked)
            b.start()
        b.join(10)
    assert "error" not in outcome, repr(outcome.get("error"))
    assert dest.read_bytes() == payload


@pytest.mark.timeout(30)
def test_the_sweep_never_deletes_files_that_cannot_be_partials(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    # dest.with_name(f".{name}.part"): a destination has a non-empty name that is not "." nor "..",
    # so these can only be somebody else's files.
    theirs = [".part", "..part", ".part.state", "..part.state"]
    for name in theirs:
        (tmp_path / name).write_bytes(b"not yours")
        os.utime(tmp_path / name, (WEEK_AGO, WEEK_AGO))
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert files(tmp_path) == sorted([*theirs, "out.mp4"])


@pytest.mark.timeout(30)
def test_a_directory_that_cannot_be_listed_still_takes_downloads(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A drop-box directory (mode 0733: write and search, no read). Tests run as root, who can list
    # anything, so listing it raises EACCES here the way it does for everybody else.
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if isinstance(path, str | os.PathLike) and Path(path) == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
