"""Unit tests of the pure pieces: retry policy, Retry-After, safe names, Content-Range, error bodies."""

from __future__ import annotations

import email.utils

import httpx
import pytest
from openrouter_video import RetryPolicy, safe_filename
from openrouter_video.engine.core import (
    DONE,
    OVERLAP,
    Check,
    DownloadCore,
    Retry,
    Stream,
    Verdict,
    build_status_error,
    parse_content_range,
)
from openrouter_video.engine.retry import parse_retry_after
from openrouter_video.engine.verify import BoxWalk
from openrouter_video.errors import (
    APIStatusError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from openrouter_video.io.http import failure


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    policy = RetryPolicy(jitter=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert RetryPolicy(jitter=lambda: 0.25).backoff(3) == 0.5
    samples = [RetryPolicy().backoff(4) for _ in range(200)]
    assert all(0.0 <= d < 4.0 for d in samples) and len(set(samples)) > 100  # uniform in [0, 4)


def test_delay_gives_up_after_max_attempts_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=lambda: 1.0)
    assert policy.delay(1, None) == 0.5
    assert policy.delay(2, 7.0) == 7.0
    assert policy.delay(3, None) is None
    assert policy.delay(1, 121.0) is None
    assert policy.delay(1, 120.0) == 120.0
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_delay, policy.max_delay, policy.max_retry_after) == (
        5,
        0.5,
        30.0,
        120.0,
    )
    assert policy.retry_statuses == {408, 429, 500, 502, 503, 504}
    assert not {400, 401, 403, 404} & policy.retry_statuses


def test_retry_after_seconds_date_and_garbage() -> None:
    assert parse_retry_after({"retry-after": "5"}) == 5.0
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == 30.0
    assert parse_retry_after({"retry-after": date}, now=1_000_100) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    "job_id",
    ["../../x", "..", ".", "a/b", "a\\b", "/etc/passwd", "x" * 500, "jöb 視頻", "", ".hidden", "a..b"],
)
def test_safe_filename_never_escapes_or_hides(job_id: str) -> None:
    name = safe_filename(job_id)
    assert "/" not in name and "\\" not in name and ".." not in name
    assert not name.startswith(".") and name.endswith(".mp4")
    assert len(name) <= 130


def test_safe_filename_keeps_plain_ids_and_separates_different_ones() -> None:
    assert safe_filename("job-abc123") == "job-abc123.mp4"
    assert safe_filename("job-abc123", 2) == "job-abc123-2.mp4"
    assert safe_filename("a/b") != safe_filename("a b")


def test_parse_content_range() -> None:
    assert parse_content_range("bytes 10-99/100") == (10, 99, 100)
    assert parse_content_range("bytes 10-99/*") == (10, 99, None)
    assert parse_content_range("items 1-2/3") is None
    assert parse_content_range(None) is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (502, BadGatewayError),
        (500, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (409, APIStatusError),
    ],
)
def test_status_classes(status: int, cls: type[APIStatusError]) -> None:
    error = build_status_error(status, {}, b'{"error": {"code": %d, "message": "m"}}' % status)
    assert type(error) is cls and error.status_code == status and error.message == "m"


def test_error_bodies_that_are_not_json() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    assert build_status_error(502, {"content-type": "text/html"}, html).message == "502 Bad Gateway"
    assert build_status_error(500, {}, b"").message == "Internal Server Error"
    assert build_status_error(503, {}, b"  upstream\n reset ").message == "upstream reset"
    assert build_status_error(500, {}, b'{"error": "plain string"}').message == "plain string"


def test_core_resume_decisions() -> None:
    data = bytes(range(256)) * 800  # 204 800 bytes
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    assert "range" not in {k.lower() for k in core.request_headers()}
    headers = {"content-length": str(len(data)), "etag": '"v1"', "content-type": "video/mp4"}
    action = core.on_response(200, headers)
    assert isinstance(action, Stream) and action.fresh and action.head is not None
    action = core.on_body_end(100_000, failure(httpx.ReadError("cut")), tail=data[:100_000])
    assert isinstance(action, Retry) and action.delay == 0.0 and "resuming" in action.reason
    assert core.offset == 100_000
    sent = core.request_headers()
    assert sent["Range"] == f"bytes={100_000 - OVERLAP}-" and sent["If-Range"] == '"v1"'
    partial = {"content-range": f"bytes {100_000 - OVERLAP}-{len(data) - 1}/{len(data)}", "etag": '"v1"'}
    action = core.on_response(206, partial)
    assert isinstance(action, Stream) and not action.fresh and action.head is not None
    head = action.head
    assert head.feed(data[100_000 - OVERLAP : 100_000 + 10]) == data[100_000 : 100_000 + 10]
    assert head.passed
    assert isinstance(core.on_body_end(len(data) - 100_000, None, head, data[-OVERLAP:]), Check)
    assert core.on_verdict(Verdict(BoxWalk("not-bmff"))) is DONE
    assert core.verified == "content-range"
    assert (core.offset, core.resumes, core.attempts) == (len(data), 1, 2)


def test_core_restarts_on_changed_etag_in_206() -> None:
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    core.request_headers()
    core.on_response(200, {"content-length": "100", "etag": '"v1"'})
    core.on_body_end(40, None, tail=b"x" * 40)  # ended early without an error
    core.request_headers()
    action = core.on_response(206, {"content-range": "bytes 0-99/100", "etag": '"v2"'})
    assert isinstance(action, Retry) and action.delay == 1.0  # the second failure in a row
    assert "range" not in {k.lower() for k in core.request_headers()}
    action = core.on_response(200, {"content-length": "120", "etag": '"v2"'})
    assert isinstance(action, Stream) and action.fresh


def test_core_overlap_mismatch_restarts_from_zero_even_without_validators() -> None:
    core = DownloadCore(RetryPolicy(jitter=lambda: 1.0), what="t")
    core.request_headers()
    core.on_response(200, {"content-length": "200000"})
    core.on_body_end(100_000, failure(httpx.ReadError("cut")), tail=b"a" * 100_000)
    sent = core.request_headers()
    assert sent["Range"] == f"bytes={100_000 - OVERLAP}-" and "If-Range" not in sent
    action = core.on_response(206, {"content-range": f"bytes {100_000 - OVERLAP}-199999/200000"})
    assert isinstance(action, Stream) and action.head is not None
    assert action.head.feed(b"a" * 1000 + b"b") == b"" and action.head.failed == "mismatch"
    retry = core.on_body_end(0, None, action.head)
    assert isinstance(retry, Retry) and "changed" in retry.reason
    assert core.offset == 0 and "Range" not in core.request_headers()
