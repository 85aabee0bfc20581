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
from openrouter_video.engine.segments import RAMP_WINDOW, UPGRADE_BELOW, Ramp

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


def test_slow_start_is_waited_out_and_the_plateau_measured() -> None:
    ramp = Ramp(4, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    # Doubling every window (slow start): no decision; flat: one more connection.
    assert feed([1e5, 2e5, 4e5, 8e5, 1.6e6, 1.6e6]) == [0, 0, 0, 0, 0, 1]
    assert ramp.connections == 2  # flat at 1.6 MB/s: a probe with two


def test_a_link_one_stream_fills_stays_at_two() -> None:
    ramp = Ramp(8, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    assert sum(feed([5e6] * 3)) == 1  # a plateau at 5 MB/s: probe
    # One window to settle, then the same 5 MB/s with two: the second did not pay.
    assert sum(feed([5e6] * 6)) == 0 and ramp.settled and ramp.connections == 2


def test_a_cap_per_connection_quadruples_the_count() -> None:
    ramp = Ramp(16, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    assert sum(feed([1e6] * 3)) == 1  # 1 MB/s each
    assert sum(feed([2e6] * 4)) == 6  # doubled with two: a cap; now 8
    assert sum(feed([8e6] * 4)) == 8 and ramp.connections == 16 and ramp.settled


def test_a_step_that_brings_too_little_stops_the_ramp() -> None:
    ramp = Ramp(8, 0.0, 0, total=1000 * MIB, rtt=0.125)
    feed = Feed(ramp)
    feed([1e6] * 3)
    assert sum(feed([1.5e6] * 4)) == 2  # +50% for one more: doubled to 4
    assert sum(feed([1.7e6] * 6)) == 0 and ramp.settled  # +13% for two more (< 2 x 15%)
    assert ramp.connections == 4


@pytest.mark.parametrize(
    ("rate", "total"),
    [(UPGRADE_BELOW * 1.01, 100 * UPGRADE_BELOW), (1e6, 1e6 * 0.125 * (2 + 3) - 1)],
    ids=["as fast as the CPU", "done within three windows"],
)
def test_no_probe_where_it_cannot_pay(rate: float, total: float) -> None:
    ramp = Ramp(4, 0.0, 0, total=int(total), rtt=0.125)
    feed = Feed(ramp)
    assert sum(feed([rate] * 10)) == 0 and ramp.settled and ramp.connections == 1


# -- a simulated network ----------------------------------------------------------------------------

IW = 10 * 1448  # the initial congestion window (RFC 6928)
TICK = 0.05  # how often the drivers ask the ramp (io/_async/download.py's TICK)


@dataclass
class Conn:
    ready: float  # when its first byte can arrive (its handshake and request are over)
    cwnd: float = IW
    received: float = 0.0


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
    full_at: float | None  # when the last connection was added


def simulate(
    total: int,
    rtt: float,
    link: float,
    cap: float | None,
    most: int,
    *,
    explicit: bool = False,
    ramp: bool = True,
) -> Run:
    """Download ``total`` bytes over ``link`` (bytes a second) with round trip ``rtt``; each connection
    capped at ``cap``. With ``ramp``, the real :class:`Ramp` adds connections (each new one is a new
    TCP connection: two round trips before its first byte); else ``most`` run from the start."""
    dt = min(rtt / 8, 0.002)
    first = 2 * rtt  # the first answer: TCP's handshake, then the request
    conns = [Conn(first) for _ in range(1 if ramp else most)]
    decider = Ramp(most, first, 0, total=total, explicit=explicit, rtt=first) if ramp else None
    received, now, tick, full_at, newest = 0.0, 0.0, first, None, conns[:]
    while received < total and now < 600:
        now += dt
        active = [c for c in conns if now >= c.ready]
        demands = [min(c.cwnd / rtt, cap or math.inf) for c in active]
        for conn, demand, got in zip(active, demands, share(demands, link), strict=True):
            received += got * dt
            conn.received += got * dt
            if got >= demand and (cap is None or demand < cap):
                conn.cwnd *= 2 ** (dt / rtt)  # slow start: it got all it sent for
            else:
                conn.cwnd = max(IW, got * rtt)  # held by the link (or its cap): its share
        if decider is not None and now >= tick:
            tick += TICK
            fresh = int(sum(c.received for c in newest))
            if added := decider.want_more(now, int(min(received, total)), fresh):
                newest = [Conn(now + 2 * rtt) for _ in range(added)]
                conns += newest
                full_at = now
    return Run(now, len(conns), full_at)


links = st.sampled_from([2e6, 12.5e6, 25e6, 87.5e6])  # 16, 100, 200, 700 Mbit/s
rtts = st.sampled_from([0.005, 0.02, 0.08, 0.2])


@settings(max_examples=40, deadline=None)
@given(rtt=rtts, link=links, size=st.sampled_from([2, 8, 32, 128]))
def test_on_a_link_one_stream_fills_the_ramp_adds_at_most_one_and_never_costs(
    rtt: float, link: float, size: int
) -> None:
    total = size * MIB
    one = simulate(total, rtt, link, None, 1, ramp=False)
    adaptive = simulate(total, rtt, link, None, 4)
    assert adaptive.connections <= 2, adaptive
    assert adaptive.seconds <= one.seconds / 0.97 + TICK, (adaptive, one)


@settings(max_examples=40, deadline=None)
@given(rtt=rtts, cap=st.sampled_from([0.5e6, 2e6, 5 * MIB]), size=st.sampled_from([8, 32, 128]))
def test_under_a_cap_per_connection_the_ramp_reaches_its_connections_within_a_few_windows(
    rtt: float, cap: float, size: int
) -> None:
    total, link = size * MIB, 100e6
    adaptive = simulate(total, rtt, link, cap, 4)
    eager = simulate(total, rtt, link, cap, 4, ramp=False)
    one = simulate(total, rtt, link, cap, 1, ramp=False)
    assert adaptive.seconds <= one.seconds + TICK
    window = Ramp(4, 0.0, 0, total=total, rtt=2 * rtt).window
    # What the ramp costs is a few windows and handshakes, whatever the size.
    assert adaptive.seconds <= eager.seconds + 10 * window + 4 * rtt + 3 * TICK, (adaptive, eager)
    if one.seconds > 30 * window + 8 * rtt:  # long enough for every step to pay: it reaches 4
        assert adaptive.connections == 4, (adaptive, eager, one)


@settings(max_examples=20, deadline=None)
@given(rtt=rtts, cap=st.sampled_from([None, 2e6]), most=st.integers(2, 16))
def test_an_explicit_count_runs_as_many_as_asked_from_the_start(
    rtt: float, cap: float | None, most: int
) -> None:
    run = simulate(32 * MIB, rtt, 100e6, cap, most, explicit=True)
    assert run.connections == most and run.full_at is not None and run.full_at <= 2 * rtt + TICK
