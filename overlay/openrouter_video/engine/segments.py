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
from typing import Any, Final, NamedTuple, Protocol

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
MIN_SEGMENTED_SIZE: Final = 2 * 1024 * 1024
#: A region is split only while at least this much of it is left (each half then has half of it).
MIN_SPLIT: Final = 1024 * 1024
#: The default and the largest ``max_connections``.
DEFAULT_MAX_CONNECTIONS: Final = 4
MAX_CONNECTIONS: Final = 16
#: The ramp's windows (seconds): as long as the first answer took (its handshakes), within these.
RAMP_WINDOW: Final = 0.1
RAMP_MAX_WINDOW: Final = 0.5
#: Still in slow start while a window brings this much more than the one before (at most this many).
RAMP_GROWTH: Final = 0.2
RAMP_WINDOWS: Final = 8
#: Add connections only while the rest takes this many windows more (a new one needs two; 3 was short).
RAMP_PAYS: Final = 5
#: A stream this fast (bytes a second) is held back by the CPU or the disk, not by a cap per
#: connection: the default never splits it. (Over loopback, 4 GiB split at 1.23x curl over HTTPS
#: against 1.24x unsplit; ``checksum="sha256"`` fell from 0.62x to 0.42x; the peak RSS rose 16 MiB.)
UPGRADE_BELOW: Final = 256 * 1024 * 1024
#: A connection added whose first answer took this many times as long as the first stream's did met a
#: full queue at the bottleneck: the link is full, and it would only take from the others (and, its
#: slow start overflowing the queue, make every connection lose packets). It withdraws. Up to
#: RAMP_QUEUE_MAX times: longer is a lost packet's timeout (a SYN's takes 1 s), not a queue.
RAMP_QUEUE: Final = 1.25
RAMP_QUEUE_MIN: Final = 0.02  # and this many seconds longer: less is no queue worth the name
RAMP_QUEUE_MAX: Final = 2.5
#: The kernel saw the queue when a probe's handshake took :data:`RAMP_QUEUE` times the first stream's,
#: and this many seconds longer (on loopback both are fractions of a millisecond).
RAMP_PATH_MIN: Final = 0.005
#: Reads the least round trip the kernel measured on a connection (:func:`~..fastio.tcp.least_rtt`).
PathRtt = Callable[[], "float | None"]


