"""The ramp (:class:`openrouter_video.engine.segments.Ramp`): how many connections a download adds,
and when. Unit tests of its decisions, then a simulated network (a fluid model of TCP: handshakes,
slow start, a bottleneck shared max-min fairly, an optional cap per connection) that hypothesis drives
over round trips, link rates, caps and sizes, with the real ramp deciding."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openrouter_video.engine import segments as _segments
from openrouter_video.engine.segments import RAMP_WINDOW, Ramp

MIB = 1 << 20


class Feed:
    """Feeds a ramp one call a window, the bytes growing at ``rates[k]`` in window ``k``."""

    def __init__(self, ramp: Ramp, window: float = 0.125) -> None:  # exact in binary: no drift
        self.ramp, self.window, self.now, self.received = ramp, window, 0.0, 0.0

    def __call__(self, rates: list[float]) -> list[int]:
        """What each call answered."""
        answers = []
        for rate in rates:
            self.now += self.window
            self.received += rate * self.window
            answers.append(self.ramp.want_more(self.now, int(self.received)))
        return answers


def test_an_explicit_count_opens_every_connection_at_once() -> None:
    ramp = Ramp(8, 0.0, 0, total=8 * MIB, explicit=True)
    assert ramp.want_more(0.0, 0) == 7 and ramp.connections == 8 and ramp.settled
    assert ramp.want_more(5.0, MIB) == 0
    assert Ramp(1, 0.0, 0, total=8 * MIB, explicit=True).want_more(0.0, 0) == 0


def test_the_window_is_a_round_trip_or_more() -> None:
    assert Ramp(4, 0.0, 0, total=MIB).window == RAMP_WINDOW  # loopback: the shortest window
    assert Ramp(4, 0.0, 0, total=MIB, rtt=0.3).window == 0.3
    assert Ramp(4, 0.0, 0, total=MIB, rtt=5.0).window == _segments.RAMP_MAX_WINDOW  # a slow first answer


def test_slow_start_is_waited_out_then_every_connection_added() -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    # Doubling every window (slow start): no decision; flat: a second connection.
    assert feed([1e5, 2e5, 4e5, 8e5, 1.6e6, 1.6e6]) == [0, 0, 0, 0, 0, 1]
    assert feed([3.2e6] * 3) == [0] * 3  # until its first answer is judged
    assert not ramp.queued(0.125)  # no queue: the other two at once
    assert feed([3.2e6]) == [2] and ramp.connections == 4 and ramp.settled
    assert feed([6.4e6] * 5) == [0] * 5


def test_a_stream_that_never_settles_is_decided_after_the_last_window() -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    answers = feed([1e4 * 2**k for k in range(_segments.RAMP_WINDOWS)])
    assert answers == [0] * (_segments.RAMP_WINDOWS - 1) + [1]


def test_a_connection_that_waited_in_a_full_queue_withdraws() -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2)  # the first answer took 0.2 s
    feed = Feed(ramp, 0.25)
    assert feed([5e6] * 3) == [0, 1, 0] and ramp.connections == 2
    assert ramp.queued(0.2 * _segments.RAMP_QUEUE + 0.01)  # its answer waited: the link is full
    assert ramp.connections == 1 and not ramp.settled
    assert feed([5e6] * 3) == [0, 1, 0]  # once more at the next plateau (a loss can look like a queue)
    assert ramp.queued(0.2 * _segments.RAMP_QUEUE + 0.01)
    assert ramp.connections == 1 and ramp.settled and feed([5e6] * 3) == [0, 0, 0]


def test_a_first_answer_a_lost_packet_delayed_is_no_queue() -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2)
    feed = Feed(ramp, 0.25)
    assert feed([5e6] * 3) == [0, 1, 0]
    assert not ramp.queued(0.2 + 1.0)  # a lost SYN waits a second: a timeout, not a queue
    assert feed([5e6]) == [2] and ramp.connections == 4
    explicit = Ramp(4, 0.0, 0, total=MIB, explicit=True, rtt=0.2)
    explicit.want_more(0.0, 0)
    assert not explicit.queued(10.0)  # asked for: never withdrawn


def test_no_connection_joins_what_is_nearly_done() -> None:
    ramp = Ramp(4, 0.0, 0, total=5 * MIB, rtt=0.125)
    feed = Feed(ramp)
    assert feed([1e6, 4e6, 4e6]) == [0, 0, 1]
    assert not ramp.queued(0.125)
    # The probe doubles the rate, but what is left takes fewer than RAMP_PAYS windows at that rate.
    assert feed([8e6] * 3) == [0] * 3 and ramp.settled and ramp.connections == 2
    late = Ramp(4, 0.0, 0, total=3 * MIB, rtt=0.125)
    assert Feed(late)([1e6, 4e6, 4e6]) == [0, 0, 0] and late.settled and late.connections == 1


def test_a_queue_the_kernel_saw_too_keeps_one_stream_at_once() -> None:
    """The kernel's view (``path``): the probe's handshake took 1.45x the first stream's (which met an
    empty link). The queue is confirmed, no second probe: once CUBIC lost a packet or BBR drained
    the queue, that one would stay and slow the download (80 ms, 128 MiB: 8.5 s against 6.4 s)."""
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2, path=lambda: 0.080)
    feed = Feed(ramp, 0.25)
    assert feed([5e6] * 3) == [0, 1, 0]
    assert ramp.queued(0.2 * _segments.RAMP_QUEUE + 0.01, 0.116)
    assert ramp.connections == 1 and ramp.settled and feed([5e6] * 3) == [0, 0, 0]


def test_a_slow_answer_is_a_queue_not_a_loss_when_the_kernel_saw_the_queue() -> None:
    # 80 ms, a BDP of buffer: three round trips through a full queue can take 2.5x the first answer
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2, path=lambda: 0.080)
    feed = Feed(ramp, 0.25)
    assert feed([5e6] * 3) == [0, 1, 0]
    assert ramp.queued(0.2 * _segments.RAMP_QUEUE_MAX + 0.05, 0.15) and ramp.settled


@pytest.mark.parametrize(
    ("first", "probe"),
    [
        (0.080, 0.0802),  # a lossy link (or a cap): the probe's handshake met no queue
        (0.00005, 0.0009),  # loopback: 18x, but under RAMP_PATH_MIN
        (None, 0.15),  # no view of the first stream (or its socket closed)
        (0.080, None),  # none of the probe's
    ],
)
def test_unless_the_kernel_saw_the_queue_the_answer_times_decide(
    first: tuple | None, probe: tuple | None
) -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2, path=lambda: first)
    feed = Feed(ramp, 0.25)
    assert feed([5e6] * 3) == [0, 1, 0]
    assert not ramp.queued(0.2 * _segments.RAMP_QUEUE_MAX + 0.05, probe)  # slow as a loss: it stays
    assert feed([5e6]) == [2]
    once = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.2, path=lambda: first)
    assert Feed(once, 0.25)([5e6] * 3) == [0, 1, 0]
    assert once.queued(0.2 * _segments.RAMP_QUEUE + 0.01, probe) and not once.settled  # once more


# -- a simulated network ----------------------------------------------------------------------------

IW = 10 * 1448  # the initial congestion window (RFC 6928)
TICK = 0.05  # how often the drivers ask the ramp (io/_async/download.py's TICK)


@dataclass(eq=False)  # removed from lists by identity: two added at once are equal field by field
class Conn:
    ready: float  # when its first byte can arrive (its handshake and request are over)
    cwnd: float = IW


def share(demands: list[float], link: float) -> list[float]:
    """Max-min fair shares of ``link`` for connections wanting ``demands`` (bytes a second)."""
    got = [0.0] * len(demands)
    left, todo = link, sorted(range(len(demands)), key=lambda i: demands[i])
    while todo:
        fair = left / len(todo)
        i = todo.pop(0)
        got[i] = min(demands[i], fair)
        left -= got[i]
    return got


@dataclass
class Run:
    seconds: float
    connections: int
    probes: int = 0  # connections the ramp added, withdrawn ones included


def simulate(
    total: int,
    rtt: float,
    link: float,
    cap: float | None,
    most: int,
    *,
    explicit: bool = False,
    ramp: bool = True,
    kernel: bool = False,
) -> Run:
    """Download ``total`` bytes over ``link`` (bytes a second; its queue holds one bandwidth-delay
    product, full while the connections want more than the link) with round trip ``rtt``; each
    connection capped at ``cap``. With ``ramp``, the real :class:`Ramp` adds connections (each a new
    TCP connection: two round trips, queue included, before its first byte; one whose first answer
    the ramp finds queued withdraws as that answer comes); else ``most`` run from the start. With
    ``kernel``, the ramp sees the handshakes' round trips too (``Ramp(path=)``, ``queued(probe=)``)."""
    dt = min(rtt / 8, 0.002)
    first = 2 * rtt  # the first answer: TCP's handshake, then the request, on an idle link
    conns = [Conn(first) for _ in range(1 if ramp else most)]
    path = (lambda: rtt) if kernel else None  # the first stream's handshake, on an idle link
    decider = Ramp(most, first, 0, total=total, explicit=explicit, rtt=first, path=path) if ramp else None
    received, now, tick, full, probes = 0.0, 0.0, first, False, 0
    answers: list[tuple[Conn, float, float]] = []  # added, not judged yet: its answer's and handshake's times
    while received < total and now < 600:
        now += dt
        for conn, waited, handshake in [a for a in answers if now >= a[0].ready]:
            answers.remove((conn, waited, handshake))
            if decider is not None and decider.queued(waited, handshake if kernel else None):
                conns.remove(conn)  # withdrawn as its answer comes
        active = [c for c in conns if now >= c.ready]
        demands = [min(c.cwnd / rtt, cap or math.inf) for c in active]
        full = sum(demands) >= link
        for conn, demand, got in zip(active, demands, share(demands, link), strict=True):
            received += got * dt
            if got >= demand and (cap is None or demand < cap):
                conn.cwnd *= 2 ** (dt / rtt)  # slow start: it got all it sent for
            else:
                conn.cwnd = max(IW, got * rtt)  # held by the link (or its cap): its share
        if decider is not None and now >= tick:
            tick += TICK
            for _ in range(decider.want_more(now, int(min(received, total)))):
                handshake = rtt + (rtt if full else 0.0)  # the queue delays the handshake and the request
                conns.append(Conn(now + 2 * handshake))
                answers.append((conns[-1], 2 * handshake, handshake))
                probes += 1
    return Run(now, len(conns), probes)


