"""The retry policy and the decisions built on it (no I/O here)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

logger = logging.getLogger("openrouter_video")
logger.addHandler(logging.NullHandler())  # a library configures no output of its own

#: Statuses retried by default.
RETRY_STATUSES = frozenset({408, 429, 499, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    Attributes:
        max_attempts: Requests allowed in a row that bring no new bytes (the first one included).
            A resumed download that made progress starts the count again.
        initial_delay: Backoff before the first retry, in seconds; it doubles each time.
        max_delay: Upper bound of the exponential backoff, in seconds.
        max_retry_after: The longest ``Retry-After`` that is waited for, in seconds; a longer one
            raises the error at once.
        retry_statuses: Statuses that are retried (400, 401, 403 and 404 never are).
        sleep: The sleep function, e.g. a fake for tests. It may be a coroutine function for the
            async client. ``None`` means :func:`time.sleep` / :func:`asyncio.sleep`.
        jitter: Returns a float in [0, 1) that scales each backoff ("full jitter").
        resume_window: Once a download has made progress (an attempt brought at least 64 KiB), its
            failures are retried, with backoff, until this many seconds have passed without
            progress, even past ``max_attempts``: an outage of about this long is ridden out.
            Before any progress, ``max_attempts`` alone applies.
        min_speed: ``(bytes_per_second, seconds)``: a download body slower than this over a window
            of ``seconds`` is dropped and resumed (like curl's ``--speed-limit``/``--speed-time``).
            ``None`` turns the guard off.
        clock: The monotonic clock (seconds) behind ``resume_window``, ``min_speed`` and deadlines;
            a fake for tests.
        min_delay: The least wait before retry *n*: ``min(max_delay, min_delay * 2**(n-1))``,
            whatever the jitter or the server's ``Retry-After`` say (``Retry-After: 0`` after every
            answer made about a thousand requests a second).

    The delay before retry *n* (n >= 1) is the server's ``Retry-After`` (seconds or an HTTP date),
    else ``uniform(0, min(max_delay, initial_delay * 2**(n-1)))``, and at least the ``min_delay`` floor.
    A download retries only a resume that brought new bytes at once.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], object] | None = field(default=None, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False, repr=False)
    resume_window: float = 60.0
    min_speed: tuple[int, float] | None = (1024, 30.0)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    min_delay: float = 0.1

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.resume_window >= 0:
            raise ValueError("resume_window must be >= 0")
        if not self.min_delay >= 0:
            raise ValueError("min_delay must be >= 0")
        if self.min_speed is not None and not (self.min_speed[0] >= 0 and self.min_speed[1] > 0):
            raise ValueError("min_speed must be (bytes_per_second >= 0, seconds > 0)")

    def floor(self, failures: int) -> float:
        """The least wait after ``failures`` consecutive failures (>= 1): see ``min_delay``."""
        return min(self.max_delay, self.min_delay * 2.0 ** (min(failures, 64) - 1))

    def backoff(self, failures: int) -> float:
        """The jittered exponential delay after ``failures`` consecutive failures (>= 1)."""
        cap = min(self.max_delay, self.initial_delay * 2.0 ** (min(failures, 64) - 1))
        return max(self.floor(failures), cap * self.jitter())

    def wait(self, failures: int, retry_after: float | None) -> float:
        """The wait before the next attempt: the server's ``Retry-After`` or the backoff, and at
        least the floor."""
        return self.backoff(failures) if retry_after is None else max(retry_after, self.floor(failures))

    def delay(self, failures: int, retry_after: float | None) -> float | None:
        """The delay before the next attempt, or ``None`` when the error must be raised now."""
        return RetryState(self, failures=failures).next_delay(retry_after)  # no deadline, no progress


@dataclass(frozen=True)
class RetryState:
    """Where one request, stream or range stands in its retries: one immutable value (as urllib3's
    ``Retry``), made anew at each event, and the same for downloads, segments and API calls.

    Attributes:
        policy: The :class:`RetryPolicy`.
        deadline: The ``policy.clock`` time the whole call must end by, if any.
        failures: Failed attempts in a row.
        fruitless: Bodies in a row that brought no new bytes (they count even within
            ``resume_window``: it rides out outages, not a server that cuts every answer at the same
            byte).
        last_progress: When an attempt last brought new bytes (``None``: never, or discarded).
    """

    policy: RetryPolicy
    deadline: float | None = None
    failures: int = 0
    fruitless: int = 0
    last_progress: float | None = None

    def increment(self, *, fruitless: bool = False) -> RetryState:
        """After a failed attempt (``fruitless``: a body that brought nothing new)."""
        return replace(self, failures=self.failures + 1, fruitless=self.fruitless + fruitless)

    def progressed(self) -> RetryState:
        """An attempt brought new bytes: ``resume_window`` counts from now."""
        return replace(self, last_progress=self.policy.clock())

    def resumed(self) -> RetryState:
        """A resume after progress: free, and the counts start again."""
        return replace(self, failures=0, fruitless=0)

    def forget_progress(self) -> RetryState:
        """What was received is discarded: it was no progress."""
        return replace(self, last_progress=None)

    def is_exhausted(self) -> bool:
        """No retry is left: ``max_attempts`` failures with no progress within ``resume_window``,
        or ``max_attempts`` fruitless bodies."""
        policy, last, most = self.policy, self.last_progress, self.policy.max_attempts
        in_window = last is not None and policy.clock() - last < policy.resume_window
        return (self.failures >= most and not in_window) or self.fruitless >= most

    def delay(self, retry_after: float | None = None) -> float:
        """The wait before the next attempt (the server's ``Retry-After`` or the backoff)."""
        return self.policy.wait(self.failures, retry_after)

    def past_deadline(self, delay: float = 0.0) -> bool:
        """Whether waiting ``delay`` seconds would end past the deadline."""
        return self.deadline is not None and self.policy.clock() + delay >= self.deadline

    def time_left(self) -> float | None:
        """Seconds until the deadline (at least a millisecond), or ``None`` without one."""
        return None if self.deadline is None else max(0.001, self.deadline - self.policy.clock())

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """After :meth:`increment`: the wait before the retry, or ``None`` when the error stands
        (exhausted, a ``Retry-After`` longer than ``max_retry_after``, or past the deadline)."""
        if self.is_exhausted() or (retry_after is not None and retry_after > self.policy.max_retry_after):
            return None
        delay = self.delay(retry_after)
        return None if self.past_deadline(delay) else delay


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` in seconds (from delta-seconds or an HTTP date), or ``None``."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only needed for the rare HTTP-date form (it costs ~10 ms to import)

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def log_retry(what: str, reason: str, attempt: int, delay: float, *, resume: bool = False) -> None:
    """Log one retry on the ``openrouter_video`` logger: a WARNING, or an INFO for a ``resume``
    after progress (nothing was lost, nothing is repeated)."""
    if resume:
        logger.info("%s: %s", what, reason)
    else:
        logger.warning("%s: %s; retrying in %.2fs (attempt %d)", what, reason, delay, attempt + 1)