class Connections(NamedTuple):
    """``max_connections`` as asked: ``explicit`` (a number was given: open that many at once) or
    the adaptive default's cap (add connections while they pay, :class:`Ramp`)."""

    most: int
    explicit: bool = True


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
    to_end: bool = False  # its body runs on to the end of the file (the first stream's, an open range)

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
        donor = max((r for r in self.regions if r.owner is not None), key=lambda r: r.left, default=None)
        if not split or donor is None or donor.left < self.min_split:
            return None
        middle = donor.pos + donor.left // 2
        stolen = Region(middle, donor.end, middle, middle, owner=worker)
        donor.end = middle
        self.regions.append(stolen)
        return stolen

    def release(self, region: Region) -> None:
        """``region``'s worker stopped fetching it (done, or giving it up)."""
        region.owner = None

    def give_back(self, region: Region) -> None:
        """``region``'s worker withdraws. A region whose body runs on to the end of the file (and
        has not ended) takes back the regions after it that nobody fetches and nothing came of."""
        region.owner = None
        for donor in sorted(self.regions, key=lambda r: r.start):
            while donor.to_end and donor.owner is not None and donor.pos < donor.end:
                after = next((r for r in self.regions if r.start == donor.end and r.owner is None), None)
                if after is None or after.pos > after.start:
                    break
                donor.end = after.end
                self.regions.remove(after)

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
    """How many connections to add, and when, from the bytes received over time (sans I/O).

    An explicit ``max_connections`` opens them all at once. The adaptive default waits for the first
    stream to leave slow start, measuring windows of a round trip or more (:data:`RAMP_WINDOW`,
    ``rtt``: how long the first answer took): a window with :data:`RAMP_GROWTH` more than the one
    before is still slow start. Then the link is full or caps that stream (a cap per connection, or
    losses that keep its window small): a second connection's first answer tells (:meth:`queued`).
    One that waited in a full queue withdraws (after a second such probe, at the next plateau, it
    stays one stream; at once where the kernel saw the probe's handshake wait too: ``path``); else
    the others start at once. None is added when the rest would take fewer than :data:`RAMP_PAYS`
    windows, or the stream runs at :data:`UPGRADE_BELOW` or more."""

    def __init__(
        self,
        max_connections: int,
        now: float,
        received: int,
        *,
        total: int,
        explicit: bool = False,
        rtt: float = 0.0,
        path: PathRtt | None = None,
    ) -> None:
        self.max_connections, self.total, self.explicit, self.rtt = max_connections, total, explicit, rtt
        self.path = path
        self.window = min(max(RAMP_WINDOW, rtt), max(RAMP_WINDOW, RAMP_MAX_WINDOW))
        self.connections = 1
        self.settled = max_connections <= 1
        self._since, self._from, self._rates = now, received, list[float]()
        self._probed: bool | None = None  # the second connection: out (False), then judged (True)
        self._withdrawn = 0

    def want_more(self, now: float, received: int) -> int:
        """Called often with the clock and the bytes received so far: how many connections to start now."""
        if self.settled or (now - self._since < self.window and not self.explicit) or self._probed is False:
            return 0
        if not self.explicit:
            rate = (received - self._from) / (now - self._since)  # since the probe went out, if it did
            if not self._probed:
                rates = self._rates
                rates.append(rate)
                self._since, self._from = now, received
                growing = len(rates) < 2 or rates[-1] > rates[-2] * (1 + RAMP_GROWTH) or not rates[-1]
                if growing and len(rates) < RAMP_WINDOWS:
                    return 0
                rate = (rates[-1] + rates[-2]) / 2
            if rate >= UPGRADE_BELOW or self.total - received < rate * self.window * RAMP_PAYS:
                self.settled = True  # the CPU or the disk holds it back, or it is nearly done
                return 0
            if not self._probed:
                self._probed, self.connections = False, 2
                return 1
        added = self.max_connections - self.connections
        self.connections, self.settled = self.max_connections, True
        return added

    def queued(self, waited: float, probe: float | None = None) -> bool:
        """Whether a connection the adaptive ramp added, whose first answer took ``waited`` seconds
        (its handshake ``probe``, as the kernel measured it), waited in a full queue (:data:`RAMP_QUEUE`
        times the first stream's): then it withdraws."""
        self._probed = True
        first = self.path() if self.path is not None and probe is not None else None
        # The handshakes' round trips: the probe's met the queue, if any; the first stream's did not.
        full = bool(first and probe and probe >= max(first * RAMP_QUEUE, first + RAMP_PATH_MIN))
        low, high = max(self.rtt * RAMP_QUEUE, self.rtt + RAMP_QUEUE_MIN), self.rtt * RAMP_QUEUE_MAX
        if self.explicit or not (low < waited < high or (full and low < waited)):
            return False
        # Once more after the next plateau (a loss may have looked like a queue), then it stays one;
        # at once when the kernel saw the probe's handshake wait in that queue too.
        self.connections, self._probed, self._rates = self.connections - 1, None, []
        self._withdrawn += 1
        self.settled = self.settled or self._withdrawn >= 2 or full
        return True


@dataclass(frozen=True, slots=True)
class Abandon:
    """Stop the segments; ``changed``: the content changed (start again from byte 0), else the server
    does not serve the ranges as asked (one stream will do)."""

    reason: str
    changed: bool


