"""Segmented downloads (``max_connections``): several byte ranges over several connections into one
file, with every safety rule of a single stream.

Sizes are scaled down for speed: the thresholds (16 MiB to segment, 4 MiB to split, 0.5 s ramp
windows) are module constants patched here to 1 MiB, 256 KiB and 0.1 s; the fake server caps each
connection (like nginx's ``limit_rate``), which is what segments are for.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import MODES, Harness, content_requests
from hypothesis import given, settings
from hypothesis import strategies as st
from openrouter_video.engine import segments as _segments
from openrouter_video.engine.core import OVERLAP, Resumable, Retry
from openrouter_video.engine.retry import RetryPolicy
from openrouter_video.engine.segments import Abandon, Plan, Region, SegmentCore, Take
from openrouter_video.errors import NotFoundError
from openrouter_video.testing import FakeOpenRouter, RecordedRequest, digest_headers, mp4_bytes

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_segments, "MIN_SEGMENTED_SIZE", 1 * MIB)
    monkeypatch.setattr(_segments, "MIN_SPLIT", 256 * KIB)
    monkeypatch.setattr(_segments, "RAMP_WINDOW", 0.1)
    monkeypatch.setattr(_segments, "RAMP_SETTLE", 0.02)


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Harness:
    return Harness(request.param, fake)


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


# -- the plan, on its own -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(1, 64 * MIB),
    steps=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 8 * MIB), st.booleans()), max_size=60),
)
def test_the_plan_always_tiles_the_file_and_no_two_workers_fetch_the_same_byte(
    total: int, steps: list[tuple[int, int, bool]]
) -> None:
    plan = Plan(total, min_split=256 * KIB)
    held: dict[int, Region] = {}
    for worker, amount, give_up in steps:
        region = held.get(worker)
        if region is None or region.pos >= region.end:
            if region is not None:
                plan.release(region)  # done: as SegmentCore.claim does
                del held[worker]
            region = plan.claim(worker, split=True)
            if region is None:
                continue
            held[worker] = region
        region.pos = min(region.end, region.pos + amount)
        region.written = region.pos
        if give_up:
            plan.release(region)
            del held[worker]
        plan.check_tiling()
        owned = [r for r in plan.regions if r.owner is not None]
        assert len({r.owner for r in owned}) == len(owned)  # one region per worker at a time
    for region in held.values():
        plan.release(region)
    while (region := plan.claim(9, split=True)) is not None:
        region.pos = region.written = region.end
        plan.release(region)
    assert plan.complete and plan.received == total
    again = Plan.from_journal(total, plan.journal())
    assert again is not None and again.complete


def test_a_journal_that_does_not_tile_is_refused() -> None:
    assert Plan.from_journal(100, [[0, 10, 50], [60, 60, 100]]) is None  # a gap
    assert Plan.from_journal(100, [[0, 10, 60], [50, 50, 100]]) is None  # an overlap
    assert Plan.from_journal(100, [[0, 70, 60], [60, 60, 100]]) is None  # written past the end
    assert Plan.from_journal(100, "x") is None
    plan = Plan.from_journal(100, [[0, 10, 60], [60, 70, 100]])
    assert plan is not None and plan.received == 20


def test_the_ramp_doubles_while_each_added_connection_pays_and_stops_when_they_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_segments, "RAMP_WINDOW", 0.5)
    monkeypatch.setattr(_segments, "RAMP_SETTLE", 0.1)
    ramp = _segments.Ramp(8, now=0.0, received=0)
    assert ramp.want_more(0.05, 10) == 0  # the window is not over
    assert ramp.want_more(0.5, 100) == 1  # 1 connection: 200 B/s; now 2
    assert ramp.want_more(0.55, 110) == 0  # settling
    assert ramp.want_more(0.6, 120) == 0  # the measurement of 2 starts here
    assert ramp.want_more(1.1, 270) == 2  # 2: 300 B/s, +50% for one more: now 4
    assert ramp.want_more(1.25, 300) == 0  # the measurement of 4 starts here
    assert ramp.want_more(1.75, 464) == 0 and ramp.settled  # 4: 328 B/s, +9% for two more (< 2 x 15%)
    assert ramp.connections == 4
    # A cap per connection: two bring twice as much, so the next step quadruples (1, 2, 8, 16).
    linear = _segments.Ramp(16, now=0.0, received=0)
    assert linear.want_more(0.5, 100) == 1  # 200 B/s
    linear.want_more(0.6, 120)
    assert linear.want_more(1.1, 320) == 6  # 400 B/s: +100% for one more; now 8
    linear.want_more(1.25, 340)  # the measurement of 8 starts here
    assert linear.want_more(1.75, 1940) == 8 and linear.settled  # 3200 B/s with 8; now 16, the cap
    capped = _segments.Ramp(3, now=0.0, received=0)
    assert capped.want_more(0.5, 100) == 1
    capped.want_more(0.6, 120)
    assert capped.want_more(1.1, 400) == 1 and capped.settled  # 2 -> 3, the cap


# -- the core, against a simulated server ------------------------------------------------------------


class SimServer:
    """Answers range requests for one of two versions of a file; ``change_at`` requests switch it."""

    def __init__(self, old: bytes, new: bytes, change_at: int | None, lying: bool) -> None:
        self.versions = [old, new]
        self.current = 0
        self.requests = 0
        self.change_at = change_at
        self.lying = lying  # keeps the old ETag after the change

    def answer(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests += 1
        if self.change_at is not None and self.requests == self.change_at:
            self.current = 1
        data = self.versions[self.current]
        etag = '"v0"' if self.lying else f'"v{self.current}"'
        start, _, end = headers["Range"].removeprefix("bytes=").partition("-")
        a, b = int(start), (int(end) if end else len(data) - 1)
        if headers.get("If-Range") not in (None, etag):
            return 200, {"etag": etag, "content-length": str(len(data))}, data
        b = min(b, len(data) - 1)
        return 206, {"etag": etag, "content-range": f"bytes {a}-{b}/{len(data)}"}, data[a : b + 1]


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    change_at=st.one_of(st.none(), st.integers(2, 12)),
    lying=st.booleans(),
    connections=st.integers(1, 5),
)
def test_the_core_never_commits_a_mix_of_two_versions(
    seed: int, change_at: int | None, lying: bool, connections: int
) -> None:
    rng = random.Random(seed)
    total = rng.randint(64 * KIB, 3 * MIB)
    old = rng.randbytes(total)
    new = old[: total // 3] + rng.randbytes(total - total // 3)  # same length, same start
    server = SimServer(old, new, change_at, lying)
    clock = [0.0]
    policy = RetryPolicy(max_attempts=50, jitter=lambda: 0.0, clock=lambda: clock[0], min_speed=None)
    content = Resumable(etag='"v0"', total=total, content_type="video/mp4")
    core = SegmentCore(
        policy,
        what="GET x",
        content=content,
        plan=Plan(total, min_split=64 * KIB),
        max_connections=connections,
    )
    core.ramp = _segments.Ramp(connections, now=0.0, received=0)
    out = bytearray(total)
    active: dict[int, Any] = {}  # worker -> (head, body, position in body)
    workers = [core.add_worker()]
    outcome: Abandon | None = None
    for _ in range(10_000):
        clock[0] += 0.05
        for _ in range(core.want_workers()):
            workers.append(core.add_worker())
        idle = [w for w in workers if w not in active]
        worker = rng.choice(workers)
        if worker in idle:
            if core.claim(worker) is None:
                workers.remove(worker)
                if not workers:
                    break
                continue
            status, headers, body = server.answer(core.request_headers(worker))
            decision = core.on_response(worker, status, headers)
            if isinstance(decision, Abandon):
                outcome = decision
                break
            assert isinstance(decision, Take)
            active[worker] = [decision.head, body, 0]
            continue
        head, body, at = active[worker]
        cut = rng.random() < 0.1
        size = rng.randint(1, 300 * KIB)
        chunk, active[worker][2] = body[at : at + size], at + size
        done = False
        passed = head.feed(chunk) if not head.passed else chunk
        if passed and not head.failed:
            _, offset, data, done = core.on_chunk(worker, passed)
            out[offset : offset + len(data)] = data
        ended = done or head.failed or cut or active[worker][2] >= len(body)
        if not ended:
            continue
        at_end = active[worker][2] >= len(body)
        if not done and not head.failed and not head.passed and at_end and (rest := head.end()):
            _, offset, data, done = core.on_chunk(worker, rest)
            out[offset : offset + len(data)] = data
        del active[worker]
        decision = core.on_body_end(worker, ConnectionError("cut") if cut and not done else None, head)
        if isinstance(decision, Abandon):
            outcome = decision
            break
        assert decision is None or isinstance(decision, Retry), decision
    if outcome is not None:
        assert outcome.changed or outcome.reason  # the caller starts again from byte 0
        return
    assert core.complete
    if bytes(out) not in (old, new):
        # Only a server that changes content under the same ETag can do this; the final digest or
        # MP4 walk is then the only defence (the drivers' verify step), as for aria2.
        assert lying and change_at is not None, "spliced although the server told the truth"


# -- the real thing, against the fake server ---------------------------------------------------------


def test_a_capped_video_is_fetched_over_several_connections_that_tile_it(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 4 * MIB  # per connection: one alone needs 0.75 s
    started = time.monotonic()
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4)
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
    h.fake.rate = 4 * MIB  # per connection
    result = h.download("job-1", tmp_path / "out.mp4")  # no max_connections: up to 4
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
            h.download("missing", tmp_path / "out.mp4")
    else:
        result = h.download("job-1", tmp_path / "out.mp4")
        assert result.connections == 1 and (tmp_path / "out.mp4").read_bytes() == data
    requests = content_requests(h.fake)
    assert len(requests) == 1 and "range" not in requests[0].headers, requests
    assert sorted(os.listdir(tmp_path)) == ([] if case == "404" else ["out.mp4"])


def test_max_connections_1_is_one_plain_request(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=1)
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
    h.download("job-1", tmp_path / "out.mp4", max_connections=4)
    assert (tmp_path / "out.mp4").read_bytes() == new  # all of the new one: never a mix
    assert content_requests(h.fake)[-1].headers.get("range") is None  # one stream, from byte 0


@pytest.mark.parametrize("switch", ["ignore_range", "ignore_bounded_ranges"])
def test_a_server_that_ignores_ranges_gets_one_stream(h: Harness, tmp_path: Path, switch: str) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 8 * MIB
    setattr(h.fake, switch, True)
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4)
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
    assert h.download("job-1", tmp_path / "a.mp4", max_connections=4).connections == 1
    assert h.download("job-2", tmp_path / "b.mp4", max_connections=4).connections == 1
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
        if target and value == target[0] and failed[0] < 3:
            failed[0] += 1
            raise ConnectionResetError("dropped by the test")

    h.fake.on_request = drop
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4)
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
        h.download("job-1", tmp_path / "out.mp4", max_connections=4)
    assert not (tmp_path / "out.mp4").exists()


def test_sha256_covers_the_whole_file(h: Harness, tmp_path: Path) -> None:
    data = video(3 * MIB)
    h.fake.add_video("job-1", data, headers=digest_headers(data))
    h.fake.rate = 4 * MIB
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=3, checksum="sha256")
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.verified == "digest"
    assert result.connections >= 2


def test_max_connections_is_checked(h: Harness, tmp_path: Path) -> None:
    for bad in (0, 17, 2.5, "4"):
        with pytest.raises(ValueError, match="max_connections"):
            h.download("job-1", tmp_path / "out.mp4", max_connections=bad)
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
        client.download("job-1", sys.argv[3], max_connections=4)
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
    result = harness.download("job-1", dest, max_connections=connections)
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
        h.download("no-such-job", tmp_path / "out.mp4", max_connections=4)
    assert sorted(os.listdir(tmp_path)) == []
    assert len(content_requests(h.fake)) == 1  # raised from the first answer, not asked again


def test_the_cli_takes_connections(fake: FakeOpenRouter, tmp_path: Path) -> None:
    data = video(3 * MIB)
    fake.add_video("clip", data)
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    command = [sys.executable, "-m", "openrouter_video", "download", "clip", "-o", str(tmp_path) + "/"]
    ok = subprocess.run([*command, "--connections", "4", "--quiet", "--base-url", fake.base_url], env=env)
    assert ok.returncode == 0 and (tmp_path / "clip.mp4").read_bytes() == data
    assert ranges_of(content_requests(fake))[0] == (0, None)
    bad = subprocess.run([*command, "--connections", "17"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "--connections: must be a whole number from 1 to 16" in bad.stderr


# -- found by a second review ------------------------------------------------------------------------


def _sink(tmp_path: Path, total: int, *, sha256: bool = False) -> Any:
    from openrouter_video.io.segment_file import SegmentFile

    sink = SegmentFile(
        tmp_path / "out.mp4",
        overwrite=False,
        source="s",
        sha256=sha256,
        durable=False,
        keep_partial=False,
        partial_ttl=None,
    )
    sink.begin(Resumable(etag='"e"', total=total))
    return sink


def test_every_task_waiting_for_room_in_the_queue_is_woken(tmp_path: Path) -> None:
    # One slot for "wake me" lost all but the last waiter: with two async connections and a slow
    # disk, the other task waited forever and the download never returned.
    import threading as _threading

    from openrouter_video.io.segment_file import MAX_QUEUED_WRITES

    sink = _sink(tmp_path, 64 * KIB)
    region = sink.plan.regions[0]
    for i in range(MAX_QUEUED_WRITES):
        assert sink.try_put(region, i, b"x", lambda: None)
    woken = {"a": _threading.Event(), "b": _threading.Event()}
    assert not sink.try_put(region, 100, b"a", woken["a"].set)
    assert not sink.try_put(region, 101, b"b", woken["b"].set)
    sink.start()
    try:
        assert woken["a"].wait(5) and woken["b"].wait(5)
    finally:
        sink.discard()


def test_workers_may_claim_while_the_shell_adds_workers() -> None:
    # claim() counted the fetching workers over the table add_worker() was growing in another
    # thread: "dictionary changed size during iteration" ended the download.
    import threading as _threading

    errors: list[BaseException] = []
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            total = 1 << 30
            core = SegmentCore(
                RetryPolicy(),
                what="x",
                content=Resumable(etag='"a"', total=total),
                plan=Plan(total, min_split=1),
                max_connections=16,
            )
            worker = core.add_worker()
            stop = _threading.Event()

            def claimer(core: SegmentCore = core, worker: int = worker, stop: Any = stop) -> None:
                try:
                    while not stop.is_set():
                        core.claim(worker)
                except Exception as exc:
                    errors.append(exc)
                    stop.set()

            thread = _threading.Thread(target=claimer)
            thread.start()
            for _ in range(200):
                core.add_worker()
            stop.set()
            thread.join()
            assert not errors, errors[0]
    finally:
        sys.setswitchinterval(old)


def test_the_deadline_covers_the_fallback_to_one_stream_too(h: Harness, tmp_path: Path) -> None:
    from openrouter_video.errors import DeadlineExceededError

    data = video(3 * MIB)
    h.fake.add_video("job-1", data, headers=digest_headers(data, wrong=True))  # segments, then one stream
    h.fake.rate = 1 * MIB
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        h.download("job-1", tmp_path / "out.mp4", max_connections=4, deadline=2.5)
    assert time.monotonic() - started < 3.5  # was 3.4 to 5 s: the fallback got a deadline of its own


def test_ctrl_c_while_the_threads_stop_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading as _threading

    sink = _sink(tmp_path, 64 * KIB)
    sink.start()
    real_join = _threading.Thread.join
    calls = [0]

    def join(self: Any, timeout: float | None = None) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt
        real_join(self, timeout)

    monkeypatch.setattr(_threading.Thread, "join", join)
    with pytest.raises(KeyboardInterrupt):
        sink.discard()
    monkeypatch.setattr(_threading.Thread, "join", real_join)
    assert not [t for t in _threading.enumerate() if t.name.startswith("openrouter-video-pwrite")]
    assert sorted(os.listdir(tmp_path)) == []


def test_a_206_shorter_than_asked_is_taken_and_the_rest_asked_for_again() -> None:
    # A server may send less than the range asked for; that is a cut, not another content.
    total = 8 * MIB
    policy = RetryPolicy(jitter=lambda: 0.0)
    core = SegmentCore(
        policy,
        what="GET x",
        content=Resumable(etag='"e"', total=total),
        plan=Plan(total, [Region(0, 4 * MIB, 4 * MIB, 4 * MIB), Region(4 * MIB, total, 4 * MIB, 4 * MIB)]),
        max_connections=1,
    )
    worker = core.add_worker()
    region = core.claim(worker)
    assert region is not None and region.start == 4 * MIB
    assert core.request_headers(worker)["Range"] == f"bytes={4 * MIB}-"  # the last region: open-ended
    end = 4 * MIB + 100 * KIB - 1
    decision = core.on_response(
        worker, 206, {"etag": '"e"', "content-range": f"bytes {4 * MIB}-{end}/{total}"}
    )
    assert isinstance(decision, Take)
    head = decision.head
    _, offset, data, done = core.on_chunk(
        worker, head.feed(b"v" * (100 * KIB)) if not head.passed else b"v" * (100 * KIB)
    )
    assert offset == 4 * MIB and len(data) == 100 * KIB and not done
    retry = core.on_body_end(worker, None, head)
    assert isinstance(retry, Retry) and retry.resume
    assert core.request_headers(worker)["Range"] == f"bytes={4 * MIB + 100 * KIB - OVERLAP}-"


def test_a_file_with_a_range_not_written_is_never_verified_as_whole(tmp_path: Path) -> None:
    from openrouter_video.errors import IncompleteDownloadError

    sink = _sink(tmp_path, 64 * KIB)
    sink.start()
    region = sink.plan.regions[0]
    sink.put(region, 0, b"x" * (32 * KIB))  # half of it
    try:
        with pytest.raises(IncompleteDownloadError, match="not all written"):
            sink.verify()
    finally:
        sink.discard()


def test_the_digest_is_taken_in_file_order_while_the_ranges_are_written(tmp_path: Path) -> None:
    """The hashing thread takes what extends the gap-free prefix as it is written, and reads back
    what other connections wrote beyond a gap once the gap is filled: nothing is left for the end,
    and the digest is that of the file (it was computed at the end before: 0.7 s per GiB more)."""
    data = random.Random(5).randbytes(3 * MIB)
    half = 2 * MIB
    sink = _sink(tmp_path, len(data), sha256=True)
    sink.plan = Plan(len(data), [Region(0, half, 0, 0), Region(half, len(data), half, half)])
    sink.start()
    try:
        back = sink.plan.regions[1]
        sink.put(back, half, data[half:])  # the back range first: beyond a gap, not hashed yet
        sink.flush()
        sink._settle_hashes()
        assert sink._hashed == 0
        front = sink.plan.regions[0]
        for at in range(0, half, 256 * KIB):
            sink.put(front, at, data[at : at + 256 * KIB])
            sink.flush()
            sink._settle_hashes()
            # each write extends the prefix, and once the gap is filled the back range is read back
            assert sink._hashed == (at + 256 * KIB if at + 256 * KIB < half else len(data))
        sink.verify()
        assert sink.sha256 == hashlib.sha256(data).hexdigest()
    finally:
        sink.discard()


@given(st.lists(st.integers(min_value=1, max_value=63), min_size=1, max_size=8), st.data())
@settings(max_examples=200, deadline=None)
def test_the_written_prefix_never_passes_a_byte_not_written(cuts: list[int], draw: st.DataObject) -> None:
    total = 64
    bounds = sorted(set(cuts) | {0, total})
    regions = [Region(a, b, a, a) for a, b in itertools.pairwise(bounds)]
    written = bytearray(total)
    for region in regions:
        region.written = region.pos = draw.draw(st.integers(min_value=region.start, max_value=region.end))
        written[region.start : region.written] = b"\x01" * (region.written - region.start)
    plan = Plan(total, regions, min_split=1)
    prefix = plan.written_prefix()
    assert all(written[:prefix])  # every byte before it is on disk
    assert prefix == total or not written[prefix]  # and it stops at the first one that is not


def test_a_stream_goes_on_by_ranges_only_when_slow_and_far_from_done() -> None:
    window = _segments.RAMP_WINDOW
    assert _segments.upgrade_rate(window / 2, 10 * MIB, 100 * MIB) is None  # not a second of body yet
    assert _segments.upgrade_rate(window, 8 * MIB, 100 * MIB) == 8 * MIB / window  # capped, far from done
    assert _segments.upgrade_rate(window, 8 * MIB, 4 * MIB) is None  # done within another window
    fast = _segments.UPGRADE_BELOW * window + 1  # as fast as a CPU- or disk-bound loopback stream
    assert _segments.upgrade_rate(window, int(fast), 100 * int(fast)) is None


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
            client.download("job-1", tmp_path / "out.mp4", max_connections=4, on_progress=progress)
    kept = caught.value.partial_path  # type: ignore[attr-defined]
    assert kept is not None and Path(kept).exists() and fake.peak_connections >= 2
    fake.rate = None
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.download("job-1", tmp_path / "out.mp4", max_connections=4)
    assert (tmp_path / "out.mp4").read_bytes() == data


def test_a_segmented_download_that_hits_its_deadline_says_it_stopped(h: Harness, tmp_path: Path) -> None:
    """It said "...; resuming" and then stopped."""
    from openrouter_video.errors import DeadlineExceededError

    data = video(12 * MIB)
    h.fake.add_video("job-1", data)
    h.fake.rate = 1 * MIB
    with pytest.raises(DeadlineExceededError) as caught:
        h.download("job-1", tmp_path / "out.mp4", max_connections=4, deadline=1.5)
    message = str(caught.value)
    assert "resuming" not in message and "deadline passed" in message, message
