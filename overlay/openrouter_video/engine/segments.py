"""Segmented downloads, sans I/O: the regions of one file, who fetches which, when to add a
connection, and what each range response means.

A segmented download fetches one video as several byte ranges (``Range: bytes=a-b``), each over its
own connection, into one preallocated partial file: the regions are a :class:`Plan` (with work
stealing), the connections a :class:`Ramp`, and :class:`SegmentCore` judges every range response by
the rules of a single stream (status, ``Content-Range`` and validators exactly as asked; a resume
re-reads :data:`~.core.OVERLAP` bytes, :class:`~.core.Head`). Any content change, or a range served
other than asked, abandons the segments (:class:`Abandon`). The I/O is
:func:`~..io._async.download.run_segments` (tasks, or threads for the sync client).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .core import (
    MIN_PROGRESS,
    OVERLAP,
    DownloadCore,
    Fail,
    Failure,
    Head,
    ParseModel,
    ReadBody,
    Resumable,
    Retry,
    _Decisions,
    content_length,
    named_failure,
    not_video,
    parse_content_range,
)
from .retry import RetryPolicy, RetryState

#: Videos smaller than this are fetched over one connection (segments would not pay off).
MIN_SEGMENTED_SIZE: Final = 16 * 1024 * 1024
#: A region is split only while at least this much of it is left (each half then has half of it).
MIN_SPLIT: Final = 4 * 1024 * 1024
#: The default and the largest ``max_connections``.
DEFAULT_MAX_CONNECTIONS: Final = 4
MAX_CONNECTIONS: Final = 16
#: How long the throughput is measured at each number of connections before deciding again.
RAMP_WINDOW: Final = 1.0
#: How long after adding connections the measurement of the new count starts.
RAMP_SETTLE: Final = 0.1
#: Connections are added while each one the last step added raised the combined throughput by this
#: much (a fraction of the throughput before the step).
RAMP_GAIN: Final = 0.15
#: When the throughput per connection after a step is at least this fraction of what it was
#: before (it grows with the count: the link caps each connection), the next step quadruples the
#: count instead of doubling it (1, 2, 8, 16), so that a capped download reaches its connections a
#: measurement sooner.
RAMP_LINEAR: Final = 0.8


@dataclass(eq=False)
class Region:
    """Bytes ``[start, end)`` of the file; ``[start, pos)`` are received, ``[start, written)`` on disk.

    ``end`` only ever shrinks (when another worker steals the rest); ``owner`` is the worker
    fetching it; ``tail`` the last bytes received (at most :data:`~.core.OVERLAP`), re-read and
    compared on the next range request of this region.
    """

    start: int
    end: int
    pos: int
    written: int
    owner: int | None = None
    tail: bytes = b""

    @property
    def left(self) -> int:
        return max(0, self.end - self.pos)


class Plan:
    """The regions of one file of ``total`` bytes; they always tile ``[0, total)`` exactly."""

    def __init__(self, total: int, regions: list[Region] | None = None, *, min_split: int | None = None):
        self.total = total
        self.min_split = MIN_SPLIT if min_split is None else min_split
        self.regions = regions if regions is not None else [Region(0, total, 0, 0)]
        #: Held while regions are claimed, split or advanced, and while the journal is read (the
        #: writer thread records it while the workers go on).
        self.lock = threading.Lock()
        self.check_tiling()

    def check_tiling(self) -> None:
        """Raise :class:`ValueError` unless the regions tile ``[0, total)`` with no gap or overlap."""
        at = 0
        for region in sorted(self.regions, key=lambda r: r.start):
            if region.start != at or not (region.start <= region.written <= region.pos <= region.end):
                raise ValueError(f"regions do not tile the file at byte {at}: {region}")
            at = region.end
        if at != self.total:
            raise ValueError(f"regions end at {at}, not at {self.total}")

    @property
    def received(self) -> int:
        """Bytes of the file received so far (all regions)."""
        return sum(r.pos - r.start for r in self.regions)

    def written_prefix(self) -> int:
        """How many bytes from the start of the file are on disk with no gap before them (the part
        a running digest can take in order). Call with :attr:`lock` held."""
        at = 0
        for region in sorted(self.regions, key=lambda r: r.start):
            if region.start != at:
                break
            at = region.written
            if region.written < region.end:
                break
        return at

    @property
    def complete(self) -> bool:
        """Every byte received."""
        return all(r.pos == r.end for r in self.regions)

    def claim(self, worker: int, *, split: bool) -> Region | None:
        """A region for ``worker`` to fetch: an unowned one with bytes left, else (``split``) the back
        half of the owned region with the most left (its owner stops at the split point)."""
        for region in sorted(self.regions, key=lambda r: r.start):
            if region.owner is None and region.left:
                region.owner = worker
                return region
        if not split:
            return None
        donor = max((r for r in self.regions if r.owner is not None), key=lambda r: r.left, default=None)
        if donor is None or donor.left < self.min_split:
            return None
        middle = donor.pos + donor.left // 2
        stolen = Region(middle, donor.end, middle, middle, owner=worker)
        donor.end = middle
        self.regions.append(stolen)
        return stolen

    def release(self, region: Region) -> None:
        """``region``'s worker stopped fetching it (done, or giving it up)."""
        region.owner = None

    def journal(self) -> list[list[int]]:
        """``[start, written, end]`` of every region, in order: what a state file records."""
        with self.lock:
            return [[r.start, r.written, r.end] for r in sorted(self.regions, key=lambda r: r.start)]

    @classmethod
    def from_journal(cls, total: int, entries: Any) -> Plan | None:
        """The plan a state file recorded (every region continues at its ``written``), or ``None``
        when the entries are malformed or do not tile the file."""
        if not isinstance(entries, list) or not entries:
            return None
        if not all(isinstance(e, list) and len(e) == 3 and all(type(x) is int for x in e) for e in entries):
            return None
        try:
            return cls(total, [Region(start, end, written, written) for start, written, end in entries])
        except ValueError:
            return None


