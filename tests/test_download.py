"""Plain downloads, sync and async, against the real loopback fake server: the bytes and their SHA-256,
destinations and directories, names, redirects, progress, backpressure, and how the file is written
(gathered buffers, writev, fsync, write errors). Resumes, retries, errors and verification have files
of their own (test_resume.py, test_retries.py, test_errors.py, test_verification.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from harness import Harness, content_requests, no_temp_files
from openrouter_video import APIConnectionError, AsyncVideoClient, InvalidRequestError, VideoClient
from openrouter_video.testing import Cut, FakeOpenRouter, Redirect, mp4_bytes

MIB = 1024 * 1024


# -- the happy path ---------------------------------------------------------------------------------


def test_download_writes_the_bytes_with_sha256(h: Harness, payload: bytes, tmp_path: Path) -> None:
    import hashlib

    h.fake.add_video("job-1", payload)
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256", source="api")
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
    result = h.download("../../x", tmp_path, index=2, source="api")
    assert result.path.parent == tmp_path
    assert result.path.name.endswith("-2.mp4")
    assert ".." not in result.path.name and "/" not in result.path.name
    assert result.path.read_bytes() == payload
    assert h.fake.requests[0].query["index"] == ["2"]


def test_progress_is_throttled_to_about_ten_calls_a_second(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.rate = len(payload) / 0.6  # about 0.6 s, in 60 writes of 4 KiB
    started = time.monotonic()
    h.download("job-1", tmp_path / "out.mp4", source="api")
    elapsed = time.monotonic() - started
    assert h.progress[-1] == (len(payload), len(payload))  # once at the end, complete
    assert 2 <= len(h.progress) <= elapsed * 10 + 2


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
    result = h.download("job-1", tmp_path / "out.mp4", checksum="sha256", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert result.sha256 == __import__("hashlib").sha256(payload).hexdigest()
    assert ("await" if h.mode == "async" else "wait") in waits


# -- destinations and names -------------------------------------------------------------------------


def test_existing_destination_is_refused_before_any_request(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old video")
    with pytest.raises(FileExistsError):
        h.download("job-1", dest, source="api")
    assert h.fake.requests == [] and dest.read_bytes() == b"old video"
    h.download("job-1", dest, overwrite=True, source="api")
    assert dest.read_bytes() == payload and no_temp_files(tmp_path)


def test_a_missing_destination_directory_is_created_and_a_file_in_the_way_refused_before_any_request(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    (tmp_path / "a-file").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="a-file is a file, not a directory"):
        h.download("job-1", tmp_path / "a-file" / "out.mp4", source="api")
    assert h.fake.requests == []
    h.download("job-1", tmp_path / "no-such-dir" / "out.mp4", source="api")
    assert (tmp_path / "no-such-dir" / "out.mp4").read_bytes() == payload


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_library_creates_output_directories_too(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path, mode: str
) -> None:
    fake.add_video("job-abc", payload)
    one, two = f"{tmp_path}/one/", tmp_path / "two" / "deep" / "clip.mp4"  # a str: a Path drops the /
    if mode == "sync":
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-abc", one, source="api")
            client.download("job-abc", two, source="api")
            results = client.generate_and_download(
                tmp_path / "three", model="google/veo-3.1", poll_interval=0.01
            )
    else:

        async def run() -> list[object]:
            async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
                await client.download("job-abc", one, source="api")
                await client.download("job-abc", two, source="api")
                return list(
                    await client.generate_and_download(
                        tmp_path / "three", model="google/veo-3.1", poll_interval=0.01
                    )
                )

        results = asyncio.run(run())  # type: ignore[assignment]
    assert (tmp_path / "one" / "job-abc.mp4").read_bytes() == payload
    assert two.read_bytes() == payload
    assert len(results) == 1 and len(list((tmp_path / "three").iterdir())) == 1


def test_a_directory_that_cannot_be_made_is_a_permission_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openrouter_video.io.files import ensure_directory

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)  # as root, chmod would not stop it
    with pytest.raises(PermissionError, match=r"cannot create the directory .*locked: permission denied"):
        ensure_directory(tmp_path / "locked")


def test_job_x_output_1_and_job_x_1_output_0_get_different_files(h: Harness, tmp_path: Path) -> None:
    h.fake.add_video("x", b"\x00" * 1000 + b"first", index=1)
    h.fake.add_video("x-1", b"\x00" * 1000 + b"second", index=0)
    a = h.download("x", tmp_path, index=1, source="api")
    b = h.download("x-1", tmp_path, index=0, source="api")
    assert a.path != b.path
    assert a.path.read_bytes().endswith(b"first") and b.path.read_bytes().endswith(b"second")


@pytest.mark.parametrize("job_id", [".", ".."])
def test_dot_job_ids_are_refused_before_sending(h: Harness, tmp_path: Path, job_id: str) -> None:
    with pytest.raises(InvalidRequestError):
        h.download(job_id, tmp_path / "out.mp4", source="api")
    assert h.fake.requests == []


_WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + os.urandom(200_000)
_MP4 = mp4_bytes(200_000)
_QUICKTIME = _MP4[:8] + b"qt  " + _MP4[12:]  # the ftyp box's major brand


@pytest.mark.parametrize(
    ("body", "content_type", "suffix"),
    [(_WEBM, "video/webm", ".webm"), (_QUICKTIME, "video/quicktime", ".mov"), (_MP4, "video/mp4", ".mp4")],
    ids=["webm", "quicktime", "mp4"],
)
def test_a_file_named_by_the_package_takes_the_suffix_of_its_content(
    fake: FakeOpenRouter, tmp_path: Path, body: bytes, content_type: str, suffix: str
) -> None:
    """A WebM or QuickTime body was saved under an .mp4 name. When the caller names the file, the
    name is the caller's."""
    fake.add_video("clip", body, content_type=content_type)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        into_directory = client.download("clip", f"{tmp_path / 'videos'}/", max_connections=1, source="api")
        named = client.download("clip", tmp_path / "mine.mp4", max_connections=1, source="api")
    assert into_directory.path == tmp_path / "videos" / f"clip{suffix}"
    assert into_directory.path.read_bytes() == body
    assert named.path == tmp_path / "mine.mp4" and named.path.read_bytes() == body


