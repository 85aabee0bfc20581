"""Segmented downloads (``max_connections``): several byte ranges over several connections into one
file, with every safety rule of a single stream.

Sizes are scaled down for speed: the thresholds (16 MiB to segment, 4 MiB to split, 0.5 s ramp
windows) are module constants patched here to 1 MiB, 256 KiB and 0.1 s; the fake server caps each
connection (like nginx's ``limit_rate``), which is what segments are for.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Harness, content_requests
from helpers_segments import (
    KIB,
    MIB,
    small_thresholds,  # noqa: F401 - autouse fixture
)
from openrouter_video.engine import segments as _segments
from openrouter_video.engine.core import OVERLAP
from openrouter_video.errors import NotFoundError
from openrouter_video.io import files as _files
from openrouter_video.io._async import download as _adl
from openrouter_video.io._sync import download as _sdl
from openrouter_video.testing import FakeOpenRouter, RecordedRequest, digest_headers, mp4_bytes


def video(size: int = 3 * MIB, seed: int = 1) -> bytes:
    data = mp4_bytes(size - 200, seed=seed)  # an MP4 a little under `size`
    return data


def ranges_of(requests: list[RecordedRequest]) -> list[tuple[int, int | None]]:
    found = []
    for request in requests:
        value = request.headers.get("range")
        if value is None:  # the plain GET that starts a download: the whole file
            found.append((0, None))
            continue
        start, _, end = value.removeprefix("bytes=").partition("-")
        found.append((int(start), int(end) if end else None))
    return found


def assert_tiled(requests: list[RecordedRequest], total: int) -> None:
    """The ranges asked for cover the file with no gap, and overlap only by resume overlaps."""
    covered = bytearray(total)
    for start, end in ranges_of(requests):
        stop = total if end is None else end + 1
        for i in range(start, stop, 4096):
            covered[i] = 1
    assert all(covered[i] for i in range(0, total, 4096)), "a gap in the ranges asked for"


# -- the real thing, against the fake server ---------------------------------------------------------


def test_a_capped_video_is_fetched_over_several_connections_that_tile_it(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 4 * MIB  # per connection: one alone needs 0.75 s
    started = time.monotonic()
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    took = time.monotonic() - started
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert 2 <= result.connections <= 4, (result, took)
    # The server may still be answering a response the client abandoned at a split point (it only
    # notices at its next write), so it can count one or two more than the client holds.
    assert h.fake.peak_requests >= 2
    requests = content_requests(h.fake)
    assert ranges_of(requests)[0] == (0, None)  # the first asks for everything
    assert "range" not in requests[0].headers  # as one stream would: it costs no extra request
    assert_tiled(requests, len(data))
    assert result.verified == "content-range" and result.size == len(data)
    assert sorted(os.listdir(tmp_path)) == ["out.mp4"]
    assert h.progress[-1] == (len(data), len(data))


def test_the_default_is_adaptive_and_splits_a_capped_video(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    # Per connection: slow enough that the rest, once the first stream is out of slow start, takes
    # RAMP_PAYS windows or more (at 4 MiB/s it took 0.4 s: then a new connection would not pay).
    h.fake.rate = 2 * MIB
    result = h.download("job-1", tmp_path / "out.mp4", source="api")  # no max_connections: up to 4
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert 2 <= result.connections <= 4, result
    requests = content_requests(h.fake)
    assert "range" not in requests[0].headers  # it starts as one stream, which the ranges continue
    assert_tiled(requests, len(data))
    assert result.resumed_from == 0 and result.attempts == len(requests)


@pytest.mark.parametrize("case", ["small", "no validators", "no Accept-Ranges", "404", "uncapped"])
def test_the_default_costs_no_extra_request_when_it_does_not_split(
    h: Harness, tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One stream reads the answer to its own first request: exactly one request, as before. An
    uncapped video worth splitting is done before the first second of measurement is over."""
    data = video(512 * KIB) if case == "small" else video(3 * MIB)
    if case == "uncapped":  # loopback ends long before a measurement this long, even on a busy machine
        monkeypatch.setattr(_segments, "RAMP_WINDOW", 5.0)
    h.fake.add_video("job-1", data, validators="none" if case == "no validators" else "both")
    h.fake.accept_ranges = case != "no Accept-Ranges"
    h.fake.rate = None if case == "uncapped" else 16 * MIB
    if case == "404":
        with pytest.raises(NotFoundError):
            h.download("missing", tmp_path / "out.mp4", source="api")
    else:
        result = h.download("job-1", tmp_path / "out.mp4", source="api")
        assert result.connections == 1 and (tmp_path / "out.mp4").read_bytes() == data
    requests = content_requests(h.fake)
    assert len(requests) == 1 and "range" not in requests[0].headers, requests
    assert sorted(os.listdir(tmp_path)) == ([] if case == "404" else ["out.mp4"])