@dataclass(frozen=True, slots=True)
class Withdraw:
    """This worker's connection met a full queue (:meth:`Ramp.queued`): its region was given back
    (:meth:`Plan.give_back`); close the response and stop."""


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
    probing: bool = False  # added by the ramp, its first answer not judged yet
    asked_at: float | None = None  # when its first request was sent


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
        explicit: bool = False,
        upgrade: Upgrade | None = None,
    ) -> None:
        """``explicit``: open ``max_connections`` at once (else ramp up). ``upgrade``: a single stream
        goes on as worker 0 (:meth:`continued`); its ramp goes on here, with the connections it added."""
        assert content.total is not None
        self.policy, self.what, self.content, self.total = policy, what, content, content.total
        self.plan, self.parse_model, self.deadline = plan, parse_model, deadline
        self._retries = RetryState(policy, deadline)
        #: Splitting needs a validator that If-Range can carry, so that no range ever mixes contents.
        self.can_split = max_connections > 1 and bool(content.if_range)
        most = max_connections if self.can_split else 1
        self.ramp = (
            upgrade.ramp
            if upgrade
            else Ramp(most, policy.clock(), plan.received, total=self.total, explicit=explicit)
        )
        self._adding = upgrade.added if upgrade else 0
        self.attempts = self.resumes = self.peak_connections = 0
        self._workers: dict[int, _Worker] = {}

    def add_worker(self) -> int:
        with self.plan.lock:  # workers' threads read the table while the shell adds to it
            number = len(self._workers)
            self._workers[number] = _Worker(retries=self._retries, probing=number > 0)
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
            self.ramp.settled = True  # nothing left to fetch: no point adding more
        return region

    def want_workers(self) -> int:
        """How many connections to start now (see :class:`Ramp`)."""
        adding, self._adding = self._adding, 0
        if not adding and self.can_split:
            adding = self.ramp.want_more(self.policy.clock(), self.plan.received)
        return adding

    def continued(self, worker: int) -> None:
        """``worker``'s region goes on with the body of the single stream it took over (no request)."""
        state, region = self._at(worker)
        state.asked_from = state.attempt_from = region.pos
        region.to_end = True

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
        if state.probing and state.asked_at is None:
            state.asked_at = self.policy.clock()
        # The last region asks for the rest as an open range (served by servers that only honour
        # those); it stops at its end if a thief moves it.
        last = "" if region.end == self.total else str(region.end - 1)
        region.to_end = not last
        headers = {"Accept-Encoding": "identity", "Range": f"bytes={state.asked_from}-{last}"}
        if self.content.if_range:
            headers["If-Range"] = self.content.if_range
        return headers

    def overlap(self, worker: int) -> bytes:
        region = self._at(worker)[1]
        return region.tail[-min(OVERLAP, region.pos - region.start) :] if region.pos > region.start else b""

    def on_response(
        self, worker: int, status: int, headers: Mapping[str, str], path: PathRtt | None = None
    ) -> Take | ReadBody | Abandon | Withdraw:
        """Judge a response to :meth:`request_headers` (``path``: see :data:`PathRtt`)."""
        state, region = self._at(worker)
        if status not in (200, 206, 416):
            return ReadBody()
        etag, modified = headers.get("etag") or None, headers.get("last-modified") or None
        known = self.content
        if status == 416:
            return Abandon(f"416 for bytes {state.asked_from}-{region.end - 1}: the content is shorter", True)
        parsed = parse_content_range(headers.get("content-range")) if status == 206 else None
        if known.differs(headers, parsed[2] if parsed else None):
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
        if state.probing and state.asked_at is not None:
            state.probing = False
            if self.ramp.queued(self.policy.clock() - state.asked_at, path() if path is not None else None):
                with self.plan.lock:
                    self.plan.give_back(region)
                    self.peak_connections -= 1
                state.region = None
                return Withdraw()
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
            region.tail = bytes((region.tail + data)[-OVERLAP:] if len(data) < OVERLAP else data[-OVERLAP:])
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
            reason = f"a range was cut at byte {region.pos} ({named_failure(exc)})"
        return self._cut(state, reason, exc, progressed=new >= MIN_PROGRESS)

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
    if not content.if_range:
        return "no strong ETag or Last-Modified for If-Range"
    return content


@dataclass
class Upgrade:
    """A single stream that goes on by ranges as worker 0: its ramp (which just ``added`` connections),
    its requests, where it had started, and (set by the client) its live body."""

    ramp: Ramp
    added: int
    attempts: int
    resumed_from: int
    at: int  # the bytes the live body has passed on: where the first range goes on
    live: Any = None


class Answer(Protocol):
    """The status and headers of a response (an :class:`httpx.Response` will do)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


@dataclass
class Watch:
    """Feeds a single stream whose first answer was :func:`worth_segmenting` to a :class:`Ramp`: when
    it adds connections, the stream goes on by ranges, as the first of them. Sizes are the bytes
    written so far; ``rtt``: how long the first answer took; ``path``: see :data:`PathRtt`."""

    core: DownloadCore
    clock: Callable[[], float]
    resumed_from: int
    connections: Connections
    rtt: float
    path: PathRtt | None = None
    resets: int = 0
    ramp: Ramp | None = None

    def start(self, answer: Answer | None, size: int) -> Watch | None:
        """This watch, for the stream that ``answer`` opened, if it is worth splitting; else ``None``."""
        if answer is None or isinstance(worth_segmenting(answer.status_code, answer.headers), str):
            return None  # not logged: one stream is the normal case (a small video, no ranges)
        return self._measure(size)

    def _measure(self, size: int) -> Watch:
        (most, explicit), total = self.connections, self.core.total or 0
        self.ramp = Ramp(
            most, self.clock(), size, total=total, explicit=explicit, rtt=self.rtt, path=self.path
        )
        return self

    def restarted(self, size: int) -> Watch | None:
        """After new content from byte 0: the first one starts the body (measure from now); a later one
        means new content, not the one judged worth splitting (stop watching)."""
        self.resets += 1
        return self._measure(size) if self.resets == 1 else None

    def upgrade(self, size: int) -> Upgrade | None:
        """After each chunk: the upgrade when the ramp adds connections."""
        assert self.ramp is not None
        added = self.ramp.want_more(self.clock(), size)
        return Upgrade(self.ramp, added, self.core.attempts, self.resumed_from, size) if added else None