# -- redirects ---------------------------------------------------------------------------------------


def test_redirects_are_followed_up_to_a_small_limit(h: Harness, payload: bytes, tmp_path: Path) -> None:
    h.fake.add_video("job-1", payload)
    loop = h.fake.base_url + "/videos/job-1/content?index=0"
    h.fake.enqueue(*(Redirect(loop) for _ in range(10)))
    with pytest.raises(APIConnectionError, match="TooManyRedirects"):
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert len(h.fake.requests) == 6  # the request and 5 redirects, not retried
    assert h.sleeps == [] and no_temp_files(tmp_path)


# -- writing the file --------------------------------------------------------------------------------


def test_700_byte_chunks_are_gathered_into_whole_buffers(h: Harness, tmp_path: Path) -> None:
    payload = os.urandom(3 * MIB)  # ~1500 chunks of 700 bytes per 1 MiB writer buffer, straddling them
    h.fake.add_video("job-1", payload)
    h.fake.framing = "chunked"
    h.fake.chunk_size = 700
    h.download("job-1", tmp_path / "out.mp4", source="api")  # no checksum: the writer thread alone
    assert (tmp_path / "out.mp4").read_bytes() == payload
    result = h.download("job-1", tmp_path / "hashed.mp4", checksum="sha256", source="api")
    assert result.sha256 == hashlib.sha256(payload).hexdigest()


def test_without_os_writev_downloads_still_work(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "writev")  # as on Windows
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=100_000))
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert (tmp_path / "out.mp4").read_bytes() == payload


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
                client.download("job-1", dest, overwrite=True, source="api")
        else:
            async def run():
                async with AsyncVideoClient(**config) as client:
                    await client.download("job-1", dest, overwrite=True, source="api")
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


def test_the_commit_fsyncs_the_file_before_the_rename_and_the_directory_after(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        events.append("link")
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4", source="api")
    assert events == ["fsync-file", "link", "fsync-dir"]
    events.clear()
    h.download("job-1", tmp_path / "out2.mp4", durable=False, source="api")
    assert events == ["link"]