def test_max_connections_1_is_one_plain_request(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=1, source="api")
    assert [r.headers.get("range") for r in content_requests(h.fake)] == [None]
    assert result.connections == 1 and (tmp_path / "out.mp4").read_bytes() == payload


def test_a_content_change_mid_way_is_never_spliced(h: Harness, tmp_path: Path) -> None:
    old, new = video(3 * MIB, seed=1), video(3 * MIB, seed=2)
    h.fake.add_video("job-1", old)
    h.fake.rate = 4 * MIB
    seen = [0]

    def change(request: RecordedRequest) -> None:
        seen[0] += 1
        if seen[0] == 2:  # the second range request meets the new content (and its new ETag)
            h.fake.add_video("job-1", new)

    h.fake.on_request = change
    h.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    assert (tmp_path / "out.mp4").read_bytes() == new  # all of the new one: never a mix
    assert content_requests(h.fake)[-1].headers.get("range") is None  # one stream, from byte 0


@pytest.mark.parametrize("switch", ["ignore_range", "ignore_bounded_ranges"])
def test_a_server_that_ignores_ranges_gets_one_stream(h: Harness, tmp_path: Path, switch: str) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 8 * MIB
    setattr(h.fake, switch, True)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["out.mp4"]
    if switch == "ignore_range":
        assert result.connections == 1
    else:
        # The last range asks for the rest open-ended (served as asked); a bounded one answered with
        # 200 leaves the bytes on disk to one stream, which resumes: nothing starts again from byte 0.
        later = content_requests(h.fake)[1:]
        assert later and all("range" in r.headers for r in later), later
        assert ranges_of(later)[-1][1] is None


def test_a_small_video_or_one_without_validators_is_never_split(h: Harness, tmp_path: Path) -> None:
    small = video(512 * KIB)
    h.fake.add_video("job-1", small)
    h.fake.add_video("job-2", video(3 * MIB), validators="none")
    h.fake.rate = 8 * MIB
    assert h.download("job-1", tmp_path / "a.mp4", max_connections=4, source="api").connections == 1
    assert h.download("job-2", tmp_path / "b.mp4", max_connections=4, source="api").connections == 1
    assert (tmp_path / "a.mp4").read_bytes() == small


def test_one_range_failing_again_and_again_while_the_others_finish(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 4 * MIB
    target: list[str] = []
    failed = [0]

    def drop(request: RecordedRequest) -> None:
        value = request.headers.get("range", "")
        if not target and value and not value.startswith("bytes=0-"):
            target.append(value)  # the first helper's range
        # the same range, from the same byte (work stealing may have cut its end meanwhile)
        if target and value.partition("-")[0] == target[0].partition("-")[0] and failed[0] < 3:
            failed[0] += 1
            raise ConnectionResetError("dropped by the test")

    h.fake.on_request = drop
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    assert failed[0] == 3 and (tmp_path / "out.mp4").read_bytes() == data, (
        target,
        result,
        ranges_of(content_requests(h.fake)),
    )
    assert result.connections >= 2 and len(h.sleeps) >= 3  # each failure backed off (fake sleep)


def test_a_wrong_digest_after_every_range_goes_to_one_stream_and_is_an_integrity_error(
    h: Harness, tmp_path: Path
) -> None:
    from openrouter_video.errors import IntegrityError

    data = video(3 * MIB)
    h.fake.add_video("job-1", data, headers=digest_headers(data, wrong=True))
    h.fake.rate = 8 * MIB
    with pytest.raises(IntegrityError):
        h.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    assert not (tmp_path / "out.mp4").exists()


def test_sha256_covers_the_whole_file(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data, headers=digest_headers(data))
    h.fake.rate = 4 * MIB
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=3, checksum="sha256", source="api")
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.verified == "digest"
    assert result.connections >= 2


