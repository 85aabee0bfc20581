"""Retries of downloads, sync and async, against real loopback servers: which statuses are retried and
which cost one request, Retry-After, outages ridden out, attempts that bring nothing, trickles, and the
deadline that bounds it all; and the notes they log."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Harness, _content_requests, content_requests, no_temp_files, ranges
from openrouter_video import (
    APIConnectionError,
    AsyncVideoClient,
    AuthenticationError,
    DeadlineExceededError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    VideoClient,
)
from openrouter_video.engine.core import OVERLAP, DownloadCore, Fail, Retry
from openrouter_video.errors import APIStatusError, IncompleteDownloadError, OpenRouterVideoError
from openrouter_video.io.http import failure
from openrouter_video.testing import Cut, FakeOpenRouter, Outage, Stall, Status, Trickle

MIB = 1024 * 1024
KEY = "sk-or-v1-" + "k3y" * 12


# -- statuses and Retry-After ------------------------------------------------------------------------


def test_429_with_retry_after_seconds(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(429, retry_after=7))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert h.sleeps == [7.0]
    assert result.attempts == 2


def test_503_with_retry_after_as_an_http_date(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    h.fake.enqueue(Status(503, retry_after=when))
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    (slept,) = h.sleeps
    assert 17.0 <= slept <= 20.5
    assert len(content_requests(h.fake)) == 2


def test_retry_after_above_the_maximum_raises_at_once(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(429, retry_after=3600))
    with pytest.raises(RateLimitError) as caught:
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert caught.value.status_code == 429 and caught.value.retry_after == 3600
    assert h.sleeps == [] and len(content_requests(h.fake)) == 1


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("status", [500, 502])
def test_5xx_json_or_html_is_retried(
    h: Harness, payload: bytes, tmp_path: Path, status: int, html: bool
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.fail(status, times=2, html=html)
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.attempts == 3
    assert h.sleeps == [0.5, 1.0]


def test_401_costs_exactly_one_request(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    wrong = "sk-or-wrong-" + "7" * 20
    with pytest.raises(AuthenticationError) as caught:
        h.download("job-1", tmp_path / "out.mp4", api_key=wrong, source="api")
    assert caught.value.status_code == 401 and caught.value.message == "Invalid API key"
    assert len(h.fake.requests) == 1 and h.sleeps == []
    assert h.fake.requests[0].headers["authorization"] == f"Bearer {wrong}"
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


def test_404_costs_exactly_one_request(h: Harness, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        h.download("job-missing", tmp_path / "out.mp4", source="api")
    assert caught.value.status_code == 404 and "job-missing" in caught.value.message
    assert len(h.fake.requests) == 1 and h.sleeps == []
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_connection_refused_is_retried_then_raised(h: Harness, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(APIConnectionError):
        h.download("job-1", tmp_path / "out.mp4", base_url=f"http://127.0.0.1:{port}/api/v1", source="api")
    assert h.sleeps == [0.5, 1.0, 2.0, 4.0]  # max_attempts=5 requests, full jitter pinned to 1


class _Clock:
    """A fake monotonic clock that only the retries' sleeps move forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retry_after_zero_after_progress_is_no_request_storm(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """After progress, 503 with Retry-After: 0 was retried at once, about 1,000 requests a second for
    the whole resume_window: every retry now waits at least a floor that backs off."""
    fake.add_video("job-1", os.urandom(2 * MIB))
    fake.enqueue(Cut(at=MIB))
    for _ in range(40):
        fake.enqueue(Status(503, retry_after=0))
    clock = _Clock()
    policy = RetryPolicy(max_attempts=3, resume_window=5, sleep=clock.sleep, clock=clock)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(APIStatusError) as caught:
            client.download("job-1", tmp_path / "x.mp4", max_connections=1, source="api")
    assert caught.value.status_code == 503
    waits = clock.sleeps[1:]  # the first is the free resume after the cut
    assert waits and all(w >= 0.1 for w in waits), clock.sleeps
    assert waits == sorted(waits)  # backing off
    assert _content_requests(fake) <= 9, clock.sleeps


def test_retries_are_logged_with_reason_status_and_delay_and_never_the_key(
    h: Harness, payload: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(503, retry_after=2), Cut(at=1000))
    with caplog.at_level(logging.DEBUG):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    retries = [r.getMessage() for r in caplog.records if r.name == "openrouter_video"]
    assert len(retries) == 2
    assert "HTTP 503" in retries[0] and "2.00s" in retries[0]
    assert "resuming" in retries[1]
    assert all(h.fake.api_key not in r.getMessage() for r in caplog.records)


# -- attempts ----------------------------------------------------------------------------------------


def test_attempts_that_bring_no_new_bytes_count_against_max_attempts(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """A server that cuts every answer at the same byte: once max_attempts answers in a row brought
    nothing new, the download stops, resume_window or not (the CLI's --max-attempts 3 made 13
    requests over 61 s)."""
    fake.add_video("job-1", os.urandom(2 * MIB))
    for _ in range(30):
        fake.enqueue(Cut(at=MIB))
    clock = _Clock()
    policy = RetryPolicy(max_attempts=3, resume_window=60, sleep=clock.sleep, clock=clock)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy) as client:
        with pytest.raises(IncompleteDownloadError):
            client.download("job-1", tmp_path / "x.mp4", max_connections=1, source="api")
    assert _content_requests(fake) == 1 + 3  # the one that made progress, then three that did not


def test_a_trickling_server_uses_up_the_attempts(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(MIB)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(*(Trickle(at=300_000, interval=0.02) for _ in range(5)))
    policy = h.policy(max_attempts=3, min_speed=(10_000, 0.25), resume_window=0.1)
    started = time.monotonic()
    with pytest.raises(IncompleteDownloadError, match="slower than"):
        h.download("job-1", tmp_path / "out.mp4", retry=policy, timeout=5, source="api")
    assert time.monotonic() - started < 5
    assert len(content_requests(h.fake)) == 4  # the first brought progress; three more did not
    assert ranges(h.fake)[1].startswith("bytes=")  # type: ignore[union-attr]


# -- an outage ---------------------------------------------------------------------------------------


def test_an_outage_mid_download_is_ridden_out(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(MIB)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Outage(at=500_000, seconds=1.5))
    policy = RetryPolicy(
        max_attempts=2, initial_delay=0.1, max_delay=0.3, jitter=lambda: 1.0, resume_window=10
    )
    result = h.download("job-1", tmp_path / "out.mp4", retry=policy, source="api")
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
        h.download("job-1", tmp_path / "out.mp4", retry=policy, source="api")
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


# -- deadlines ---------------------------------------------------------------------------------------


def test_a_deadline_ends_a_stalled_download(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=10))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        h.download("job-1", tmp_path / "out.mp4", timeout=30, deadline=0.5, source="api")
    assert 0.4 < time.monotonic() - started < 3
    assert caught.value.partial_path is not None  # the bytes received are kept


class _TricklingHead:
    """A raw-socket server that answers every request with a head that never ends: one header line
    every ``every`` seconds."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n")
                n = 0
                while not self.stop.is_set():
                    time.sleep(self.every)
                    conn.sendall(b"X-Slow-%d: still coming\r\n" % n)
                    n += 1
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def trickle() -> Iterator[_TricklingHead]:
    server = _TricklingHead()
    yield server
    server.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_deadline_bounds_a_head_that_trickles_in(
    trickle: _TricklingHead, tmp_path: Path, mode: str
) -> None:
    """One header line every 0.25 s restarts every read timeout; the call's deadline still holds (it
    used to run until the server stopped: 12 s for deadline=4)."""
    base_url = f"http://127.0.0.1:{trickle.port}/api/v1"
    started = time.monotonic()
    with pytest.raises(OpenRouterVideoError) as caught:
        if mode == "sync":
            with VideoClient(api_key=KEY, base_url=base_url, timeout=1.5) as client:
                client.download("job-1", tmp_path / "x.mp4", deadline=1.0, source="api")
        else:

            async def run() -> None:
                async with AsyncVideoClient(api_key=KEY, base_url=base_url, timeout=1.5) as client:
                    await client.download("job-1", tmp_path / "x.mp4", deadline=1.0, source="api")

            asyncio.run(run())
    took = time.monotonic() - started
    assert took < 2.5, (took, caught.value)
    assert "deadline" in str(caught.value).lower(), caught.value