class Ramp:
    """How many connections to add, and when: the count doubles (1, 2, 4, 8, ...) after each
    :data:`RAMP_WINDOW` of measurement while the last step raised the combined throughput by
    :data:`RAMP_GAIN` per connection it added (two more must bring +30%), and quadruples after a
    step that kept :data:`RAMP_LINEAR` of the throughput per connection; else it stops there. Each
    measurement starts :data:`RAMP_SETTLE` after its step, once the new connections are sending."""

    def __init__(
        self, max_connections: int, now: float, received: int, measured: float | None = None
    ) -> None:
        self.max_connections = max_connections
        self.connections = 1
        self.settled = max_connections <= 1
        self._since: float = now
        self._from: int | None = received
        self._previous: float | None = None  # throughput before the last step
        self._added = 0  # connections the last step added
        if measured is not None:  # one connection was measured already (see upgrade_rate): step now
            self._since = now - RAMP_WINDOW
            self._from = received - int(measured * RAMP_WINDOW)

    def want_more(self, now: float, received: int) -> int:
        """Called often with the clock and the bytes received so far: how many connections to start now."""
        if self.settled or now < self._since:
            return 0
        if self._from is None:  # the settling time after a step is over: measure from here
            self._since, self._from = now, received
            return 0
        if now - self._since < RAMP_WINDOW:
            return 0
        rate = (received - self._from) / (now - self._since)
        if self._previous is not None and rate < self._previous * (1 + RAMP_GAIN * self._added):
            self.settled = True  # the last step did not pay: keep what there is
            return 0
        # Linear: the throughput per connection held through the last step (a cap per connection).
        before = self.connections - self._added
        linear = (
            self._previous is not None and rate * before >= RAMP_LINEAR * self._previous * self.connections
        )
        self._previous = rate
        self._added = min(self.connections * (3 if linear else 1), self.max_connections - self.connections)
        self.connections += self._added
        self.settled = self.connections >= self.max_connections
        self._since, self._from = now + RAMP_SETTLE, None
        return self._added

    def lost(self) -> None:
        """A worker found nothing left to fetch: no point adding more."""
        self.settled = True