def test_max_connections_is_checked(h: Harness, tmp_path: Path) -> None:
    for bad in (0, 17, 2.5, "4"):
        with pytest.raises(ValueError, match="max_connections"):
            h.download("job-1", tmp_path / "out.mp4", max_connections=bad, source="api")
    assert content_requests(h.fake) == []


# -- SIGKILL ----------------------------------------------------------------------------------------


CHILD = textwrap.dedent(
    """
    import sys
    from openrouter_video import RetryPolicy, VideoClient
    from openrouter_video.engine import segments as _segments
    _segments.MIN_SEGMENTED_SIZE = 1024 * 1024
    _segments.MIN_SPLIT = 256 * 1024
    _segments.RAMP_WINDOW = 0.1
    with VideoClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
        client.download("job-1", sys.argv[3], max_connections=4, source="api")
    """
)


@pytest.fixture
def killed(fake: FakeOpenRouter, tmp_path: Path) -> Iterator[tuple[bytes, Path, list[list[int]]]]:
    data = video(4 * MIB)
    fake.add_video("job-1", data)
    fake.rate = 1 * MIB  # 4 s alone: the child is killed long before
    dest = tmp_path / "out.mp4"
    state = tmp_path / ".out.mp4.part.state"
    child = subprocess.Popen([sys.executable, "-c", CHILD, fake.api_key, fake.base_url, str(dest)])
    try:
        deadline = time.monotonic() + 20
        journal: list[list[int]] = []
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                journal = json.loads(state.read_text())["segments"]
            except (OSError, ValueError, KeyError):
                continue
            if sum(1 for start, written, end in journal if written > start) >= 2:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    journal = json.loads(state.read_text())["segments"]
    assert sum(1 for start, written, end in journal if written > start) >= 2, journal
    assert not dest.exists()
    yield data, dest, journal


@pytest.mark.parametrize("connections", [4, 1])
def test_after_sigkill_a_rerun_continues_every_range_where_it_stopped(
    fake: FakeOpenRouter, killed: tuple[bytes, Path, list[list[int]]], connections: int
) -> None:
    # With max_connections=1 too: the partial of a segmented download is continued range by range.
    data, dest, journal = killed
    fake.rate = None
    before = len(fake.requests)
    harness = Harness("sync", fake)
    result = harness.download("job-1", dest, max_connections=connections, source="api")
    assert dest.read_bytes() == data
    asked = ranges_of([r for r in fake.requests[before:] if r.path.endswith("/content")])
    # every range that had bytes continues after them (with the overlap re-read), none from its start
    for start, written, end in journal:
        if start < written < end:
            expected = written - min(OVERLAP, written - start)
            assert any(a == expected for a, _ in asked), (journal, asked)
    assert result.resumed_from == sum(written - start for start, written, end in journal)
    assert (0, None) not in asked  # no request started over from byte 0


def test_an_error_answer_is_the_same_error_as_with_one_stream(h: Harness, tmp_path: Path) -> None:
    from openrouter_video.errors import NotFoundError

    with pytest.raises(NotFoundError):
        h.download("no-such-job", tmp_path / "out.mp4", max_connections=4, source="api")
    assert sorted(os.listdir(tmp_path)) == []
    assert len(content_requests(h.fake)) == 1  # raised from the first answer, not asked again