links = st.sampled_from([2e6, 12.5e6, 25e6, 87.5e6])  # 16, 100, 200, 700 Mbit/s
rtts = st.sampled_from([0.005, 0.02, 0.08, 0.2])


@settings(max_examples=40, deadline=None)
@given(rtt=rtts, link=links, size=st.sampled_from([2, 8, 32, 128]))
def test_a_link_one_stream_fills_stays_one_stream(rtt: float, link: float, size: int) -> None:
    total = size * MIB
    one = simulate(total, rtt, link, None, 1, ramp=False)
    adaptive = simulate(total, rtt, link, None, 4)
    if 2 * rtt > _segments.RAMP_QUEUE_MIN:  # a full queue delays a first answer by that much
        assert adaptive.connections == 1, adaptive
    assert adaptive.seconds <= one.seconds + TICK, (adaptive, one)


@settings(max_examples=40, deadline=None)
@given(rtt=rtts, link=links, size=st.sampled_from([8, 32, 128]))
def test_where_the_kernel_sees_the_queue_a_full_link_is_probed_once(
    rtt: float, link: float, size: int
) -> None:
    total = size * MIB
    one = simulate(total, rtt, link, None, 1, ramp=False)
    adaptive = simulate(total, rtt, link, None, 4, kernel=True)
    if 2 * rtt > _segments.RAMP_QUEUE_MIN:  # the answer waited in the queue, and the handshake with it
        assert adaptive.connections == 1 and adaptive.probes <= 1, adaptive
    assert adaptive.seconds <= one.seconds + TICK, (adaptive, one)