@dataclass(frozen=True, slots=True)
class Abandon:
    """Stop the segments; ``changed``: the content changed (start again from byte 0), else the server
    does not serve the ranges as asked (one stream will do)."""

    reason: str
    changed: bool


@dataclass(frozen=True, slots=True)
class Take:
    """Read the body: its bytes continue ``region`` (after ``head`` has checked the overlap)."""

    head: Head


@dataclass
class _Worker:
    retries: RetryState
    region: Region | None = None
    asked_from: int = 0
    attempt_from: int = 0


def is_strong(etag: str | None) -> bool:
    return bool(etag) and not str(etag).startswith("W/")


class SegmentCore(_Decisions):
    """The decisions of one segmented download of ``content`` (whose ``total`` is known).

    Workers are numbered; each fetches one region at a time, claimed with :meth:`claim`. For each
    request: :meth:`request_headers`, then :meth:`on_response`, then every chunk through
    :meth:`on_chunk` (which says where its bytes go), then :meth:`on_body_end`.
    """

    total: int

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        what: str,
        content: Resumable,
        plan: Plan,
        max_connections: int,
        parse_model: ParseModel | None = None,
        deadline: float | None = None,
        measured: float | None = None,
    ) -> None:
        """``measured``: the throughput one connection already had (bytes a second), so that the
        ramp's first step is taken at once."""
        assert content.total is not None
        self.policy, self.what, self.content, self.total = policy, what, content, content.total
        self.plan, self.parse_model, self.deadline = plan, parse_model, deadline
        self._retries = RetryState(policy, deadline)
        #: Splitting needs a validator that If-Range can carry, so that no range ever mixes contents.
        self.can_split = max_connections > 1 and (is_strong(content.etag) or bool(content.last_modified))
        self.ramp = Ramp(max_connections if self.can_split else 1, policy.clock(), plan.received, measured)
        self.attempts = 0
        self.resumes = 0
        self.peak_connections = 0
        self._workers: dict[int, _Worker] = {}

    def add_worker(self) -> int:
        with self.plan.lock:  # workers' threads read the table while the shell adds to it
            number = len(self._workers)
            self._workers[number] = _Worker(retries=self._retries)
        return number

    def claim(self, worker: int) -> Region | None:
        """The next region ``worker`` fetches, or ``None`` when there is nothing left for it."""
        state = self._workers[worker]
        with self.plan.lock:
            if state.region is not None:
                self.plan.release(state.region)
            region = self.plan.claim(worker, split=self.can_split)
            state.region = region
            fetching = sum(1 for w in self._workers.values() if w.region is not None)
            self.peak_connections = max(self.peak_connections, fetching)
        state.retries = self._retries
        if region is None:
            self.ramp.lost()
        return region

    def want_workers(self) -> int:
        """How many connections to start now (see :class:`Ramp`)."""
        return self.ramp.want_more(self.policy.clock(), self.plan.received) if self.can_split else 0

    @property
    def complete(self) -> bool:
        return self.plan.complete

    def _at(self, worker: int) -> tuple[_Worker, Region]:
        state = self._workers[worker]
        assert state.region is not None
        return state, state.region

    def request_headers(self, worker: int) -> dict[str, str]:
        """``Range`` (the region's rest, with the overlap before it; open-ended for the last region)
        and ``If-Range``; counts an attempt."""
        with self.plan.lock:
            self.attempts += 1
        state, region = self._at(worker)
        state.asked_from = region.pos - len(self.overlap(worker))
        state.attempt_from = region.pos
        # The last region asks for the rest as an open range (served by servers that only honour
        # those); it stops at its end if a thief moves it.
        last = "" if region.end == self.total else str(region.end - 1)
        headers = {"Accept-Encoding": "identity", "Range": f"bytes={state.asked_from}-{last}"}
        validator = self.content.etag if is_strong(self.content.etag) else self.content.last_modified
        if validator:
            headers["If-Range"] = validator
        return headers

    def overlap(self, worker: int) -> bytes:
        region = self._at(worker)[1]
        return region.tail[-min(OVERLAP, region.pos - region.start) :] if region.pos > region.start else b""

    def on_response(self, worker: int, status: int, headers: Mapping[str, str]) -> Take | ReadBody | Abandon:
        """Judge a response to :meth:`request_headers`."""
        state, region = self._at(worker)
        if status not in (200, 206, 416):
            return ReadBody()
        etag, modified = headers.get("etag") or None, headers.get("last-modified") or None
        known = self.content
        if status == 416:
            return Abandon(f"416 for bytes {state.asked_from}-{region.end - 1}: the content is shorter", True)
        parsed = parse_content_range(headers.get("content-range")) if status == 206 else None
        if known.differs(headers) or (parsed is not None and parsed[2] not in (None, self.total)):
            return Abandon(
                f"a range answered with ETag {etag!r}, Last-Modified {modified!r} and Content-Range "
                f"{headers.get('content-range')!r}: the content changed (ETag {known.etag!r}, "
                f"{self.total} bytes)",
                True,
            )
        encoding = headers.get("content-encoding", "identity").strip().lower()
        fits = (
            status == 206
            and parsed is not None
            and parsed[0] == state.asked_from
            and parsed[1] >= region.pos  # less than asked is allowed: the rest is asked for again
            and encoding in ("", "identity")
        )
        if not fits:
            return Abandon(
                f"the server answered bytes={state.asked_from}-{region.end - 1} with {status} and "
                f"Content-Range {headers.get('content-range')!r}",
                False,
            )
        if state.asked_from < region.pos or region.pos > region.start:
            self.resumes += 1
        return Take(Head(self.overlap(worker), sniff=region.pos == 0, content_type=known.content_type))

    def on_chunk(self, worker: int, chunk: bytes) -> tuple[Region, int, bytes, bool]:
        """Bytes of the body (past the head's checks): ``(region, offset, data, done)``. ``data`` is
        what to write at ``offset`` (cut at the region's end, which may have moved); ``done``: the
        region is complete, stop reading this body."""
        region = self._at(worker)[1]
        with self.plan.lock:  # a thief may be moving the end
            at = region.pos
            data = chunk[: max(0, region.end - at)] if at + len(chunk) > region.end else chunk
            region.pos = at + len(data)
            done = region.pos >= region.end
        if data:
            keep = (region.tail + data)[-OVERLAP:] if len(data) < OVERLAP else data[-OVERLAP:]
            region.tail = bytes(keep)
        return region, at, data, done

    def on_body_end(
        self, worker: int, exc: Failure | Exception | None, head: Head | None
    ) -> Retry | Fail | Abandon | None:
        """The body stopped (``exc`` or cleanly); ``None``: the region is complete (claim the next)."""
        state, region = self._at(worker)
        if head is not None and head.failed == "mismatch":
            return Abandon(
                f"the bytes re-read before byte {region.pos} differ from those kept: the content changed",
                True,
            )
        if head is not None and head.failed == "not-video":
            snippet = bytes(head.held[:200]).decode("utf-8", "replace")
            return not_video(self.what, self.content.content_type, snippet)
        if region.pos >= region.end:
            return None
        new = region.pos - state.attempt_from
        if new >= MIN_PROGRESS:
            state.retries = state.retries.progressed()
        if exc is None:
            reason = f"a range ended early at byte {region.pos} of {region.start}-{region.end}"
        else:
            if isinstance(exc, Failure) and not exc.retryable:
                return Fail(exc.error(self.what))
            reason = f"a range was cut at byte {region.pos} ({named_failure(exc)})"
        return self._cut(state, reason, progressed=new >= MIN_PROGRESS)

    def on_error_body(
        self, worker: int, status: int, headers: Mapping[str, str], body: bytes
    ) -> Retry | Fail:
        """Decide after reading the body of a response that is not the range."""
        return self._answer_failed(self._workers[worker], status, headers, body)

    def on_request_error(self, worker: int, failure: Failure) -> Retry | Fail:
        """Sending the request or reading its response headers failed."""
        return self._request_failed(self._workers[worker], failure)

    def time_left(self) -> float | None:
        return self._retries.time_left()

    def _kept(self) -> int:
        return self.plan.received


