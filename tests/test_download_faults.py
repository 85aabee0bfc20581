"""Fault tests of VideoClient.download / AsyncVideoClient.download against a real loopback server.

Every case runs for both the sync and the async client and asserts the bytes written, the number of
requests, and the headers the server saw.
"""

from __future__ import annotations

import email.utils
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from harness import MODES, Harness, content_requests, no_temp_files
from openrouter_video import (
    APIConnectionError,
    AuthenticationError,
    BadGatewayError,
    IncompleteDownloadError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnexpectedContentError,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.testing import Cut, FakeOpenRouter, RecordedRequest, Redirect, Stall, Status


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Harness:
    return Harness(request.param, fake)


# -- the happy path --------------------------------------------------------------------------------
def test_download_writes_the_bytes_with_sha256(h: Harness, payload: bytes, tmp_path: Path) -> None:
    import hashlib

    h.fake.add_video("job-1", payload)
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.size == len(payload)
    assert result.sha256 == hashlib.sha256(payload).hexdigest()
    assert result.content_type == "video/mp4"
    assert (result.attempts, result.resumes) == (1, 0)
    (request,) = h.fake.requests
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["authorization"] == f"Bearer {h.fake.api_key}"
    assert "range" not in request.headers
    assert h.progress[-1] == (len(payload), len(payload))
    assert no_temp_files(tmp_path)


def test_into_a_directory_uses_a_safe_name(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("../../x", payload, index=2)
    result = h.download("../../x", tmp_path, index=2)
    assert result.path.parent == tmp_path
    assert result.path.name.endswith("-2.mp4")
    assert ".." not in result.path.name and "/" not in result.path.name
    assert result.path.read_bytes() == payload
    assert h.fake.requests[0].query["index"] == ["2"]


# -- cuts and resume -------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [1000, 65_536, 100_000, 256 * 1024 - 1])
def test_cut_mid_body_is_resumed_with_range_and_if_range(
    h: Harness, payload: bytes, tmp_path: Path, offset: int
) -> None:
    video = h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=offset))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    first, second = content_requests(h.fake)
    assert "range" not in first.headers
    # every resume re-reads up to 64 KiB before the bytes kept, and checks them
    assert second.headers["range"] == f"bytes={max(0, offset - OVERLAP)}-"
    assert second.headers["if-range"] == video.etag
    assert second.headers["accept-encoding"] == "identity"
    assert (result.attempts, result.resumes, result.verified) == (2, 1, "content-range")
    # a resume after at least 64 KiB of progress waits for nothing; a smaller one backs off
    assert h.sleeps == ([] if offset >= OVERLAP else [0.5])


def test_connection_reset_mid_body_is_resumed(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=50_000, reset=True))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert [r.headers.get("range") for r in content_requests(h.fake)] == [None, "bytes=0-"]
    assert result.resumes == 1


def test_many_cuts_in_a_row_that_each_bring_64_KiB_do_not_use_up_the_attempts(
    h: Harness, tmp_path: Path
) -> None:
    payload = os.urandom(2 * 1024 * 1024)
    h.fake.add_video("job-1", payload)
    offsets = list(range(70_000, 1_470_000, 70_000))  # 20 cuts, far more than max_attempts=3
    h.fake.cut_at(*offsets)
    result = h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3))
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None] + [f"bytes={o - OVERLAP}-" for o in offsets]
    assert (result.attempts, result.resumes) == (21, 20)
    assert h.sleeps == []


def test_cuts_that_bring_nothing_count_and_end_in_an_error(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.cut_at(1000, 1000, 1000, 1000)  # less than 64 KiB, then nothing new: no progress
    with pytest.raises(IncompleteDownloadError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3))
    assert len(content_requests(h.fake)) == 3
    assert caught.value.received == 1000 and caught.value.expected == len(payload)
    assert h.sleeps == [0.5, 1.0]
    assert not (tmp_path / "out.mp4").exists()
    # the 1000 bytes are kept for the next call, which resumes from them
    assert caught.value.partial_path == tmp_path / ".out.mp4.part"
    assert caught.value.partial_path.read_bytes() == payload[:1000]
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.resumed_from == 1000
    assert content_requests(h.fake)[-1].headers["range"] == "bytes=0-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_server_that_ignores_range_restarts_from_zero(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.ignore_range = True
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    _, second = content_requests(h.fake)
    assert second.headers["range"] == f"bytes={100_000 - OVERLAP}-"
    assert result.resumes == 0 and result.attempts == 2
    # progress went back to 0 when the download restarted
    dones = [done for done, _ in h.progress]
    restart_at = dones.index(0, 1)
    assert max(dones[:restart_at]) > 0 and dones[-1] == len(payload)


