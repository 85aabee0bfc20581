"""The whole flow against the fake server, sync and async: submit, wait, download; POST safety."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers_run import Run, a_job
from openrouter_video import (
    APIConnectionError,
    APIStatusError,
    AsyncVideoClient,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RetryPolicy,
    UnexpectedContentError,
    VideoClient,
    VideoJob,
    VideoJobFailedError,
    VideoJobTimeoutError,
)
from openrouter_video.testing import FakeOpenRouter, Redirect, Status

MODEL = "google/veo-3.1"


class Flow:
    """Runs one client method, sync or async, recording the sleeps the client asked for."""

    def __init__(self, mode: str, fake: FakeOpenRouter) -> None:
        self.mode, self.fake = mode, fake
        self.sleeps: list[float] = []

    def __call__(self, method: str, *args: Any, base_url: str | None = None, **kwargs: Any) -> Any:
        config: dict[str, Any] = {
            "api_key": self.fake.api_key,
            "base_url": base_url or self.fake.base_url,
            "retry": RetryPolicy(sleep=self.sleeps.append, jitter=lambda: 1.0),
        }
        if self.mode == "sync":
            with VideoClient(**config) as client:
                return getattr(client, method)(*args, **kwargs)

        async def run() -> Any:
            async with AsyncVideoClient(**config) as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def flow(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Flow:
    return Flow(request.param, fake)


def posts(fake: FakeOpenRouter) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


def test_generate_and_download_every_output(flow: Flow, tmp_path: Path) -> None:
    outputs = [b"first output" * 100, b"second output" * 100]
    flow.fake.script_job(outputs=outputs, job_id="job-xyz")
    seen: list[str] = []
    results = flow(
        "generate_and_download",
        tmp_path,
        model=MODEL,
        prompt="a cat on a skateboard",
        duration=8,
        resolution="720p",
        aspect_ratio="16:9",
        generate_audio=True,
        seed=7,
        poll_interval=0.5,
        on_status=lambda job: seen.append(job.status),
        checksum="sha256",
    )
    assert [r.path.name for r in results] == ["job-xyz.mp4", "job-xyz-1.mp4"]
    assert [r.path.read_bytes() for r in results] == outputs
    assert seen == ["pending", "in_progress", "completed"]
    (post,) = posts(flow.fake)
    assert json.loads(post.body) == {
        "model": MODEL,
        "prompt": "a cat on a skateboard",
        "duration": 8,
        "resolution": "720p",
        "aspect_ratio": "16:9",
        "generate_audio": True,
        "seed": 7,
    }
    assert post.headers["content-type"] == "application/json"
    assert flow.sleeps == [0.5, 0.5]  # between the three polls
    # each output once, from its signed URL (at the same time: in either order), never with the key
    asked = sorted(r.path.rpartition("/")[2] for r in flow.fake.requests if r.origin == "storage")
    assert asked == ["0", "1"] and flow.fake.storage_authorization == []
    assert [r.source for r in results] == ["signed", "signed"]


def test_outputs_are_downloaded_at_once_and_the_progress_says_which(flow: Flow, tmp_path: Path) -> None:
    outputs = [bytes([i]) * 300_000 for i in range(3)]
    flow.fake.script_job(outputs=outputs, job_id="job-3")
    flow.fake.rate = 1_000_000  # per connection: 0.3 s each
    per_output: dict[int, list[tuple[int, int | None]]] = {0: [], 1: [], 2: []}
    overall: list[tuple[int, int | None]] = []
    results = flow(
        "generate_and_download",
        tmp_path,
        model=MODEL,
        prompt="p",
        poll_interval=0.01,
        concurrent_outputs=3,
        on_output_progress=lambda i, done, total: per_output[i].append((done, total)),
        on_progress=lambda done, total: overall.append((done, total)),
    )
    assert [r.path.read_bytes() for r in results] == outputs  # in output order
    assert flow.fake.peak_requests >= 2  # at the same time
    assert all(calls[-1] == (300_000, 300_000) for calls in per_output.values())
    assert overall[-1] == (900_000, 900_000)
    assert all(total is None or done <= total for done, total in overall)


def test_one_output_failing_lets_the_others_finish_then_raises(flow: Flow, tmp_path: Path) -> None:
    outputs = [bytes([i]) * 100_000 for i in range(3)]
    flow.fake.script_job(outputs=outputs, job_id="job-3")

    def spoil(job: VideoJob) -> None:
        if job.status == "completed":  # output 1 is now an HTML page
            flow.fake.add_video("job-3", b"<html>gone</html>", index=1, content_type="text/html")

    with pytest.raises(UnexpectedContentError):
        flow("generate_and_download", tmp_path, model=MODEL, prompt="p", poll_interval=0.01, on_status=spoil)
    saved = sorted((p.name for p in tmp_path.iterdir() if not p.name.startswith(".")), key=len)
    assert len(saved) == 2 and saved[1].endswith("-2.mp4")  # outputs 0 and 2 (see safe_filename)
    assert [(tmp_path / name).read_bytes() for name in saved] == [outputs[0], outputs[2]]


@pytest.mark.parametrize("value", [0, 17, 2.0, "2"])
def test_concurrent_outputs_is_checked_before_submitting(flow: Flow, tmp_path: Path, value: Any) -> None:
    with pytest.raises(ValueError, match="concurrent_outputs"):
        flow("generate_and_download", tmp_path, model=MODEL, prompt="p", concurrent_outputs=value)
    assert posts(flow.fake) == []


def kept_partials(directory: Path) -> list[str]:
    """The files left: two partials with their state files, and no video. Returns the partials."""
    names = sorted(p.name for p in directory.iterdir())
    assert len(names) == 4 and all(n.startswith(".job-2") for n in names), names
    assert sum(n.endswith(".mp4.part") for n in names) == 2, names
    assert sum(n.endswith(".part.state") for n in names) == 2, names
    return [n for n in names if n.endswith(".part")]


def test_ctrl_c_stops_every_output_thread_and_keeps_the_partials(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    import signal
    import threading

    outputs = [bytes([i]) * 2_000_000 for i in range(2)]
    fake.script_job(outputs=outputs, job_id="job-2")
    fake.rate = 400_000  # 5 s each: interrupted mid-way
    started: list[int] = []

    def progress(i: int, done: int, total: int | None) -> None:
        if done > 200_000 and i not in started:
            started.append(i)
            if len(started) == 2:  # Ctrl-C, a real SIGINT to the caller's thread, both downloads running
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        with pytest.raises(KeyboardInterrupt):
            client.generate_and_download(
                tmp_path, model=MODEL, prompt="p", poll_interval=0.01, on_output_progress=progress
            )
    assert not [t for t in threading.enumerate() if t.name.startswith("openrouter-video-output")]
    assert all(0 < (tmp_path / name).stat().st_size < 2_000_000 for name in kept_partials(tmp_path))


def test_cancelling_the_async_call_cancels_every_output_and_keeps_the_partials(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    outputs = [bytes([i]) * 2_000_000 for i in range(2)]
    fake.script_job(outputs=outputs, job_id="job-2")
    fake.rate = 400_000

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            call = asyncio.ensure_future(
                client.generate_and_download(tmp_path, model=MODEL, prompt="p", poll_interval=0.01)
            )
            while sum(1 for p in tmp_path.glob(".*.part") if p.stat().st_size > 200_000) < 2:
                await asyncio.sleep(0.02)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert not [t for t in others if not t.done()]

    asyncio.run(run())
    assert all(0 < (tmp_path / name).stat().st_size < 2_000_000 for name in kept_partials(tmp_path))


def test_generate_returns_the_pending_job(flow: Flow) -> None:
    job = flow("generate", MODEL, "a prompt")
    assert isinstance(job, VideoJob)
    assert (job.status, job.polling_url) == ("pending", f"/api/v1/videos/{job.id}")
    assert flow("get_job", job.id).status == "pending"


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_wait_follows_relative_and_absolute_polling_urls(flow: Flow, form: str) -> None:
    path = "/api/v1/videos/job-p?poll-token=abc"
    flow.fake.script_job(job_id="job-p", polling_url=path if form == "relative" else flow.fake.origin + path)
    job = flow("generate", MODEL, "p")
    done = flow("wait", job, poll_interval=0.01)
    assert done.status == "completed" and done.outputs == 1
    polls = [r for r in flow.fake.requests if r.method == "GET"]
    assert len(polls) == 3 and all(r.query == {"poll-token": ["abc"]} for r in polls)


def test_polling_url_on_another_origin_is_not_followed(flow: Flow) -> None:
    with FakeOpenRouter() as elsewhere:
        flow.fake.script_job(job_id="job-o", polling_url=elsewhere.base_url + "/videos/job-o")
        done = flow("wait", flow("generate", MODEL, "p"), poll_interval=0.01)
        assert done.status == "completed"
        assert elsewhere.requests == []  # the key never went there; the job was polled by id
    assert [r.path for r in flow.fake.requests if r.method == "GET"] == ["/api/v1/videos/job-o"] * 3


def test_wait_by_id_string(flow: Flow) -> None:
    job = flow("generate", MODEL, "p")
    assert flow("wait", job.id, poll_interval=0.01).status == "completed"


@pytest.mark.parametrize("status", ["failed", "cancelled", "expired"])
def test_wait_raises_on_a_failed_job(flow: Flow, status: str) -> None:
    flow.fake.script_job(statuses=["pending", status], error="content policy violation")
    job = flow("generate", MODEL, "p")
    with pytest.raises(VideoJobFailedError) as caught:
        flow("wait", job, poll_interval=0.01)
    assert caught.value.job.status == status and caught.value.job.id == job.id
    if status == "failed":
        assert caught.value.error == "content policy violation"
        assert str(caught.value) == f"video job {job.id} failed: content policy violation"


def test_wait_times_out(flow: Flow) -> None:
    flow.fake.script_job(statuses=["pending"])
    job = flow("generate", MODEL, "p")
    with pytest.raises(VideoJobTimeoutError) as caught:
        flow("wait", job, poll_interval=0.02, timeout=0.0)
    assert caught.value.job.status == "pending" and caught.value.timeout == 0.0
    assert len([r for r in flow.fake.requests if r.method == "GET"]) == 1


def test_unknown_status_does_not_crash_wait(flow: Flow, caplog: pytest.LogCaptureFixture) -> None:
    flow.fake.script_job(statuses=["pending", "rendering_frames", "completed"])
    seen: list[str] = []
    done = flow(
        "wait", flow("generate", MODEL, "p"), poll_interval=0.01, on_status=lambda j: seen.append(j.status)
    )
    assert done.status == "completed" and seen == ["pending", "rendering_frames", "completed"]
    assert any("rendering_frames" in r.getMessage() for r in caplog.records)


def test_wait_honours_retry_after_on_429(flow: Flow) -> None:
    job = flow("generate", MODEL, "p")
    flow.fake.enqueue(Status(429, retry_after=3), route="job")
    flow.sleeps.clear()
    assert flow("wait", job, poll_interval=0.01).status == "completed"
    assert flow.sleeps[0] == 3.0


def test_wait_waits_out_a_429_beyond_the_transport_retries(flow: Flow) -> None:
    job = flow("generate", MODEL, "p")
    flow.fake.enqueue(*(Status(429, retry_after=2) for _ in range(5)), route="job")  # max_attempts
    flow.sleeps.clear()
    assert flow("wait", job, poll_interval=0.01).status == "completed"
    assert flow.sleeps[:5] == [2.0, 2.0, 2.0, 2.0, 2.0]  # 4 in the transport, then wait's own


# -- POST safety -----------------------------------------------------------------------------------


def test_503_on_post_sends_exactly_one_request(flow: Flow) -> None:
    flow.fake.enqueue(Status(503, retry_after=1), route="create")
    with pytest.raises(InternalServerError) as caught:
        flow("generate", MODEL, "p")
    assert caught.value.status_code == 503
    assert len(posts(flow.fake)) == 1 and flow.sleeps == [] and flow.fake.jobs == {}


def test_500_on_post_is_not_retried_either(flow: Flow) -> None:
    flow.fake.enqueue(Status(500), route="create")
    with pytest.raises(InternalServerError):
        flow("generate", MODEL, "p")
    assert len(posts(flow.fake)) == 1


def test_429_on_post_is_retried_after_retry_after(flow: Flow) -> None:
    flow.fake.enqueue(Status(429, retry_after=2), route="create")
    job = flow("generate", MODEL, "p")
    assert job.status == "pending"
    assert len(posts(flow.fake)) == 2 and flow.sleeps == [2.0] and len(flow.fake.jobs) == 1


def test_429_on_post_gives_up_after_max_attempts(flow: Flow) -> None:
    flow.fake.enqueue(*(Status(429) for _ in range(5)), route="create")
    with pytest.raises(RateLimitError):
        flow("generate", MODEL, "p")
    assert len(posts(flow.fake)) == 5


def test_connection_refused_on_post_is_retried(flow: Flow) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(APIConnectionError):
        flow("generate", MODEL, "p", base_url=f"http://127.0.0.1:{port}/api/v1")
    assert flow.sleeps == [0.5, 1.0, 2.0, 4.0]  # nothing was sent, so retrying is safe


def test_402_and_unknown_model(flow: Flow) -> None:
    flow.fake.enqueue(
        Status(402, body=b'{"error": {"code": 402, "message": "Insufficient credits"}}'), route="create"
    )
    with pytest.raises(PaymentRequiredError, match="Insufficient credits"):
        flow("generate", MODEL, "p")
    with pytest.raises(NotFoundError, match="no/such-model"):
        flow("generate", "no/such-model", "p")
    assert len(posts(flow.fake)) == 2


def test_list_models(flow: Flow) -> None:
    (model,) = flow("list_models")
    assert model.id == MODEL and model.name == "Veo 3.1" and 8 in model.supported_durations
    assert model.raw["canonical_slug"] == MODEL


def test_generate_and_download_refuses_a_file_in_the_way_before_submitting(
    flow: Flow, tmp_path: Path
) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(NotADirectoryError, match="taken is a file, not a directory"):
        flow("generate_and_download", tmp_path / "taken", model=MODEL, prompt="p")
    assert flow.fake.requests == []


def test_a_request_the_spec_does_not_allow_is_refused_before_sending(flow: Flow) -> None:
    from openrouter_video import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="999p"):
        flow("generate", MODEL, "p", resolution="999p")
    assert flow.fake.requests == []


def test_generate_and_download_deadline_bounds_the_wait(flow: Flow, tmp_path: Path) -> None:
    import time

    flow.fake.script_job(statuses=["pending"])  # never completes
    started = time.monotonic()
    with pytest.raises(VideoJobTimeoutError) as caught:
        flow("generate_and_download", tmp_path, model=MODEL, prompt="p", poll_interval=0.05, deadline=0.5)
    assert caught.value.timeout <= 0.5  # the wait got what was left of the deadline, not its 1800 s
    assert time.monotonic() - started < 3


# -- paid requests are never redirected --------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("where", ["same-origin", "other-origin"])
def test_post_videos_never_follows_a_redirect(run: Run, status: int, where: str) -> None:
    with FakeOpenRouter(require_auth=False) as other:
        base = run.fake.base_url if where == "same-origin" else other.base_url
        run.fake.enqueue(Redirect(f"{base}/videos", status=status), route="create")
        with pytest.raises(APIStatusError) as caught:
            run("generate", MODEL, "a secret prompt")
        assert caught.value.status_code == status
        assert f"{base}/videos" in str(caught.value)
        assert [r.method for r in run.fake.requests] == ["POST"]  # sent once, never re-sent
        assert other.requests == []  # the paid body never left for another origin


def test_a_redirect_to_a_javascript_url_is_a_package_error(run: Run, tmp_path: Path) -> None:
    from openrouter_video import APIConnectionError

    job = a_job(run.fake)
    run.fake.enqueue(Redirect("javascript:alert(1)"))
    run.fake.add_video(job, b"\x00" * 1000)
    with pytest.raises(APIConnectionError):
        run("download", job, tmp_path / "out.mp4")
    run.fake.enqueue(Redirect("javascript:alert(1)"), route="job")
    with pytest.raises(APIConnectionError):
        run("get_job", job)


# -- deadlines ---------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("retry_after", [1, 30])
def test_wait_timeout_bounds_the_whole_wait_under_a_429_storm(run: Run, retry_after: int) -> None:
    job = a_job(run.fake)
    run.fake.enqueue(*(Status(429, retry_after=retry_after) for _ in range(500)), route="job")
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 1.0)
    with pytest.raises(VideoJobTimeoutError):
        run("wait", job, poll_interval=2, timeout=10, client={"retry": policy})
    assert clock.now <= 10
    assert len(run.fake.requests) <= 12


def test_get_job_timeout_bounds_retries(run: Run) -> None:
    from openrouter_video import DeadlineExceededError

    job = a_job(run.fake)
    run.fake.enqueue(*(Status(503, retry_after=4) for _ in range(10)), route="job")
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=lambda: clock.now)
    with pytest.raises(DeadlineExceededError):
        run("get_job", job, timeout=10, client={"retry": policy})
    assert clock.sleeps == [4, 4] and len(run.fake.requests) == 3


# -- bounded answers ---------------------------------------------------------------------------------


def test_a_gzip_bomb_answer_is_read_bounded(run: Run) -> None:
    import gzip
    import tracemalloc

    from openrouter_video import InternalServerError, UnexpectedContentError

    job = a_job(run.fake)
    bomb = gzip.compress(b" " * (200 * 1024 * 1024), compresslevel=9)  # ~200 KB that inflates to 200 MiB
    assert len(bomb) < 400_000
    gz = {"Content-Encoding": "gzip"}
    run.fake.enqueue(Status(200, body=bomb, headers=gz), route="job")
    tracemalloc.start()
    try:
        with pytest.raises(UnexpectedContentError, match="larger than"):
            run("get_job", job)
        run.fake.enqueue(Status(500, body=bomb, headers=gz), route="job")
        with pytest.raises(InternalServerError):
            run("get_job", job, client={"retry": RetryPolicy(max_attempts=1)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 80 * 1024 * 1024  # bounded: not the 200 MiB the answer inflates to


# -- the 2026-10 API: continuation, signed URLs and their expiry, read from the spec -----------------------
def test_continuation_and_the_new_request_fields_are_sent_and_recorded(fake: FakeOpenRouter) -> None:
    """previous_job_id, session_id, user and trace (2026-10) are typed options: checked and sent."""
    from openrouter_video import RetryPolicy, VideoClient

    fake.add_video("gen-vid-1", b"the first video")
    with VideoClient(
        api_key=fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=lambda s: None)
    ) as c:
        job = c.generate(
            MODEL,
            "the same, at night",
            previous_job_id="gen-vid-1",
            session_id="s-1",
            user="user-7",
            trace={"trace_id": "t-1"},
        )
    request = fake.job(job.id).request
    assert request["previous_job_id"] == "gen-vid-1" and request["session_id"] == "s-1"
    assert request["user"] == "user-7" and request["trace"] == {"trace_id": "t-1"}


def test_a_completed_job_carries_its_signed_urls_and_their_expiry(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """urls and expires_at (2026-10) are read from the spec's job model, typed; a signed URL serves the
    stored copy with no key, until it expires."""
    import time

    import httpx
    from openrouter_video import RetryPolicy, VideoClient

    fake.script_job(outputs=[b"first" * 100, b"second" * 100])
    with VideoClient(
        api_key=fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=lambda s: None)
    ) as c:
        done = c.wait(c.generate(MODEL, "p"), poll_interval=0)
    assert len(done.urls) == done.outputs == 2
    assert done.expires_at is not None and done.expires_at.tzinfo is not None  # an aware datetime
    assert 3000 < done.expires_at.timestamp() - time.time() <= 3600
    assert httpx.get(done.urls[1]).content == b"second" * 100  # no Authorization header
    expired = fake.signed_url(done.id, 0, int(time.time()) - 1)
    assert httpx.get(expired).status_code == 403
    forged = done.urls[0].replace("signature=", "signature=0")
    assert httpx.get(forged).status_code == 403