def worth_segmenting(status: int, headers: Mapping[str, str]) -> Resumable | str:
    """Whether the answer to the plain GET that starts a download (what one stream sends first)
    allows a segmented download later: the content it describes, else why one stream goes on with
    the response. It must be a 200 that says ``Accept-Ranges: bytes`` and gives its
    ``Content-Length`` (at least :data:`MIN_SEGMENTED_SIZE`) and a validator ``If-Range`` can carry."""
    if status != 200:
        return f"the server answered with {status}"
    ranges = {unit.strip().lower() for unit in headers.get("accept-ranges", "").split(",")}
    if "bytes" not in ranges:
        return "the server does not say it serves byte ranges (no Accept-Ranges: bytes)"
    total = content_length(headers)
    if total is None:
        return "no Content-Length"
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return f"Content-Encoding {encoding!r}"
    if total == 0:
        return "an empty file"
    if total < MIN_SEGMENTED_SIZE:
        return f"{total} bytes, under {MIN_SEGMENTED_SIZE}"
    content = Resumable.of(headers, total)
    if not (is_strong(content.etag) or content.last_modified):
        return "no strong ETag or Last-Modified for If-Range"
    return content


#: A single stream this fast (bytes a second) is not held back by a cap per connection but by the
#: CPU or the disk, where more connections cost more than they bring: it is never split. (Over
#: loopback, 4 GiB downloads split after their first second ran at 1.23x curl over HTTPS against
#: 1.24x for 1 GiB ones that were not, ``checksum="sha256"`` over HTTP fell from 0.62x to 0.42x of
#: the plain download, and the peak RSS rose by 16 MiB.) Capped links are far below it: the
#: per-connection caps that segmented downloads are for run from under 1 to tens of MB/s.
UPGRADE_BELOW: Final = 256 * 1024 * 1024


