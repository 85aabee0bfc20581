"""The retry policy on its own (:mod:`openrouter_video.engine.retry`): backoff, attempts, Retry-After."""

from __future__ import annotations

import email.utils

import pytest
from openrouter_video import RetryPolicy
from openrouter_video.engine.retry import parse_retry_after


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
    assert policy.retry_statuses == {408, 429, 499, 500, 502, 503, 504}
    assert not {400, 401, 403, 404} & policy.retry_statuses


def test_retry_after_seconds_date_and_garbage() -> None:
    assert parse_retry_after({"retry-after": "5"}) == 5.0
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == 30.0
    assert parse_retry_after({"retry-after": date}, now=1_000_100) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