def test_206_with_a_wrong_content_range_discards_and_restarts(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.wrong_content_range = True
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None, f"bytes={100_000 - OVERLAP}-", None]
    assert result.resumes == 0


def test_changed_etag_is_never_spliced(h: Harness, payload: bytes, tmp_path: Path) -> None:
    old = h.fake.add_video("job-1", payload)
    new_payload = os.urandom(len(payload) + 1000)

    def replace_on_second(request: RecordedRequest) -> None:
        if len(h.fake.requests) == 2:
            h.fake.add_video("job-1", new_payload)

    h.fake.on_request = replace_on_second
    h.fake.enqueue(Cut(at=100_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == new_payload
    _, second = content_requests(h.fake)
    assert second.headers["if-range"] == old.etag  # the server saw the old validator ...
    assert result.size == len(new_payload)  # ... and answered 200 with the new content
    assert result.resumes == 0


def test_stall_longer_than_the_read_timeout_is_resumed(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Stall(at=100_000, seconds=5.0))
    started = time.monotonic()
    result = h.download("job-1", tmp_path / "out.mp4", timeout=0.3)
    assert time.monotonic() - started < 4.0
    assert (tmp_path / "out.mp4").read_bytes() == payload
    ranges = [r.headers.get("range") for r in content_requests(h.fake)]
    assert ranges == [None, f"bytes={100_000 - OVERLAP}-"]
    assert result.resumes == 1


# -- statuses --------------------------------------------------------------------------------------
def test_429_with_retry_after_seconds(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(429, retry_after=7))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert h.sleeps == [7.0]
    assert result.attempts == 2


def test_503_with_retry_after_as_an_http_date(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    h.fake.enqueue(Status(503, retry_after=when))
    h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    (slept,) = h.sleeps
    assert 17.0 <= slept <= 20.5
    assert len(content_requests(h.fake)) == 2


def test_retry_after_above_the_maximum_raises_at_once(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(429, retry_after=3600))
    with pytest.raises(RateLimitError) as caught:
        h.download("job-1", tmp_path / "out.mp4")
    assert caught.value.status_code == 429 and caught.value.retry_after == 3600
    assert h.sleeps == [] and len(content_requests(h.fake)) == 1


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("status", [500, 502])
def test_5xx_json_or_html_is_retried(
    h: Harness, payload: bytes, tmp_path: Path, status: int, html: bool
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.fail(status, times=2, html=html)
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.attempts == 3
    assert h.sleeps == [0.5, 1.0]


def test_502_html_exhausted_gives_bad_gateway_with_the_page_title(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.fail(502, times=3, html=True)
    with pytest.raises(BadGatewayError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3))
    assert caught.value.status_code == 502
    assert caught.value.message == "502 Bad Gateway"
    assert str(caught.value) == "HTTP 502: 502 Bad Gateway"
    assert len(content_requests(h.fake)) == 3
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_500_json_exhausted_carries_code_message_metadata_user_id(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    import json

    h.fake.add_video("job-1", payload)
    body = json.dumps(
        {
            "error": {"code": 500, "message": "upstream exploded", "metadata": {"provider": "x"}},
            "user_id": "user-7",
        }
    ).encode()
    h.fake.enqueue(Status(500, body=body), Status(500, body=body))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2))
    err = caught.value
    assert (err.status_code, err.code, err.message) == (500, 500, "upstream exploded")
    assert err.metadata == {"provider": "x"} and err.user_id == "user-7"


def test_empty_500_and_undocumented_503_still_give_useful_errors(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(500, body=b""))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "a.mp4", retry=h.policy(max_attempts=1))
    assert caught.value.message == "Internal Server Error"
    h.fake.enqueue(Status(503, body=b"upstream connect error", content_type="text/plain"))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "b.mp4", retry=h.policy(max_attempts=1))
    assert caught.value.status_code == 503 and caught.value.message == "upstream connect error"


def test_401_costs_exactly_one_request(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    wrong = "sk-or-wrong-" + "7" * 20
    with pytest.raises(AuthenticationError) as caught:
        h.download("job-1", tmp_path / "out.mp4", api_key=wrong)
    assert caught.value.status_code == 401 and caught.value.message == "Invalid API key"
    assert len(h.fake.requests) == 1 and h.sleeps == []
    assert h.fake.requests[0].headers["authorization"] == f"Bearer {wrong}"
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


def test_404_costs_exactly_one_request(h: Harness, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        h.download("job-missing", tmp_path / "out.mp4")
    assert caught.value.status_code == 404 and "job-missing" in caught.value.message
    assert len(h.fake.requests) == 1 and h.sleeps == []
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_200_with_an_html_body_is_unexpected_content(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(200, html=True, body=b"<html><title>Sign in to Wi-Fi</title></html>"))
    with pytest.raises(UnexpectedContentError) as caught:
        h.download("job-1", tmp_path / "out.mp4")
    assert "Sign in to Wi-Fi" in str(caught.value)
    assert len(h.fake.requests) == 1
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_connection_refused_is_retried_then_raised(h: Harness, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(APIConnectionError):
        h.download("job-1", tmp_path / "out.mp4", base_url=f"http://127.0.0.1:{port}/api/v1")
    assert h.sleeps == [0.5, 1.0, 2.0, 4.0]  # max_attempts=5 requests, full jitter pinned to 1


# -- redirects -------------------------------------------------------------------------------------
def test_redirect_to_another_origin_drops_authorization(h: Harness, payload: bytes, tmp_path: Path) -> None:
    with FakeOpenRouter(require_auth=False) as cdn:
        cdn.add_video("job-1", payload)
        h.fake.add_video("job-1", b"not this")
        h.fake.enqueue(Redirect(cdn.base_url + "/videos/job-1/content?index=0"))
        h.download("job-1", tmp_path / "out.mp4")
        assert (tmp_path / "out.mp4").read_bytes() == payload
        assert h.fake.requests[0].headers["authorization"] == f"Bearer {h.fake.api_key}"
        (there,) = cdn.requests
        assert "authorization" not in there.headers


# -- destinations ----------------------------------------------------------------------------------
def test_existing_destination_is_refused_before_any_request(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old video")
    with pytest.raises(FileExistsError):
        h.download("job-1", dest)
    assert h.fake.requests == [] and dest.read_bytes() == b"old video"
    h.download("job-1", dest, overwrite=True)
    assert dest.read_bytes() == payload and no_temp_files(tmp_path)


def test_a_missing_destination_directory_is_created_and_a_file_in_the_way_refused_before_any_request(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    (tmp_path / "a-file").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="a-file is a file, not a directory"):
        h.download("job-1", tmp_path / "a-file" / "out.mp4")
    assert h.fake.requests == []
    h.download("job-1", tmp_path / "no-such-dir" / "out.mp4")
    assert (tmp_path / "no-such-dir" / "out.mp4").read_bytes() == payload


def test_interrupt_mid_body_leaves_old_file_and_a_resumable_partial(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.stall(at=150_000, seconds=0.3)  # the progress callback runs again when bytes follow
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old video")

    def interrupt(done: int, total: int | None) -> None:
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        h.download("job-1", dest, overwrite=True, on_progress=interrupt)
    assert dest.read_bytes() == b"old video"
    part = tmp_path / ".out.mp4.part"
    assert caught.value.partial_path == part  # type: ignore[attr-defined]
    kept = part.read_bytes()
    assert len(kept) > 100_000 and payload.startswith(kept)
    result = h.download("job-1", dest, overwrite=True, on_progress=None)
    assert dest.read_bytes() == payload and result.resumed_from == len(kept)
    assert content_requests(h.fake)[-1].headers["range"] == f"bytes={len(kept) - OVERLAP}-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_keep_partial_false_deletes_it_on_failure(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.stall(at=150_000, seconds=0.3)

    def interrupt(done: int, total: int | None) -> None:
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h.download("job-1", tmp_path / "out.mp4", on_progress=interrupt, keep_partial=False)
    assert list(tmp_path.iterdir()) == []


WRITE_ERROR_SCRIPT = textwrap.dedent(
    """
    import asyncio, resource, signal, sys
    from openrouter_video import VideoClient, AsyncVideoClient, RetryPolicy
    mode, base_url, key, dest = sys.argv[1:5]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    config = dict(api_key=key, base_url=base_url, retry=RetryPolicy(max_attempts=1))
    try:
        if mode == "sync":
            with VideoClient(**config) as client:
                client.download("job-1", dest, overwrite=True)
        else:
            async def run():
                async with AsyncVideoClient(**config) as client:
                    await client.download("job-1", dest, overwrite=True)
            asyncio.run(run())
    except OSError as exc:
        print("OSError", exc.errno)
        sys.exit(3)
    """
)


def test_write_error_mid_body_leaves_old_file_and_no_temp_file(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old video")
    result = subprocess.run(
        [sys.executable, "-c", WRITE_ERROR_SCRIPT, h.mode, h.fake.base_url, h.fake.api_key, str(dest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("OSError 27")  # EFBIG
    assert dest.read_bytes() == b"old video"
    assert no_temp_files(tmp_path)
    assert len(content_requests(h.fake)) == 1


# -- logging and secrets ---------------------------------------------------------------------------
def test_retries_are_logged_with_reason_status_and_delay_and_never_the_key(
    h: Harness, payload: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(503, retry_after=2), Cut(at=1000))
    with caplog.at_level(logging.DEBUG):
        h.download("job-1", tmp_path / "out.mp4")
    retries = [r.getMessage() for r in caplog.records if r.name == "openrouter_video"]
    assert len(retries) == 2
    assert "HTTP 503" in retries[0] and "2.00s" in retries[0]
    assert "resuming" in retries[1]
    assert all(h.fake.api_key not in r.getMessage() for r in caplog.records)


def test_sha256_covers_only_the_final_content_after_a_restart(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    import hashlib

    h.fake.add_video("job-1", payload)
    h.fake.ignore_range = True
    h.fake.cut_at(150_000)  # the restart discards 150 000 bytes already written and hashed
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256")
    assert result.sha256 == hashlib.sha256(payload).hexdigest()
    assert (tmp_path / "out.mp4").read_bytes() == payload


def test_progress_is_throttled_to_about_ten_calls_a_second(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.rate = len(payload) / 0.6  # about 0.6 s, in 60 writes of 4 KiB
    started = time.monotonic()
    h.download("job-1", tmp_path / "out.mp4")
    elapsed = time.monotonic() - started
    assert h.progress[-1] == (len(payload), len(payload))  # once at the end, complete
    assert 2 <= len(h.progress) <= elapsed * 10 + 2


def test_redirects_are_followed_up_to_a_small_limit(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    loop = h.fake.base_url + "/videos/job-1/content?index=0"
    h.fake.enqueue(*(Redirect(loop) for _ in range(10)))
    with pytest.raises(APIConnectionError, match="TooManyRedirects"):
        h.download("job-1", tmp_path / "out.mp4")
    assert len(h.fake.requests) == 6  # the request and 5 redirects, not retried
    assert h.sleeps == [] and no_temp_files(tmp_path)


def test_a_writer_slower_than_the_network_applies_backpressure(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disk: the producer waits for the writer (the sync one blocks, the async one awaits a
    wake-up from the writer thread) and memory stays bounded; nothing is lost or reordered."""
    from openrouter_video.io import files as _files

    payload = os.urandom(12 * 1024 * 1024)
    h.fake.add_video("job-1", payload)
    original = _files.PartialFile._handle
    waits: list[str] = []

    def slow_handle(self: _files.PartialFile, item: object) -> None:
        time.sleep(0.02)
        original(self, item)

    original_wait, original_try = _files.PartialFile.wait_for_room, _files.PartialFile.try_flush

    def counted_wait(self: _files.PartialFile) -> None:
        if self._full:  # a full buffer the writer had no room for
            waits.append("wait")
        original_wait(self)

    def counted_try(self: _files.PartialFile, on_room: Any) -> bool:
        accepted = original_try(self, on_room)
        if not accepted:
            waits.append("await")
        return accepted

    monkeypatch.setattr(_files.PartialFile, "_handle", slow_handle)
    monkeypatch.setattr(_files.PartialFile, "wait_for_room", counted_wait)
    monkeypatch.setattr(_files.PartialFile, "try_flush", counted_try)
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.sha256 == __import__("hashlib").sha256(payload).hexdigest()
    assert ("await" if h.mode == "async" else "wait") in waits