def upgrade_rate(elapsed: float, received: int, remaining: int) -> float | None:
    """The throughput of a single stream of a video :func:`worth_segmenting`, ``elapsed`` seconds
    (at least :data:`RAMP_WINDOW`) into its body with ``received`` bytes of it, when it goes on by
    ranges: under :data:`UPGRADE_BELOW`, with more than another window's worth left; else ``None``."""
    if elapsed < RAMP_WINDOW or received <= 0:
        return None
    rate = received / elapsed
    return rate if rate < UPGRADE_BELOW and remaining > rate * RAMP_WINDOW else None


@dataclass(frozen=True)
class Upgrade:
    """A single stream that goes on by ranges: its throughput, requests, and where it had started."""

    rate: float
    attempts: int
    resumed_from: int


class Answer(Protocol):
    """The status and headers of a response (an :class:`httpx.Response` will do)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


class Watch:
    """Watches a single stream whose first answer was :func:`worth_segmenting`: after a second of
    body, :func:`upgrade_rate` says whether it goes on by ranges. Sizes are the bytes written so far."""

    def __init__(self, core: DownloadCore, clock: Callable[[], float], size: int, resumed_from: int) -> None:
        self.core, self.clock, self.resumed_from = core, clock, resumed_from
        self.started, self.start_size = clock(), size
        self.resets = 0

    @staticmethod
    def start(
        core: DownloadCore, answer: Answer | None, clock: Callable[[], float], size: int, resumed_from: int
    ) -> Watch | None:
        """A watch for the stream that ``answer`` opened, if it is worth splitting."""
        if answer is None or isinstance(worth_segmenting(answer.status_code, answer.headers), str):
            return None  # not logged: one stream is the normal case (a small video, no ranges)
        return Watch(core, clock, size, resumed_from)

    def restarted(self, size: int) -> Watch | None:
        """After new content from byte 0: the first one starts the body (watch from now); a later one
        means new content, not the one judged worth splitting (stop watching)."""
        self.resets += 1
        if self.resets > 1:
            return None
        self.started, self.start_size = self.clock(), size
        return self

    def upgrade(self, size: int) -> Upgrade | None:
        """After each chunk: the upgrade when it is due."""
        total = self.core.total
        if total is None:
            return None
        rate = upgrade_rate(self.clock() - self.started, size - self.start_size, total - size)
        return None if rate is None else Upgrade(rate, self.core.attempts, self.resumed_from)
