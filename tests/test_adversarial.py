"""A second reviewer's attacks on issue 10's promises: never a truncated, spliced or half-written file
where the caller expects a video, never lose progress already paid for, never leak the API key.

Every test runs against a real loopback server (the package's FakeOpenRouter), real files and, for the
CLI, real processes and real signals. The first group demonstrated bugs (each failed before its fix, as
a strict xfail, and is now a regression test); the others are guards for attacks the code survived.

A few tests order a race or widen a window with a hook (a sweep that waits, a lock check that lets
another download in at the worst moment), or stand in for a permission root does not see; each says so.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from harness import MODES, Harness, content_requests
from openrouter_video import (
    AsyncVideoClient,
    DownloadLockedError,
    IncompleteDownloadError,
    NotFoundError,
    UnexpectedContentError,
    VideoClient,
)
from openrouter_video.engine.core import OVERLAP
from openrouter_video.io import files as _files
from openrouter_video.io import journal as _journal
from openrouter_video.io.files import PartialFile
from openrouter_video.io.journal import lock_partial
from openrouter_video.testing import (
    Cut,
    EndEarly,
    FakeOpenRouter,
    RecordedRequest,
    Stall,
    Status,
    digest_headers,
    mp4_bytes,
)

pytestmark = pytest.mark.timeout(30)

MIB = 1024 * 1024
CLI = str(Path(sys.executable).parent / "openrouter-video")
WEEK_AGO = time.time() - 8 * 24 * 3600


@pytest.fixture(params=MODES)
def h(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Harness:
    return Harness(request.param, fake)


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def ranges(fake: FakeOpenRouter) -> list[str | None]:
    return [r.headers.get("range") for r in content_requests(fake)]


def noise(size: int, seed: int = 7) -> bytes:
    """Pseudo-random bytes that no sniffer takes for markup or an MP4."""
    return random.Random(seed).randbytes(size)


def source(fake: FakeOpenRouter, job_id: str = "job-1", index: int = 0) -> str:
    """What the state file records as the source of a download (the client's ``_source``)."""
    return f"{fake.base_url}/videos/{job_id}/content?index={index}"


def state(fake: FakeOpenRouter, **fields: Any) -> str:
    record = {"version": 1, "source": source(fake), "etag": None, "last_modified": None}
    record.update(fields)
    return json.dumps(record)


def boxes(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, type) of the top-level boxes of a well-formed MP4 with 32-bit sizes."""
    found, offset = [], 0
    while offset < len(data):
        found.append((offset, data[offset + 4 : offset + 8]))
        offset += struct.unpack(">I", data[offset : offset + 4])[0]
    return found


def mp4_with_mdat_to_end_of_file(payload_size: int) -> bytes:
    """A complete MP4 whose last box, ``mdat``, has size 0: "runs to the end of the file"."""
    data = mp4_bytes(payload_size)
    offset = dict((kind, at) for at, kind in boxes(data))[b"mdat"]
    return data[:offset] + struct.pack(">I", 0) + data[offset + 4 :]


def fragmented_mp4(fragments: int, fragment_payload: int) -> tuple[bytes, list[int]]:
    """ftyp, moov, then ``fragments`` moof+mdat pairs; also the offsets where each fragment ends."""
    base = mp4_bytes(16, fragmented=True)
    parts = {kind: base[at : at + struct.unpack(">I", base[at : at + 4])[0]] for at, kind in boxes(base)}
    data = parts[b"ftyp"] + parts[b"moov"]
    ends = []
    for i in range(fragments):
        payload = noise(fragment_payload, seed=i)
        data += parts[b"moof"] + struct.pack(">I", 8 + len(payload)) + b"mdat" + payload
        ends.append(len(data))
    return data, ends


def _texts(exc: BaseException | None) -> list[str]:
    texts: list[str] = []
    for _ in range(10):
        if exc is None:
            break
        texts += [str(exc), repr(exc), *map(str, exc.args)]
        exc = exc.__cause__ or exc.__context__
    return texts


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("openrouter-video-writer")]


def release_leaked_partials() -> None:
    """Abort the PartialFiles nobody can reach (so that a demonstrated leak does not outlive its test)."""
    for obj in gc.get_objects():
        if isinstance(obj, PartialFile) and getattr(obj, "_fd", None) is not None:
            obj.abort(keep=False)


def cli_env(key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    env["OPENROUTER_API_KEY"] = key
    return env


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# ==================================================================================================
# Bugs this review found, fixed since (each test failed before its fix)
# ==================================================================================================


# -- completeness ----------------------------------------------------------------------------------
@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_a_cut_mp4_whose_mdat_runs_to_end_of_file_is_never_committed(
    h: Harness, tmp_path: Path, framing: str
) -> None:
    data = mp4_with_mdat_to_end_of_file(300_000)
    h.fake.add_video("job-1", data)
    h.fake.framing = framing
    # close: the connection closes at 200 000; chunked: a proxy ends the stream cleanly there
    h.fake.enqueue(Cut(at=200_000) if framing == "close" else EndEarly(at=200_000))
    try:
        result = h.download("job-1", tmp_path / "out.mp4")
    except IncompleteDownloadError:
        assert not (tmp_path / "out.mp4").exists()
        return
    assert (tmp_path / "out.mp4").read_bytes() == data, f"committed {result.size} of {len(data)} bytes"


def test_a_chunked_fragmented_mp4_ended_at_a_fragment_boundary_is_never_committed(
    h: Harness, tmp_path: Path
) -> None:
    data, ends = fragmented_mp4(fragments=4, fragment_payload=100_000)
    h.fake.add_video("job-1", data)
    h.fake.framing = "chunked"
    h.fake.enqueue(EndEarly(at=ends[1]))  # the upstream failed after two of four fragments
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == data, f"committed {result.size} of {len(data)} bytes"


# -- async cancellation ----------------------------------------------------------------------------
def test_async_cancel_while_the_partial_is_set_up_releases_its_lock(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sweep of the destination's directory runs in the worker thread that sets the partial up;
    # a big directory (or a slow network filesystem) makes it take a while. Here it waits for the test.
    fake.add_video("job-1", payload)
    dest = tmp_path / "out.mp4"
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    real_sweep = _files.sweep_partials

    def slow_sweep(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(5)
        try:
            return real_sweep(*args, **kwargs)
        finally:
            left.set()

    monkeypatch.setattr(_files, "sweep_partials", slow_sweep)

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            task = asyncio.create_task(client.download("job-1", dest))  # e.g. under asyncio.wait_for
            await asyncio.to_thread(entered.wait, 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            monkeypatch.setattr(_files, "sweep_partials", real_sweep)
            release.set()
            await asyncio.to_thread(left.wait, 5)
            await asyncio.sleep(0.1)  # the abandoned worker thread finishes setting the partial up
            return await client.download("job-1", dest)  # the caller retries

    try:
        asyncio.run(run())
        assert dest.read_bytes() == payload
        assert writer_threads() == []
    finally:
        release.set()
        release_leaked_partials()


# -- the partial file ------------------------------------------------------------------------------
def test_a_symlinked_part_never_writes_through_to_its_target(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    victim = tmp_path / "thesis.tex"
    victim.write_bytes(b"years of work\n" * 1000)
    out = tmp_path / "videos"  # e.g. a shared, group-writable directory
    out.mkdir()
    (out / ".out.mp4.part").symlink_to(victim)
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(404))  # the download fails (or would succeed: the victim is clobbered either way)
    with pytest.raises(Exception):  # noqa: B017 - a fix may refuse the symlink instead of sending
        h.download("job-1", out / "out.mp4")
    assert victim.read_bytes() == b"years of work\n" * 1000


def test_overwrite_never_truncates_the_destination_through_a_hard_linked_part(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    h.fake.add_video("job-1", payload)
    h.download("job-1", dest)
    # A crash (or SIGTERM) between commit's os.link and os.unlink leaves the .part as a second name of
    # the destination. (An overwrite=True commit through such a .part does not remove it either:
    # os.replace on two names of one file is a no-op, so the next call meets it again.)
    os.link(dest, tmp_path / ".out.mp4.part")
    h.fake.enqueue(Status(404))  # the job expired meanwhile
    with pytest.raises(NotFoundError):
        h.download("job-1", dest, overwrite=True)
    assert dest.read_bytes() == payload, f"the old video is now {dest.stat().st_size} bytes"


PORTAL = b"<!DOCTYPE html><html><head><title>Sign in to the Wi-Fi</title></head><body>...</body></html>"


@pytest.mark.parametrize("body", [PORTAL, b""], ids=["captive-portal-page", "empty-200"])
def test_a_200_that_is_not_the_video_never_wipes_the_kept_partial(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    payload = noise(MIB)
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=900_000), Status(404))
    with pytest.raises(NotFoundError):
        h.download("job-1", dest)
    assert part.read_bytes() == payload[:900_000]  # 90% paid for and kept
    # the resume meets a captive portal, a proxy's block page or an empty 200, all "video/mp4"
    h.fake.enqueue(Status(200, body=body, content_type="video/mp4"))
    with pytest.raises(UnexpectedContentError):
        h.download("job-1", dest)
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]
    assert part.read_bytes() == payload[:900_000]
    result = h.download("job-1", dest)
    assert dest.read_bytes() == payload and result.resumed_from == 900_000


# -- digests ---------------------------------------------------------------------------------------
def test_a_right_repr_digest_sent_only_on_206_does_not_discard_the_download(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    video = h.fake.add_video("job-1", payload)
    right = {"Repr-Digest": digest_headers(payload)["Repr-Digest"]}

    def digest_on_ranges_only(request: RecordedRequest) -> None:
        video.headers = right if "range" in request.headers else {}

    h.fake.on_request = digest_on_ranges_only
    h.fake.enqueue(Cut(at=200_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert ranges(h.fake) == [None, f"bytes={200_000 - OVERLAP}-"], "the 200 000 bytes were downloaded again"
    assert result.verified in ("digest", "content-range")


# -- the state file --------------------------------------------------------------------------------
def test_a_state_file_with_an_unknown_digest_algorithm_starts_again(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    (tmp_path / ".out.mp4.part").write_bytes(payload[:100_000])
    (tmp_path / ".out.mp4.part.state").write_text(
        state(h.fake, total=len(payload), digests={"crc32c": "00000000"})  # e.g. a newer release's
    )
    h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload


def test_a_fifo_named_like_the_state_file_never_hangs_a_download(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    # Anybody who can write to a shared download directory can plant it (read_state opens without
    # O_NONBLOCK and never checks that it opened a regular file).
    fifo = tmp_path / ".out.mp4.part.state"
    os.mkfifo(fifo)
    fake.add_video("job-1", mp4_bytes(100))
    outcome: list[Any] = []

    def download() -> None:
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            try:
                outcome.append(client.download("job-1", tmp_path / "out.mp4", deadline=0.5))
            except Exception as exc:
                outcome.append(exc)

    thread = threading.Thread(target=download, daemon=True)
    thread.start()
    thread.join(1.0)
    hung = thread.is_alive()
    if hung:  # let the blocked open() return, so that nothing outlives the test
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
    assert not hung, "still blocked opening the state file after its 0.5 s deadline"


# -- lock and sweep --------------------------------------------------------------------------------
def test_without_flock_a_download_killed_by_sigkill_can_be_resumed(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = noise(2 * MIB)
    fake.add_video("job-1", payload)
    fake.enqueue(Stall(at=3 * MIB // 2, seconds=30))
    dest = tmp_path / "out.mp4"
    code = textwrap.dedent(
        f"""
        import openrouter_video.io.journal as journal
        journal.fcntl = None  # as on Windows
        from openrouter_video import VideoClient
        with VideoClient(api_key={fake.api_key!r}, base_url={fake.base_url!r}) as client:
            client.download("job-1", {str(dest)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        part = tmp_path / ".out.mp4.part"
        wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    finally:
        proc.kill()
        proc.wait()
    monkeypatch.setattr(_journal, "fcntl", None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        result = client.download("job-1", dest)
    assert dest.read_bytes() == payload and result.resumed_from >= MIB


def test_the_sweep_never_deletes_a_partial_locked_between_its_check_and_its_unlink(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A partial kept 8 days ago; download B resumes it while download A, starting in the same
    # directory, sweeps. The hook lets B lock the partial right after A found it free (the race).
    payload = noise(MIB)
    fake.add_video("job-1", payload)
    fake.add_video("job-2", mp4_bytes(100))
    dest = tmp_path / "out.mp4"
    part, state_file = tmp_path / ".out.mp4.part", tmp_path / ".out.mp4.part.state"
    part.write_bytes(payload[:300_000])
    state_file.write_text(state(fake, etag=fake.video("job-1").etag, total=len(payload)))
    for path in (part, state_file):
        os.utime(path, (WEEK_AGO, WEEK_AGO))
    fake.enqueue(Stall(at=600_000, seconds=0.4))  # B is mid-body when A's sweep unlinks
    client = VideoClient(api_key=fake.api_key, base_url=fake.base_url)
    outcome: dict[str, Any] = {}

    def download_b() -> None:
        try:
            outcome["result"] = client.download("job-1", dest, partial_ttl=None)
        except Exception as exc:
            outcome["error"] = exc

    b = threading.Thread(target=download_b)
    real_remove = _journal._remove_if_unlocked

    def remove_if_unlocked(path: Path, companions: list[Path]) -> bool:
        # A found the old partial; B locks it before A acts on it (the race).
        if path == part and "started" not in outcome:
            outcome["started"] = True
            b.start()
            wait_for(lambda: len(content_requests(fake)) == 1)
            time.sleep(0.05)
        return real_remove(path, companions)

    monkeypatch.setattr(_journal, "_remove_if_unlocked", remove_if_unlocked)
    with client:
        client.download("job-2", tmp_path / "other.mp4")  # A
        if "started" not in outcome:  # (a fix that no longer calls _is_locked)
            b.start()
        b.join(10)
    assert "error" not in outcome, repr(outcome.get("error"))
    assert dest.read_bytes() == payload


def test_the_sweep_never_deletes_files_that_cannot_be_partials(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    # dest.with_name(f".{name}.part"): a destination has a non-empty name that is not "." nor "..",
    # so these can only be somebody else's files.
    theirs = [".part", "..part", ".part.state", "..part.state"]
    for name in theirs:
        (tmp_path / name).write_bytes(b"not yours")
        os.utime(tmp_path / name, (WEEK_AGO, WEEK_AGO))
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4")
    assert files(tmp_path) == sorted([*theirs, "out.mp4"])


def test_a_directory_that_cannot_be_listed_still_takes_downloads(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A drop-box directory (mode 0733: write and search, no read). Tests run as root, who can list
    # anything, so listing it raises EACCES here the way it does for everybody else.
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if isinstance(path, str | os.PathLike) and Path(path) == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    h.fake.add_video("job-1", payload)
    h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload


# -- the CLI's generate ----------------------------------------------------------------------------
def _generate(fake: FakeOpenRouter, cwd: Path) -> subprocess.Popen[str]:
    command = [CLI, "generate", "--model", "google/veo-3.1", "--prompt", "fox", "--poll-interval", "0.05"]
    return subprocess.Popen(
        [*command, "--base-url", fake.base_url],
        cwd=cwd,
        env=cli_env(fake.api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_while_generate_waits_exits_143_and_leaves_nothing(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.script_job(job_id="job-paid-a", statuses=["pending"])
    proc = _generate(fake, tmp_path)
    wait_for(lambda: "job-paid-a" in fake.jobs and fake.job("job-paid-a").polls >= 2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143 and stderr.startswith("error: terminated by SIGTERM")
    assert files(tmp_path) == [] and list(fake.jobs) == ["job-paid-a"]


def test_sigterm_while_generate_waits_names_the_paid_job(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(job_id="job-paid-a", statuses=["pending"])
    proc = _generate(fake, tmp_path)  # not a terminal: no spinner shows the id
    wait_for(lambda: "job-paid-a" in fake.jobs and fake.job("job-paid-a").polls >= 2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143
    assert "job-paid-a" in stdout + stderr, "the job was paid for; without its id it cannot be downloaded"


def test_following_the_note_after_an_interrupted_generate_does_not_pay_twice(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(2 * MIB)
    fake.script_job(job_id="job-paid-b", outputs=[payload], statuses=["completed"])
    fake.enqueue(Stall(at=3 * MIB // 2, seconds=30))
    proc = _generate(fake, tmp_path)
    part = tmp_path / ".job-paid-b.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143
    note = [line for line in stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1
    if "same command" in note[0]:
        again = _generate(fake, tmp_path)
        again.communicate(timeout=20)
        assert list(fake.jobs) == ["job-paid-b"], "the same command submitted (and paid for) another job"
        assert (tmp_path / "job-paid-b.mp4").read_bytes() == payload
    else:
        assert "job-paid-b" in note[0] and "download" in note[0]


# ==================================================================================================
# Guards: attacks the code survives
# ==================================================================================================


# -- async cancellation mid-body -------------------------------------------------------------------
@pytest.mark.parametrize("how", ["task.cancel", "wait_for"])
def test_async_cancel_mid_body_keeps_a_consistent_partial_and_releases_everything(
    fake: FakeOpenRouter, tmp_path: Path, how: str
) -> None:
    payload = noise(512 * 1024)
    fake.add_video("job-1", payload)
    fake.enqueue(Stall(at=300_000, seconds=5))
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"

    async def run() -> Any:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            download = client.download("job-1", dest)
            if how == "task.cancel":
                task = asyncio.create_task(download)
                while not content_requests(fake):
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.3)  # the 300 000 bytes before the stall are in
                task.cancel()
                with pytest.raises(asyncio.CancelledError) as caught:
                    await task
                assert caught.value.partial_path == part  # type: ignore[attr-defined]
            else:
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(download, 0.4)
            kept = part.stat().st_size
            assert kept == 300_000 and part.read_bytes() == payload[:kept]  # all received, a prefix
            assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]
            assert writer_threads() == []
            result = await client.download("job-1", dest)  # the lock was released: it resumes
            assert result.resumed_from == kept
            assert ranges(fake)[-1] == f"bytes={kept - OVERLAP}-"

    asyncio.run(run())
    assert dest.read_bytes() == payload and files(tmp_path) == ["out.mp4"]


def test_async_cancel_during_the_commit_lets_it_finish_and_reports_success(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The commit runs in a worker thread (to_thread) that a cancel cannot stop. It used to raise
    # CancelledError while the thread went on (and the clean-up closed the fd under the commit):
    # the destination was then committed under a CancelledError, or a retry found it locked. Once
    # the commit has begun, a cancel now lets it finish and the call reports its result.
    fake.add_video("job-1", payload)
    dest = tmp_path / "out.mp4"
    real_fsync = os.fsync
    entered, go = threading.Event(), threading.Event()

    def held_fsync(fd: int) -> None:
        if not entered.is_set():
            entered.set()
            go.wait(5)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", held_fsync)

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            task = asyncio.create_task(client.download("job-1", dest))
            await asyncio.to_thread(entered.wait, 5)
            task.cancel()
            await asyncio.sleep(0.05)  # the cancel has been delivered: the task waits for the commit
            assert not task.done()
            go.set()
            result = await task
            assert result.size == len(payload) and result.path == dest
            assert files(tmp_path) == ["out.mp4"] and dest.read_bytes() == payload
            assert writer_threads() == []

    asyncio.run(run())


# -- state files that are not ours, broken, or lying -----------------------------------------------
@pytest.mark.parametrize(
    "kind", ["truncated", "not-an-object", "other-version", "other-source", "binary", "symlink", "too-long"]
)
def test_a_broken_or_foreign_state_file_starts_again_and_touches_nothing_else(
    h: Harness, payload: bytes, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "videos"
    out.mkdir()
    victim = tmp_path / "elsewhere.json"
    victim.write_text(state(h.fake, total=len(payload)))
    part, state_file = out / ".out.mp4.part", out / ".out.mp4.part.state"
    part.write_bytes(payload[:100_000] if kind != "too-long" else payload + b"trailing bytes")
    content = {
        "truncated": state(h.fake, total=len(payload))[:25],
        "not-an-object": "[1, 2, 3]",
        "other-version": json.dumps({**json.loads(state(h.fake, total=len(payload))), "version": 2}),
        "other-source": state(h.fake, total=len(payload), source=source(h.fake, "job-2")),
        "binary": "\x00\xff\xfe" * 10,
        "too-long": state(h.fake, total=len(payload)),  # the part is longer than the total
    }
    if kind == "symlink":
        state_file.symlink_to(victim)  # a state file elsewhere, valid, but not in this directory
        part.write_bytes(b"Z" * 100_000)
    else:
        state_file.write_text(content[kind])
    h.fake.add_video("job-1", payload)
    h.download("job-1", out / "out.mp4")
    assert (out / "out.mp4").read_bytes() == payload
    assert files(out) == ["out.mp4"]
    assert victim.read_text() == state(h.fake, total=len(payload))
    if kind != "symlink":  # (the symlinked state is followed and resumed; its overlap check restarts)
        assert ranges(h.fake)[0] is None


# -- the O_EXCL lock fallback, no writev ------------------------------------------------------------
def test_without_flock_and_writev_the_lock_file_works_and_is_released(
    h: Harness, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_journal, "fcntl", None)
    monkeypatch.delattr(os, "writev")
    dest, part = tmp_path / "out.mp4", tmp_path / ".out.mp4.part"
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=150_000), Status(404))
    with pytest.raises(NotFoundError):
        h.download("job-1", dest)
    assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.state"]  # no .lock left behind
    held = lock_partial(part, dest)  # another process is downloading it
    try:
        assert files(tmp_path) == [".out.mp4.part", ".out.mp4.part.lock", ".out.mp4.part.state"]
        with pytest.raises(DownloadLockedError, match=r"out\.mp4"):
            h.download("job-1", dest)
        assert _journal.cleanup_partials(tmp_path, older_than=0) == []  # a locked partial is not swept
    finally:
        held.release()
    assert part.read_bytes() == payload[:150_000]
    result = h.download("job-1", dest)
    assert dest.read_bytes() == payload and result.resumed_from == 150_000
    assert files(tmp_path) == ["out.mp4"]


# -- the API key -----------------------------------------------------------------------------------
def test_the_key_never_reaches_the_partial_its_state_an_exception_or_a_log(
    h: Harness, payload: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = h.fake.api_key
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Cut(at=150_000), Status(500), Status(500), Status(404))
    with caplog.at_level(logging.DEBUG), pytest.raises(NotFoundError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3))
    assert caught.value.partial_path == tmp_path / ".out.mp4.part"  # type: ignore[attr-defined]
    assert len(caplog.records) >= 2
    assert not [t for t in _texts(caught.value) + [r.getMessage() for r in caplog.records] if key in t]
    assert not [p.name for p in tmp_path.iterdir() if key.encode() in p.read_bytes()]
    assert json.loads((tmp_path / ".out.mp4.part.state").read_text())["source"] == source(h.fake)


@pytest.mark.parametrize("ending", ["\n", "\r", " "])
def test_a_key_with_trailing_whitespace_never_reaches_an_exception_or_a_log(
    h: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    secret = "LEAKCANARY" + os.urandom(6).hex()
    # e.g. read with Path.read_text() from a mounted secret. At 1c79d64 h11 refused the header and its
    # LocalProtocolError ("Illegal header value b'Bearer sk-...\\n'") carried the key into the exception,
    # every retry's log record and the CLI's stderr.
    key = f"sk-or-v1-{secret}{ending}"
    h.fake.add_video("job-1", noise(1000))
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        try:
            h.download("job-1", tmp_path / "out.mp4", api_key=key, retry=h.policy(max_attempts=2))
        except Exception as exc:
            texts += _texts(exc)
    texts += [record.getMessage() for record in caplog.records]
    assert not [text for text in texts if secret in text]


def test_the_cli_never_prints_a_key_with_a_trailing_newline(fake: FakeOpenRouter, tmp_path: Path) -> None:
    secret = "LEAKCANARY" + os.urandom(6).hex()
    fake.add_video("job-1", noise(1000))
    result = subprocess.run(
        [CLI, "download", "job-1", "--max-attempts", "2", "--base-url", fake.base_url],
        cwd=tmp_path,
        env=cli_env(f"sk-or-v1-{secret}\n"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert secret not in result.stdout + result.stderr


# -- verification ----------------------------------------------------------------------------------
def _box(kind: bytes, body: bytes, *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(body)) + body
    return struct.pack(">I", 8 + len(body)) + kind + body


def _ftyp_moov() -> bytes:
    data = mp4_bytes(16)
    return data[: dict((kind, at) for at, kind in boxes(data))[b"mdat"]]


@pytest.mark.parametrize(
    "body",
    [
        struct.pack(">I", 8) + b"ftyp",  # an 8-byte file
        _ftyp_moov() + struct.pack(">I", 0xFFFFFFF0) + b"mdat" + noise(1000),  # absurd 32-bit size
        _ftyp_moov() + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 2**63) + noise(1000),
        _ftyp_moov() + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 8) + noise(1000),  # 64-bit < 16
    ],
    ids=["8-bytes", "huge-32", "huge-64", "64-bit-too-small"],
)
def test_an_mp4_whose_boxes_do_not_add_up_is_never_committed_even_with_the_right_length(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    h.fake.add_video("job-1", body)
    with pytest.raises(IncompleteDownloadError):
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2))
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "body",
    [
        _box(b"free", b"\0" * 32) + _ftyp_moov() + _box(b"mdat", noise(200_000)),  # free first
        _ftyp_moov() + _box(b"mdat", noise(200_000), large=True),  # 64-bit mdat
        _box(b"wide", b"") + _ftyp_moov() + _box(b"mdat", noise(200_000)),  # QuickTime's wide atom
    ],
    ids=["free-first", "64-bit-mdat", "wide-first"],
)
def test_odd_but_complete_close_delimited_mp4s_are_proven_by_their_boxes(
    h: Harness, tmp_path: Path, body: bytes
) -> None:
    h.fake.add_video("job-1", body, content_type="application/octet-stream")
    h.fake.framing = "close"
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == body
    # a close-delimited body is always probed when the server takes ranges (a cut between two
    # whole-looking top-level boxes also walks as complete) ...
    assert result.verified == "range-probe" and len(content_requests(h.fake)) == 2
    # ... and when it does not, the boxes are the proof
    h.fake.ignore_range = True
    result = h.download("job-1", tmp_path / "again.mp4")
    assert (tmp_path / "again.mp4").read_bytes() == body
    assert result.verified == "mp4" and len(content_requests(h.fake)) == 4


@pytest.mark.parametrize("start", [b"<", b"{", b"[", b"<html>", b"\xef\xbb\xbf<?xml"])
def test_binary_that_starts_like_markup_or_json_is_still_a_video(
    h: Harness, tmp_path: Path, start: bytes
) -> None:
    body = start + noise(100_000)
    h.fake.add_video("job-1", body)
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == body and result.verified == "content-length"


# -- digest headers --------------------------------------------------------------------------------
def test_malformed_or_unsupported_digest_headers_are_ignored(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video(
        "job-1",
        payload,
        headers={
            "Content-MD5": "not base64!",
            "Repr-Digest": "sha-384=:AAAA:, sha-256=:@@@:, sha-512=:QUJD:",  # unsupported, bad, short
            "Content-Digest": "unixsum=:AAAA:",
            "x-goog-hash": "crc32c=AAAAAA==, md5=short",
            "x-amz-checksum-sha256": "dGVu",
        },
    )
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "content-length"


def test_a_content_digest_on_a_206_describes_that_body_not_the_file(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    video = h.fake.add_video("job-1", payload)
    of_the_range = {k: v for k, v in digest_headers(payload[100_000:]).items() if k != "Repr-Digest"}

    def per_response(request: RecordedRequest) -> None:
        video.headers = of_the_range if "range" in request.headers else {}

    h.fake.on_request = per_response
    h.fake.enqueue(Cut(at=200_000))
    result = h.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload and result.verified == "content-range"
    assert ranges(h.fake) == [None, f"bytes={200_000 - OVERLAP}-"]


# -- CLI: signals and two processes ----------------------------------------------------------------
def _download_cli(fake: FakeOpenRouter, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "download", "job-abc", "--base-url", fake.base_url],
        cwd=cwd,
        env=cli_env(fake.api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_twice_then_sigint_and_sighup_exit_143_once_and_keep_the_partial(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(3 * MIB)
    fake.add_video("job-abc", payload)
    fake.enqueue(Stall(at=2 * MIB, seconds=30))
    proc = _download_cli(fake, tmp_path)
    part = tmp_path / ".job-abc.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # (sent together, the kernel would deliver the lower-numbered SIGINT first)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGHUP)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143, stderr
    assert stderr.splitlines() == [
        "error: terminated by SIGTERM",
        "note: kept the partial download .job-abc.mp4.part; run the same command again to resume",
    ]
    assert part.read_bytes() == payload[: 2 * MIB]
    assert files(tmp_path) == [".job-abc.mp4.part", ".job-abc.mp4.part.state"]


def test_a_second_process_on_the_same_destination_is_refused_and_corrupts_nothing(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(3 * MIB)
    fake.add_video("job-abc", payload)
    fake.enqueue(Stall(at=2 * MIB, seconds=30))
    first = _download_cli(fake, tmp_path)
    part = tmp_path / ".job-abc.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    second = _download_cli(fake, tmp_path)
    _, stderr = second.communicate(timeout=10)
    assert second.returncode == 1
    assert stderr.startswith("error: another download is writing to") and "job-abc.mp4" in stderr
    assert len(content_requests(fake)) == 1  # refused before sending anything
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=10)
    assert first.returncode == 143 and part.read_bytes() == payload[: 2 * MIB]
    assert files(tmp_path) == [".job-abc.mp4.part", ".job-abc.mp4.part.state"]
