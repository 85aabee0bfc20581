"""The segment machinery on its own (:mod:`openrouter_video.engine.segments`): the plan that tiles the
file and the segment core against a simulated server (the ramp: tests/test_ramp.py).

Sizes are scaled down as in tests/test_segments.py (its thresholds, patched here too)."""

from __future__ import annotations

import itertools
import random
import sys
from typing import Any

from helpers_segments import (
    KIB,
    MIB,
    small_thresholds,  # noqa: F401 - autouse fixture
)
from hypothesis import given, settings
from hypothesis import strategies as st
from openrouter_video.engine import segments as _segments
from openrouter_video.engine.core import OVERLAP, Resumable, Retry
from openrouter_video.engine.retry import RetryPolicy
from openrouter_video.engine.segments import Abandon, Plan, Region, SegmentCore, Take

# -- the plan ---------------------------------------------------------------------------------------


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


# -- the segment core -------------------------------------------------------------------------------


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
    core.ramp = _segments.Ramp(connections, now=0.0, received=0, total=total)
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


def test_a_withdrawn_range_goes_back_to_a_body_that_runs_on_through_it() -> None:
    live = Region(0, 50, 10, 10, owner=0, to_end=True)  # the first stream's body: on to the end
    bounded = Region(50, 75, 50, 50, owner=1)  # asked for bytes 50-74 only
    last = Region(75, 100, 75, 75, owner=2, to_end=True)
    plan = Plan(100, [live, bounded, last], min_split=1)
    plan.give_back(last)  # its neighbour's body stops at 75: nobody to take it back yet
    assert last in plan.regions and last.owner is None
    plan.give_back(bounded)  # the live body runs through both
    assert plan.regions == [live] and live.end == 100
    plan.check_tiling()
    # A region with bytes received, or a live body that already ended, takes nothing back.
    done = Region(0, 50, 50, 50, owner=0, to_end=True)
    started = Region(50, 100, 60, 60, owner=1)
    plan = Plan(100, [done, started], min_split=1)
    plan.give_back(started)
    assert len(plan.regions) == 2 and done.end == 50 and started.owner is None