def test_the_cli_takes_connections(fake: FakeOpenRouter, tmp_path: Path) -> None:
    data = video(3 * MIB)
    fake.add_video("clip", data)
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    command = [sys.executable, "-m", "openrouter_video", "download", "clip", "-o", str(tmp_path) + "/"]
    ok = subprocess.run([*command, "--connections", "4", "--quiet", "--base-url", fake.base_url], env=env)
    assert ok.returncode == 0 and (tmp_path / "clip.mp4").read_bytes() == data
    stored = [r for r in fake.requests if r.origin == "storage"]
    assert ranges_of(stored)[0] == (0, None) and fake.storage_authorization == []
    bad = subprocess.run([*command, "--connections", "17"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "--connections: must be a whole number from 1 to 16" in bad.stderr


# -- deadlines and interrupts ------------------------------------------------------------------------


def test_the_deadline_covers_the_fallback_to_one_stream_too(h: Harness, tmp_path: Path) -> None:
    from openrouter_video.errors import DeadlineExceededError

    data = video(3 * MIB)
    h.fake.add_video("job-1", data, headers=digest_headers(data, wrong=True))  # segments, then one stream
    h.fake.rate = 1 * MIB
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        h.download("job-1", tmp_path / "out.mp4", max_connections=4, deadline=2.5, source="api")
    assert time.monotonic() - started < 3.5  # was 3.4 to 5 s: the fallback got a deadline of its own


def test_a_segmented_download_that_hits_its_deadline_says_it_stopped(h: Harness, tmp_path: Path) -> None:
    """It said "...; resuming" and then stopped."""
    from openrouter_video.errors import DeadlineExceededError

    data = video(12 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 1 * MIB
    with pytest.raises(DeadlineExceededError) as caught:
        h.download("job-1", tmp_path / "out.mp4", max_connections=4, deadline=1.5, source="api")
    message = str(caught.value)
    assert "resuming" not in message and "deadline passed" in message, message


def test_ctrl_c_in_a_segmented_download_sets_partial_path(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """KeyboardInterrupt (a BaseException) leaves a segmented download with ``partial_path`` set, as
    a single stream does; it used to be set only on an ``Exception``."""
    from openrouter_video import VideoClient

    data = video(3 * MIB)
    fake.add_video("job-1", data)
    fake.rate = 2 * MIB  # per connection: it goes on by ranges

    def progress(done: int, total: int | None) -> None:
        if fake.peak_connections >= 2 and done >= MIB:
            raise KeyboardInterrupt

    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        with pytest.raises(KeyboardInterrupt) as caught:
            client.download(
                "job-1", tmp_path / "out.mp4", max_connections=4, on_progress=progress, source="api"
            )
    kept = caught.value.partial_path  # type: ignore[attr-defined]
    assert kept is not None and Path(kept).exists() and fake.peak_connections >= 2
    fake.rate = None
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
    assert (tmp_path / "out.mp4").read_bytes() == data


def test_a_range_retry_wait_never_blocks_the_event_loop(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """An async ranged download whose policy has no sleep of its own: a range's retry wait is an await,
    not a blocking wait on the event loop (it once waited on a threading.Event there, for the whole
    backoff, and every other task of the service stood still)."""
    import asyncio

    from openrouter_video import AsyncVideoClient, RetryPolicy
    from openrouter_video.testing import Cut, Status

    data = video(3 * MIB, seed=3)
    fake.add_video("job-1", data)
    fake.rate = 4 * MIB  # per connection: one stream is slow, the download goes on by ranges
    fake.enqueue(Cut(len(data) + 1), Status(503))  # the first range is answered 503 once
    policy = RetryPolicy(initial_delay=1.0, jitter=lambda: 1.0)
    gaps: list[float] = []

    async def heartbeat() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def run() -> int:
        beat = asyncio.ensure_future(heartbeat())
        try:
            async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
                result = await client.download("job-1", tmp_path / "out.mp4", max_connections=4, source="api")
        finally:
            beat.cancel()
        return result.connections

    assert asyncio.run(run()) > 1
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert len([r for r in fake.requests if "range" in r.headers]) >= 2  # the 503 range was asked again
    assert max(gaps) < 0.5, f"the event loop stood still for {max(gaps):.2f} s"


def test_a_sync_ranged_download_reports_progress_one_call_at_a_time(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """The ranges of a sync download run in threads of their own; ``on_progress`` is still called one
    call at a time, and never goes backwards (each thread once called it directly)."""
    import threading

    from openrouter_video import RetryPolicy, VideoClient

    data = video(6 * MIB, seed=5)
    fake.add_video("job-1", data)
    fake.rate = 4 * MIB  # per connection: the download goes on by ranges
    inside, overlaps, seen = threading.Lock(), [], []

    def on_progress(done: int, total: int | None) -> None:
        if not inside.acquire(blocking=False):
            overlaps.append(done)
            return
        try:
            seen.append(done)
            time.sleep(0.25)  # a slow callback, slower than the 0.1 s between reports
        finally:
            inside.release()

    policy = RetryPolicy(sleep=lambda s: None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        result = client.download(
            "job-1", tmp_path / "out.mp4", max_connections=4, on_progress=on_progress, source="api"
        )
    assert result.connections > 1 and (tmp_path / "out.mp4").read_bytes() == data
    assert overlaps == [], f"{len(overlaps)} calls overlapped another"
    assert seen == sorted(seen) and seen[-1] == len(data)


# -- the handover of the first stream's live body to the ranges ------------------------------------


def test_a_write_error_before_the_handover_never_splices_the_file(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = mp4_bytes(3 * MIB - 200, seed=3)
    h.fake.add_video("job-1", data)
    h.fake.rate = MIB  # per connection: chunks of 52 KiB (copied into batches), a long stream
    monkeypatch.setattr(_files, "FLUSH_AFTER", 1.0)  # (a wider window: batches sealed when full)
    failed = threading.Event()
    calls = [0]
    real_write_all = _files.write_all

    def write_all(fd: int, view: memoryview, offset: int | None = None) -> int:
        calls[0] += 1
        if calls[0] == 2:  # the second batch of the single stream: a full disk, for a moment
            failed.set()
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_all(fd, view, offset)

    monkeypatch.setattr(_files, "write_all", write_all)  # the single stream's writer only
    real_upgrade = _segments.Watch.upgrade

    def upgrade(self: _segments.Watch, size: int) -> _segments.Upgrade | None:
        # An explicit count upgrades at its first call: here, once the writer has failed (the
        # producer has not seen it: its chunks since then went into the batch buffer). The partial
        # kept is then shorter than the bytes the live body passed on.
        return real_upgrade(self, size) if failed.is_set() else None

    monkeypatch.setattr(_segments.Watch, "upgrade", upgrade)
    dest = tmp_path / "out.mp4"
    try:
        h.download("job-1", dest, max_connections=4, source="api")
    except OSError as exc:  # what one stream does: the full disk is reported, its partial kept
        assert exc.errno == errno.ENOSPC
        assert not dest.exists()
        return
    assert dest.read_bytes() == data, "the file was spliced at the handover"


def test_a_handover_that_cannot_open_the_segmented_partial_closes_the_live_body(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the segmented partial cannot be opened (here the destination appeared meanwhile:
    FileExistsError), the live body handed over is closed (its connection goes back)."""
    data = mp4_bytes(3 * MIB - 200, seed=4)
    h.fake.add_video("job-1", data)
    h.fake.rate = 4 * MIB
    dest = tmp_path / "out.mp4"
    handed: list[object] = []
    closed: list[object] = []
    for module, driver, close in ((_adl, "AsyncDriver", "aclose"), (_sdl, "Driver", "close")):
        real_detach = getattr(module, driver).detach
        real_close = getattr(module.Body, close)

        def detach(self, real_detach=real_detach):  # type: ignore[no-untyped-def]
            body = real_detach(self)
            handed.append(body)
            dest.write_bytes(b"someone else's file")  # appears between the two partials
            return body

        if close == "aclose":

            async def closing(self, real_close=real_close):  # type: ignore[no-untyped-def]
                closed.append(self)
                await real_close(self)

        else:

            def closing(self, real_close=real_close):  # type: ignore[no-untyped-def]
                closed.append(self)
                real_close(self)

        monkeypatch.setattr(getattr(module, driver), "detach", detach)
        monkeypatch.setattr(module.Body, close, closing)
    try:
        h.download("job-1", dest, max_connections=4, source="api")
    except FileExistsError:
        pass
    assert len(handed) == 1
    assert handed[0] in closed, "the live body handed over was never closed"


@pytest.mark.parametrize(("delay", "kept"), [(1.6, False), (6.0, True)], ids=["full queue", "lost packet"])
def test_a_second_connection_whose_answer_waited_in_a_queue_withdraws(
    h: Harness, tmp_path: Path, delay: float, kept: bool
) -> None:
    """The server's answers stand in for the path: every answer waits 0.1 s (a round trip), and the
    second connection's ``delay`` times as long. 1.6: the bottleneck's queue is full (the link is
    full), so each probe withdraws at once (two, a plateau apart) and one stream does it all; 6: far
    longer than any queue, a retransmission's timeout, so the probe stays and the rest start."""
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 2 * MIB  # per connection: the first stream levels off at once

    def path(request: RecordedRequest) -> None:
        if request.path.endswith("/content"):
            time.sleep(0.1 * (delay if "range" in request.headers else 1.0))

    h.fake.on_request = path
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == data
    probes = [r for r in content_requests(h.fake) if "range" in r.headers]
    if kept:
        assert result.connections >= 2, result
    else:
        assert result.connections == 1 and len(probes) == 2, (result, probes)
        assert result.resumed_from == 0 and result.attempts == 3  # the first stream never stopped
