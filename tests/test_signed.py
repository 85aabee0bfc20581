"""Signed URLs to OpenRouter's stored copy (a job's ``urls``), their expiry, and continuation, against
the fake server: its storage listens on a second origin (127.0.0.2) that refuses, and records, any
request carrying ``Authorization``. The same behaviour against a real object store (nginx with
``secure_link``) is in ``test_signed_nginx.py``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import Harness
from helpers_cli import run_cli
from openrouter_video import (
    AsyncVideoClient,
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    VideoClient,
    VideoExpiredError,
    VideoJob,
)
from openrouter_video.testing import Cut, FakeOpenRouter, Redirect, Stall, Status, mp4_bytes

NO_SLEEP = RetryPolicy(sleep=lambda _: None, jitter=lambda: 1.0)


def storage_requests(fake: FakeOpenRouter) -> list[str]:
    return [r.headers.get("range", "") for r in fake.requests if r.origin == "storage"]


def api_downloads(fake: FakeOpenRouter) -> list[str]:
    return [r.headers.get("range", "") for r in fake.requests if r.path.endswith("/content")]


@pytest.fixture
def video() -> bytes:
    return mp4_bytes(300_000)


def test_auto_downloads_from_the_signed_url_with_no_key(h: Harness, tmp_path: Path, video: bytes) -> None:
    h.fake.add_video("job-1", video)
    result = h.download("job-1", tmp_path / "out.mp4")
    assert result.source == "signed" and (tmp_path / "out.mp4").read_bytes() == video
    assert storage_requests(h.fake) == [""] and api_downloads(h.fake) == []
    assert h.fake.storage_authorization == []
    # given the job id, auto asked for the job first: one GET, with the key, on the API's origin
    jobs = [r for r in h.fake.requests if r.path.endswith("/videos/job-1")]
    assert len(jobs) == 1 and jobs[0].headers["authorization"] == f"Bearer {h.fake.api_key}"


def test_a_resume_a_retry_and_a_redirect_on_storage_carry_no_key(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    job = VideoClient(api_key=fake.api_key, base_url=fake.base_url).get_job("job-1")
    second = fake.signed_url("job-1", 0, int(job.expires_at.timestamp()) if job.expires_at else 0)
    fake.enqueue(Redirect(second), Cut(at=100_000), Status(503), route="storage")
    result = h.download("job-1", tmp_path / "out.mp4")
    assert result.source == "signed" and (tmp_path / "out.mp4").read_bytes() == video
    assert result.resumes == 1 and fake.storage_authorization == []
    ranges = storage_requests(fake)
    assert len(ranges) == 4 and ranges[:2] == ["", ""] and ranges[2] == ranges[3] != ""


def test_ranges_from_storage_carry_no_key(h: Harness, tmp_path: Path) -> None:
    video = mp4_bytes(20 * 1024 * 1024)
    fake = h.fake
    fake.add_video("job-1", video)
    fake.rate = 8 * 1024 * 1024  # a cap per connection: one stream is slow, so ranges pay
    result = h.download("job-1", tmp_path / "out.mp4", max_connections=4, retry=NO_SLEEP)
    assert result.source == "signed" and result.connections > 1
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert len(storage_requests(fake)) > 1 and api_downloads(fake) == []
    assert fake.storage_authorization == []


def test_api_source_is_the_content_endpoint_with_no_extra_request(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    h.fake.add_video("job-1", video)
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert result.source == "api" and api_downloads(h.fake) == [""]
    assert [r.path for r in h.fake.requests] == ["/api/v1/videos/job-1/content"]


def test_a_content_endpoint_redirecting_to_storage_drops_the_key(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    fake.enqueue(Redirect(fake.signed_url("job-1", 0, int(datetime.now(UTC).timestamp()) + 600)))
    result = h.download("job-1", tmp_path / "out.mp4", source="api")
    assert result.source == "api" and (tmp_path / "out.mp4").read_bytes() == video
    assert storage_requests(fake) == [""] and fake.storage_authorization == []


def test_an_expired_signed_url_mid_download_is_refreshed_and_resumed_not_restarted(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    expired = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    fake.enqueue(Cut(at=120_000), Status(403, body=expired, content_type="application/xml"), route="storage")
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert result.refreshes == 1
    ranges = storage_requests(fake)  # the first body, the refused resume, the resume with a fresh URL
    assert ranges[0] == "" and all(r.startswith("bytes=") and r != "bytes=0-" for r in ranges[1:])
    assert fake.storage_authorization == []


def test_a_copy_that_expired_falls_back_to_the_content_endpoint_and_resumes(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    fake.content_outlives_copy = True  # the job then lists no urls, but its content endpoint works

    def expire_after_the_cut(request: object) -> None:
        if getattr(request, "origin", "") == "storage" and getattr(request, "headers", {}).get("range"):
            fake.expire("job-1")

    fake.enqueue(Cut(at=150_000), route="storage")
    fake.on_request = expire_after_the_cut
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert result.source == "api" and result.refreshes == 1
    resumed = api_downloads(fake)
    assert len(resumed) == 1 and resumed[0].startswith("bytes=") and resumed[0] != "bytes=0-"
    assert fake.storage_authorization == []


def test_a_stored_copy_with_other_bytes_is_never_spliced(h: Harness, tmp_path: Path, video: bytes) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    other = bytes(b ^ 0x5A for b in video)  # same size, other bytes
    fake.store("job-1", other)
    fake.enqueue(Cut(at=200_000), Status(404))  # the content endpoint: cut, then refuses
    with pytest.raises(NotFoundError) as failed:
        h.download(
            "job-1",
            tmp_path / "out.mp4",
            source="api",
            retry=RetryPolicy(max_attempts=1, sleep=lambda _: None),
        )
    assert failed.value.partial_path is not None
    result = h.download("job-1", tmp_path / "out.mp4")  # auto: the stored copy
    data = (tmp_path / "out.mp4").read_bytes()
    assert data == other and result.source == "signed"  # one whole version, never a mix
    assert storage_requests(fake)[0].startswith("bytes=") and storage_requests(fake)[-1] == ""


def test_a_stored_copy_with_the_same_bytes_continues_the_api_partial(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    fake.enqueue(Cut(at=200_000), Status(404))
    with pytest.raises(NotFoundError):
        h.download(
            "job-1",
            tmp_path / "out.mp4",
            source="api",
            retry=RetryPolicy(max_attempts=1, sleep=lambda _: None),
        )
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == video
    assert result.source == "signed" and result.resumed_from == 200_000
    assert [r for r in storage_requests(fake)] == [f"bytes={200_000 - 64 * 1024}-"]  # no If-Range


def test_a_gone_output_raises_video_expired_error_with_the_date(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    fake = h.fake
    fake.add_video("job-1", video)
    fake.expire("job-1")  # the copy expired: the content endpoint answers 410 too
    with pytest.raises(VideoExpiredError) as raised:
        h.download("job-1", tmp_path / "out.mp4")
    assert str(raised.value).startswith("the stored copy of job job-1 is gone (HTTP 410: ")
    assert "generate it again" in str(raised.value) and not (tmp_path / "out.mp4").exists()
    # a job read before it expired says when: its urls are not used past expires_at
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = VideoJob(
        id="job-1", status="completed", urls=(fake.signed_url("job-1", 0, 1767323045),), expires_at=when
    )
    with pytest.raises(VideoExpiredError) as dated:
        h.download(job, tmp_path / "out.mp4")  # type: ignore[arg-type]
    assert "the stored copy of job job-1 expired at 2026-01-02 03:04:05 UTC (HTTP 410: " in str(dated.value)
    assert dated.value.expired_at == when and "\n" not in str(dated.value)
    assert [r for r in fake.requests if r.origin == "storage"] == []  # past expires_at: not even tried


def test_signed_source_without_a_url_is_refused(h: Harness, tmp_path: Path, video: bytes) -> None:
    h.fake.add_video("job-1", video)
    h.fake.expire("job-1")
    with pytest.raises(InvalidRequestError, match="no signed URL"):
        h.download("job-1", tmp_path / "out.mp4", source="signed")
    with pytest.raises(ValueError, match="source must be"):
        h.download("job-1", tmp_path / "out.mp4", source="cdn")


def test_signed_urls_are_redacted_from_reprs_errors_and_logs(
    fake: FakeOpenRouter, tmp_path: Path, video: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_video("job-1", video)
    caplog.set_level(logging.DEBUG)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        job = client.get_job("job-1")
        signature = job.urls[0].partition("?")[2]
        assert signature and signature not in repr(job) and job.urls[0].endswith(signature)
        fake.enqueue(Status(404), route="storage")
        with pytest.raises(Exception) as raised:
            client.download(job, tmp_path / "out.mp4", source="signed")
    text = repr(raised.value) + str(raised.value) + caplog.text
    for exc in (raised.value, raised.value.__cause__, raised.value.__context__):
        request = getattr(exc, "request", None)
        text += repr(request) + str(getattr(request, "url", ""))
    assert "storage" in caplog.text and signature not in text


def test_expires_at_is_an_aware_datetime_and_wait_warns_near_expiry(
    fake: FakeOpenRouter, caplog: pytest.LogCaptureFixture
) -> None:
    fake.stored_for = 120.0
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        job = client.wait(client.generate("google/veo-3.1", "a kite"), poll_interval=0)
        assert job.expires_at is not None and job.expires_at.tzinfo is not None
        assert 60 < (job.expires_at - datetime.now(UTC)).total_seconds() <= 121
        assert "expires at" in caplog.text and job.id in caplog.text
        caplog.clear()
        client.wait(job, poll_interval=0, expiry_margin=60)
        assert "expires at" not in caplog.text


def test_generate_continues_a_previous_job(fake: FakeOpenRouter, tmp_path: Path) -> None:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        first = client.wait(client.generate("google/veo-3.1", "a kite"), poll_interval=0)
        results = client.generate_and_download(
            tmp_path,
            model="google/veo-3.1",
            prompt="the kite lands",
            previous_job_id=first.id,
            poll_interval=0,
        )
    second = next(job for job in fake.jobs.values() if job.id != first.id)
    assert second.request["previous_job_id"] == first.id
    assert results[0].source == "signed" and fake.storage_authorization == []


def test_async_stream_and_generate_and_download_use_the_signed_url(
    fake: FakeOpenRouter, tmp_path: Path, video: bytes
) -> None:
    fake.add_video("job-1", video)

    async def main() -> bytes:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
            async with client.stream("job-1") as stream:
                return b"".join([chunk async for chunk in stream.aiter_bytes()])

    assert asyncio.run(main()) == video
    assert storage_requests(fake) == [""] and fake.storage_authorization == []


def test_cli_downloads_from_storage_prints_stored_until_and_continues(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.add_video("job-1", mp4_bytes(50_000))
    result = run_cli(fake, "download", "job-1", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "signed" and fake.storage_authorization == []
    status = run_cli(fake, "status", "job-1", cwd=tmp_path)
    assert "stored until" in status.stdout and "UTC" in status.stdout
    raw = run_cli(fake, "status", "job-1", "--json", cwd=tmp_path)
    assert "signature=" not in raw.stdout and "redacted signature" in raw.stdout
    made = run_cli(
        fake,
        "generate",
        "--model",
        "google/veo-3.1",
        "--prompt",
        "more",
        "--continue",
        "job-1",
        "-o",
        "out",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert [job.request.get("previous_job_id") for job in fake.jobs.values() if job.request] == ["job-1"]
    assert fake.storage_authorization == []


def test_cli_prints_the_expiry_in_one_line(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.add_video("job-1", mp4_bytes(50_000))
    fake.expire("job-1")
    fake.gone("job-1")
    result = run_cli(fake, "download", "job-1", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: the stored copy of job job-1") and "generate it again" in lines[0]
    assert "Traceback" not in result.stderr


# -- found by review: each failed before its fix ---------------------------------------------------


def test_keep_partial_false_never_deletes_another_downloads_partial(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    video = mp4_bytes(600_000)
    fake.add_video("job-1", video)
    fake.enqueue(Stall(at=200_000, seconds=1.0), route="storage")
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"
    results: list[object] = []

    def first() -> None:
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
            results.append(client.download("job-1", dest))

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 10
    while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with pytest.raises(NotFoundError):  # fails before it could take the lock
            client.download("job-nope", dest, keep_partial=False)
        assert part.exists()
        with pytest.raises(ValueError, match="checksum"):
            client.download("job-1", dest, source="api", checksum="md5", keep_partial=False)  # type: ignore[arg-type]
        assert part.exists()
    thread.join(10)
    assert dest.read_bytes() == video and len(results) == 1


def test_keep_partial_false_deletes_this_calls_partial_after_a_refused_refresh(
    fake: FakeOpenRouter, tmp_path: Path, video: bytes
) -> None:
    fake.add_video("job-1", video)
    expired = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    fake.enqueue(Cut(at=150_000), *[Status(403, body=expired)] * 3, route="storage")
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=NO_SLEEP) as client:
        with pytest.raises(PermissionDeniedError) as raised:
            client.download("job-1", tmp_path / "out.mp4", keep_partial=False)
    assert raised.value.partial_path is None and sorted(os.listdir(tmp_path)) == []


def test_a_negative_index_is_never_taken_from_the_end_of_urls(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    h.fake.add_video("job-1", video)
    h.fake.add_video("job-1", mp4_bytes(1000), index=1)
    with pytest.raises(BadRequestError, match="index"):
        h.download("job-1", tmp_path / "out.mp4", index=-1)
    assert [r for r in h.fake.requests if r.origin == "storage"] == []


def test_a_hand_made_job_is_redacted_and_its_expiry_normalised() -> None:
    url = "https://cdn.example/o/x.mp4?md5=EBQv0iJQvnjV9ozrpUx0WA&expires=1796641524"
    naive = VideoJob(id="j", urls=(url,), expires_at=datetime(2030, 1, 1))  # naive on purpose
    assert naive.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    seconds = VideoJob(id="j", expires_at=1796641524)  # type: ignore[arg-type]  # the spec's type
    assert seconds.expires_at == datetime.fromtimestamp(1796641524, UTC)
    assert "EBQv0iJQ" not in repr(naive) and naive.urls == (url,)


def test_the_expiry_error_is_one_line_whatever_the_server_says(
    h: Harness, tmp_path: Path, video: bytes
) -> None:
    h.fake.add_video("job-1", video)
    h.fake.enqueue(Status(410, body=b'{"error": {"code": 410, "message": "gone\\nTraceback: line two"}}'))
    with pytest.raises(VideoExpiredError) as raised:
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert "\n" not in str(raised.value) and "line two" in str(raised.value)


def test_the_signed_url_registry_stays_bounded() -> None:
    from openrouter_video import _secrets

    for n in range(_secrets.MAX_SIGNED_URLS + 500):
        _secrets.register_signed_url(f"https://cdn.example/o?expires=1700000000&md5=bounded{n:09d}")
    assert len(_secrets._signed) == _secrets.MAX_SIGNED_URLS
    assert sum(_secrets._lengths.values()) == _secrets.MAX_SIGNED_URLS
    last = f"GET https://cdn.example/o?expires=1700000000&md5=bounded{_secrets.MAX_SIGNED_URLS + 499:09d} 200"
    assert _secrets.redact(last) == "GET https://cdn.example/o?<redacted signature> 200"