@settings(max_examples=40, deadline=None)
@given(
    rtt=rtts,
    cap=st.sampled_from([0.5e6, 2e6, 5 * MIB]),
    size=st.sampled_from([8, 32, 128]),
    kernel=st.booleans(),
)
def test_under_a_cap_per_connection_the_ramp_opens_them_all_once_the_first_is_out_of_slow_start(
    rtt: float, cap: float, size: int, kernel: bool
) -> None:
    total, link = size * MIB, 100e6
    adaptive = simulate(total, rtt, link, cap, 4, kernel=kernel)
    eager = simulate(total, rtt, link, cap, 4, ramp=False)
    one = simulate(total, rtt, link, cap, 1, ramp=False)
    assert adaptive.seconds <= one.seconds + TICK
    window = Ramp(4, 0.0, 0, total=total, rtt=2 * rtt).window
    # What waiting out slow start costs is a few windows, whatever the size.
    assert adaptive.seconds <= eager.seconds + 4 * window + 2 * rtt + 2 * TICK, (adaptive, eager)
    if one.seconds > 10 * window + 4 * rtt:  # long enough to pay: all four
        assert adaptive.connections == 4, (adaptive, eager, one)


@settings(max_examples=20, deadline=None)
@given(rtt=rtts, cap=st.sampled_from([None, 2e6]), most=st.integers(2, 16))
def test_an_explicit_count_runs_as_many_as_asked_from_the_start(
    rtt: float, cap: float | None, most: int
) -> None:
    run = simulate(32 * MIB, rtt, 100e6, cap, most, explicit=True)
    assert run.connections == most
