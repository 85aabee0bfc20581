"""Signed URLs against a real object store: Debian's nginx with ``secure_link`` (expiring signed URLs,
ranges and ETags from its static module, S3's 403 bodies), on 127.0.0.2, refusing and logging any
request that carries ``Authorization`` (``tests/helpers_storage.py``). The API (job refreshes, the
content endpoint) is the fake server. Why nginx: it installs from Debian, its ``secure_link`` module
is how many CDNs sign URLs, and its ETags (mtime and size) differ from the fake's, as a real object
store's differ from OpenRouter's content endpoint."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import MODES
from helpers_storage import NginxStorage
from openrouter_video import (
    AsyncVideoClient,
    DownloadResult,
    NotFoundError,
    RetryPolicy,
    VideoClient,
    VideoJob,
)
from openrouter_video.testing import Cut, FakeOpenRouter, Redirect, Status, mp4_bytes

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (apt-get install nginx)")

OVERLAP = 64 * 1024


@pytest.fixture(scope="module")
def store() -> Iterator[NginxStorage]:
    with NginxStorage() as storage:
        yield storage


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def job_at(url: str, job_id: str = "job-1", expires_in: float = 3600) -> VideoJob:
    """A completed job whose stored copy is ``url`` (the API would list it in ``urls``)."""
    expires = datetime.now(UTC) + timedelta(seconds=expires_in)
    return VideoJob(id=job_id, status="completed", urls=(url,), expires_at=expires)


def download(
    fake: FakeOpenRouter,
    mode: str,
    job: VideoJob | str,
    dest: Path,
    retry: RetryPolicy | None = None,
    **kwargs: object,
) -> DownloadResult:
    retry = retry or RetryPolicy(sleep=lambda _: None)
    config = {"api_key": fake.api_key, "base_url": fake.base_url, "retry": retry}
    if mode == "sync":
        with VideoClient(**config) as client:  # type: ignore[arg-type]
            return client.download(job, dest, **kwargs)  # type: ignore[arg-type]

    async def run() -> DownloadResult:
        async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
            return await client.download(job, dest, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(run())


def logged(store: NginxStorage, since: int) -> list[dict[str, object]]:
    return [r for r in store.requests()[since:] if str(r["uri"]).startswith(("/o/", "/r/"))]


def kept_from_the_api(fake: FakeOpenRouter, mode: str, dest: Path, at: int) -> None:
    """A partial of ``at`` bytes at ``dest``, left by a download from the content endpoint."""
    fake.enqueue(Cut(at=at), Status(404))
    with pytest.raises(NotFoundError) as failed:
        download(
            fake, mode, "job-1", dest, source="api", retry=RetryPolicy(max_attempts=1, sleep=lambda _: None)
        )
    assert failed.value.partial_path is not None


def test_a_signed_url_is_fetched_with_no_key(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path
) -> None:
    data = mp4_bytes(200_000)
    store.put(f"a-{mode}.mp4", data)
    since = len(store.requests())
    result = download(fake, mode, job_at(store.url(f"a-{mode}.mp4", time.time() + 600)), tmp_path / "out.mp4")
    assert result.source == "signed" and (tmp_path / "out.mp4").read_bytes() == data
    seen = logged(store, since)
    assert [(r["status"], r["authorization"]) for r in seen] == [(200, False)]
    assert store.authorization_seen() == [] and fake.requests == []  # a VideoJob given: no GET


def test_a_redirect_into_storage_carries_no_key(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path
) -> None:
    data = mp4_bytes(100_000)
    store.put(f"r-{mode}.mp4", data)
    since = len(store.requests())
    job = job_at(store.redirect_url(f"r-{mode}.mp4", time.time() + 600))
    assert download(fake, mode, job, tmp_path / "out.mp4").path.read_bytes() == data
    assert [r["status"] for r in logged(store, since)] == [302, 200] and store.authorization_seen() == []


def test_an_api_partial_continues_from_the_stored_copy_by_the_switch_rule(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path
) -> None:
    data = mp4_bytes(400_000)
    fake.add_video("job-1", data)
    store.put(f"s-{mode}.mp4", data)
    dest = tmp_path / "out.mp4"
    kept_from_the_api(fake, mode, dest, 250_000)
    since = len(store.requests())
    result = download(fake, mode, job_at(store.url(f"s-{mode}.mp4", time.time() + 600)), dest)
    assert dest.read_bytes() == data and result.source == "signed" and result.resumed_from == 250_000
    (resumed,) = logged(store, since)  # one range from the overlap on, no If-Range (other validators)
    assert resumed["status"] == 206 and resumed["range"] == f"bytes={250_000 - OVERLAP}-"
    assert resumed["if_range"] in (None, "", "-") and not resumed["authorization"]


def test_a_stored_copy_of_the_same_size_with_other_bytes_is_never_spliced(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path
) -> None:
    data = mp4_bytes(400_000)
    other = bytes(b ^ 0xA5 for b in data)
    fake.add_video("job-1", data)
    store.put(f"o-{mode}.mp4", other)
    dest = tmp_path / "out.mp4"
    kept_from_the_api(fake, mode, dest, 250_000)
    since = len(store.requests())
    result = download(fake, mode, job_at(store.url(f"o-{mode}.mp4", time.time() + 600)), dest)
    assert dest.read_bytes() == other and result.source == "signed"  # the stored copy, whole
    statuses = [(r["status"], r["range"]) for r in logged(store, since)]
    assert statuses[0][0] == 206 and statuses[-1][0] == 200  # the overlap differed: from byte 0
    assert store.authorization_seen() == []


def test_an_expired_signed_url_is_refreshed_and_the_download_resumes(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path
) -> None:
    """nginx answers 403 "Request has expired" (the URL's own expiry passed, before the job's): the
    job is fetched again, and its fresh URL continues the partial, not from byte 0."""
    data = mp4_bytes(400_000)
    fake.add_video("job-1", data)
    store.put(f"e-{mode}.mp4", data)
    dest = tmp_path / "out.mp4"
    kept_from_the_api(fake, mode, dest, 250_000)
    since = len(store.requests())
    stale = job_at(store.url(f"e-{mode}.mp4", time.time() - 5))
    result = download(fake, mode, stale, dest)
    assert dest.read_bytes() == data and result.refreshes == 1 and result.source == "signed"
    assert [r["status"] for r in logged(store, since)] == [403]
    fresh = [r for r in fake.requests if r.origin == "storage"]
    assert len(fresh) == 1 and fresh[0].headers["range"] == f"bytes={250_000 - OVERLAP}-"
    assert store.authorization_seen() == [] and fake.storage_authorization == []


def test_ranges_from_a_capped_store_carry_no_key(fake: FakeOpenRouter, mode: str, tmp_path: Path) -> None:
    data = mp4_bytes(24 * 1024 * 1024)
    with NginxStorage(rate=6 * 1024 * 1024) as capped:  # per connection: ranges pay
        capped.put("big.mp4", data)
        job = job_at(capped.url("big.mp4", time.time() + 600))
        result = download(fake, mode, job, tmp_path / "out.mp4", max_connections=4)
        seen = capped.requests()
        assert capped.authorization_seen() == []
    assert (tmp_path / "out.mp4").read_bytes() == data and result.connections > 1
    ranged = [r for r in seen if str(r["uri"]).startswith("/o/") and r["status"] == 206]
    assert len(ranged) >= 2 and not any(r["authorization"] for r in seen)


def test_signatures_without_a_signature_parameter_stay_out_of_logs(
    fake: FakeOpenRouter, store: NginxStorage, mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """nginx's ``md5=`` (like Akamai's ``__token__``) is no ``signature=``: the URL of a hand-made job,
    and the target of a redirect from the content endpoint, are still redacted from httpx's log."""
    data = mp4_bytes(50_000)
    store.put(f"l-{mode}.mp4", data)
    fake.add_video("job-1", data)
    caplog.set_level(logging.DEBUG)
    url = store.url(f"l-{mode}.mp4", time.time() + 600)
    job = job_at(url)
    assert download(fake, mode, job, tmp_path / "a.mp4").source == "signed"
    target = store.url(f"l-{mode}.mp4", time.time() + 601)
    fake.enqueue(Redirect(target))
    assert download(fake, mode, "job-1", tmp_path / "b.mp4", source="api").path.read_bytes() == data
    assert f"/o/l-{mode}.mp4" in caplog.text  # httpx logged both requests
    for signed in (url, target):
        signature = signed.partition("md5=")[2].partition("&")[0]
        assert signature not in caplog.text and signature not in repr(job)
