"""The package inside a long-lived process: an ASGI app served by uvicorn (with what `uvicorn[standard]`
installs, uvloop among it) downloading through :class:`AsyncVideoClient`; random and racing cancels
(mid-body, during the commit, under a pool) after which threads, pool slots, locks, sockets and leftover
files return to where they were; and memory returned without the cyclic collector. ``make soak`` runs the
soak (tests/test_soak.py) with a few of these at size."""

from __future__ import annotations

import asyncio
import gc
import json
import mmap
import os
import random
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpcore
import httpx
import pytest
from harness import content_requests, files, noise, ranges
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.engine.core import OVERLAP
from openrouter_video.errors import OpenRouterVideoError
from openrouter_video.fastio._async.http11 import AsyncPool
from openrouter_video.io import files as _files
from openrouter_video.io import threads as _threads
from openrouter_video.io.files import PartialFile
from openrouter_video.testing import Cut, FakeOpenRouter, Stall

MIB = 1024 * 1024


APP = textwrap.dedent(
    """
    import asyncio, hashlib, json, os
    from openrouter_video import AsyncVideoClient

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        dest = os.path.join(os.environ["DEST"], scope["path"].strip("/") + ".mp4")
        async with AsyncVideoClient(
            api_key=os.environ["KEY"], base_url=os.environ["BASE"], timeout=5
        ) as client:
            result = await client.download("job-1", dest)
            models = await client.list_models()
        with open(dest, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
        body = json.dumps(
            {
                "loop": type(asyncio.get_running_loop()).__module__,
                "sha256": digest,
                "size": result.size,
                "models": len(models),
            }
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    """
)


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_a_uvicorn_endpoint_downloads_through_the_async_client(
    fake: FakeOpenRouter, tmp_path: Path, loop: str
) -> None:
    """``--loop auto`` is uvicorn's default: with uvloop installed, as ``uvicorn[standard]`` does, the
    app runs on uvloop. (The async client used to hang there until its read timeout.)"""
    pytest.importorskip("uvloop")
    payload = os.urandom(3 * 1024 * 1024)
    fake.add_video("job-1", payload)
    (tmp_path / "app.py").write_text(APP)
    sock = tmp_path / "uvicorn.sock"
    env = {**os.environ, "KEY": fake.api_key, "BASE": fake.base_url, "DEST": str(tmp_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app:app",
            "--uds",
            str(sock),
            "--loop",
            loop,
            "--log-level",
            "warning",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=30) as client:
            answers = [client.get(f"http://app/video-{n}").json() for n in range(3)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    digest = __import__("hashlib").sha256(payload).hexdigest()
    for answer in answers:
        assert answer["sha256"] == digest and answer["size"] == len(payload) and answer["models"] >= 1
        assert answer["loop"].split(".")[0] == ("uvloop" if loop == "auto" else "asyncio"), answer
    assert json.dumps(answers)  # three requests, each a whole download and an API call


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_cancels_during_verify_and_commit_leave_no_thread_lock_or_orphan(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancels land everywhere, verification and the commit included (both slowed down here): a
    cancelled call committed nothing; a call that committed returns its result; the next call on the
    same destination never finds it locked or half moved; the event loop's two default threads
    never get stuck; no file but the destination is left."""
    payload = os.urandom(MIB)
    fake.add_video("job-1", payload)
    original_check, original_commit = PartialFile.check, PartialFile.commit

    def check(self: PartialFile) -> Any:
        time.sleep(0.004)
        return original_check(self)

    def commit(self: PartialFile, expected: int | None) -> None:
        time.sleep(0.004)
        original_commit(self, expected)

    monkeypatch.setattr(PartialFile, "check", check)
    monkeypatch.setattr(PartialFile, "commit", commit)
    rng = random.Random(3)
    dest = tmp_path / "out.mp4"
    baseline = threading.active_count()
    outcomes = {"cancelled": 0, "completed": 0}

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(2))
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            for _ in range(120):
                task = asyncio.ensure_future(client.download("job-1", dest, max_connections=1, source="api"))
                await asyncio.sleep(rng.uniform(0, 0.03))
                task.cancel()
                try:
                    result = await task
                except asyncio.CancelledError:
                    outcomes["cancelled"] += 1
                    assert not dest.exists()  # a cancelled call committed nothing
                else:
                    outcomes["completed"] += 1
                    assert result.size == len(payload) and dest.read_bytes() == payload
                    dest.unlink()
                # at once, on the same destination: never locked, never half moved
                again = await asyncio.wait_for(
                    client.download("job-1", dest, max_connections=1, source="api"), 10
                )
                assert again.size == len(payload) and dest.read_bytes() == payload
                dest.unlink()
                assert _leftovers(tmp_path) == []
            # the default executor's threads are free
            assert await asyncio.wait_for(asyncio.to_thread(lambda: 42), 5) == 42

    asyncio.run(run())
    assert outcomes["cancelled"] >= 10 and outcomes["completed"] >= 1, outcomes
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= baseline + 1  # the fake's own threads come and go


def test_a_thousand_cancels_under_a_pool_of_four_leak_no_slot(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """encode/httpcore#1093's kind of bug: every cancel must give its connection back (or close it).
    With max_connections=4, a leak of four slots would make every later request wait for a slot
    and fail with PoolTimeout."""
    fake.add_video("job-1", os.urandom(256 * 1024))
    fake.rate = 8 * MIB  # bodies take ~30 ms: most cancels land mid-body
    rng = random.Random(5)
    cancels = int(os.environ.get("OPENROUTER_VIDEO_CANCELS", "1000"))

    async def run() -> None:
        client = AsyncVideoClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            timeout=httpx.Timeout(10, pool=2),
            httpx_args={"limits": httpx.Limits(max_connections=4)},
        )
        async with client:
            for n in range(cancels):
                dest = tmp_path / f"out-{n % 4}.mp4"
                task = asyncio.ensure_future(
                    client.download(
                        "job-1", dest, max_connections=1, overwrite=True, keep_partial=False, source="api"
                    )
                )
                await asyncio.sleep(rng.uniform(0, 0.004))
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
            # all four slots are free: four downloads at once, each within the pool timeout
            fake.rate = None
            results = await asyncio.gather(
                *(
                    client.download("job-1", tmp_path / f"last-{n}.mp4", max_connections=1, source="api")
                    for n in range(4)
                )
            )
            assert all(r.size == 256 * 1024 for r in results)
            pool = client.transport.async_routes.transports[None].pool  # type: ignore[attr-defined]
            assert len(pool.connections) <= 4
            assert all(c.is_idle() or c.is_closed() for c in pool.connections)

    asyncio.run(run())


def test_cancelled_segmented_downloads_leave_nothing_locked_or_orphaned(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    """The same for downloads by ranges: each cancel keeps the partial (or nothing), the next call on
    the same destination goes on from it, and nothing but the destination is left."""
    payload = os.urandom(3 * MIB)
    fake.add_video("job-1", payload)
    fake.rate = 4 * MIB  # per connection: four connections are worth it
    rng = random.Random(9)
    dest = tmp_path / "out.mp4"

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            for _ in range(int(os.environ.get("OPENROUTER_VIDEO_CANCELS", "1000")) // 80):
                task = asyncio.ensure_future(client.download("job-1", dest, max_connections=4, source="api"))
                await asyncio.sleep(rng.uniform(0.05, 0.5))
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    assert not dest.exists()
                if not dest.exists():
                    await asyncio.wait_for(
                        client.download("job-1", dest, max_connections=4, source="api"), 20
                    )
                assert dest.read_bytes() == payload
                dest.unlink()
                assert _leftovers(tmp_path) == []

    asyncio.run(run())
    assert fake.peak_connections >= 2


# -- cancels -----------------------------------------------------------------------------------------


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("openrouter-video-writer")]


def release_leaked_partials() -> None:
    """Abort the PartialFiles nobody can reach (so that a demonstrated leak does not outlive its test)."""
    for obj in gc.get_objects():
        if isinstance(obj, PartialFile) and getattr(obj, "_fd", None) is not None:
            obj.abort(keep=False)


@pytest.mark.timeout(30)
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
            task = asyncio.create_task(
                client.download("job-1", dest, source="api")
            )  # e.g. under asyncio.wait_for
            await asyncio.to_thread(entered.wait, 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            monkeypatch.setattr(_files, "sweep_partials", real_sweep)
            release.set()
            await asyncio.to_thread(left.wait, 5)
            await asyncio.sleep(0.1)  # the abandoned worker thread finishes setting the partial up
            return await client.download("job-1", dest, source="api")  # the caller retries

    try:
        asyncio.run(run())
        assert dest.read_bytes() == payload
        assert writer_threads() == []
    finally:
        release.set()
        release_leaked_partials()


@pytest.mark.timeout(30)
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
            download = client.download("job-1", dest, source="api")
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
            result = await client.download("job-1", dest, source="api")  # the lock was released: it resumes
            assert result.resumed_from == kept
            assert ranges(fake)[-1] == f"bytes={kept - OVERLAP}-"

    asyncio.run(run())
    assert dest.read_bytes() == payload and files(tmp_path) == ["out.mp4"]


@pytest.mark.timeout(30)
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
            task = asyncio.create_task(client.download("job-1", dest, source="api"))
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


def test_a_cancel_during_until_done_is_raised_even_when_the_thread_then_fails() -> None:
    def fails() -> None:
        time.sleep(0.2)
        raise OSError("disk error after the cancel")

    async def run() -> str:
        task = asyncio.ensure_future(_threads.until_done(fails))
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        except OSError:
            return "OSError"
        return "returned"

    assert asyncio.run(run()) == "cancelled"


def test_waiting_out_a_thread_under_an_anyio_scope_does_not_spin() -> None:
    """anyio delivers its cancel again at every turn of the loop: 143,613 shield calls and a whole
    core for one second of a thread's work."""

    async def run() -> float:
        started = time.process_time()
        with anyio.move_on_after(0.05):
            await _threads.until_done(time.sleep, 0.6)
        return time.process_time() - started

    assert asyncio.run(run()) < 0.3


def test_a_commit_that_absorbed_two_cancels_takes_both_back() -> None:
    async def run() -> tuple[int, object]:
        task = asyncio.ensure_future(_threads.commit(time.sleep, 0.2))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()
        result = await task  # the commit finished: its result stands
        return task.cancelling(), result

    assert asyncio.run(run()) == (0, None)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self) -> None:
        self.out = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.out.pop(0) if self.out else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _Stream()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_a_cancel_racing_the_slot_handover_orphans_no_connection() -> None:
    """With max_connections=1: request A ends (Connection: close), the pool makes a new connection
    for the waiting request B, and B is cancelled in the same tick. That new connection was neither
    idle, closed, expired nor available: the slot was lost and every later request timed out."""

    def request() -> httpcore.Request:
        return httpcore.Request(
            b"GET",
            "http://example.test/",
            headers=[(b"Host", b"example.test")],
            extensions={"timeout": {"pool": 1.0}},
        )

    async def run() -> bytes:
        pool = AsyncPool(_Backend(), ssl.create_default_context(), httpx.Limits(max_connections=1))
        first = await pool.handle_async_request(request())
        waiting = asyncio.ensure_future(pool.handle_async_request(request()))
        await asyncio.sleep(0.01)
        async for _ in first.stream:  # type: ignore[union-attr]
            pass
        await first.stream.aclose()  # type: ignore[union-attr]
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        third = await pool.handle_async_request(request())
        body = b"".join([chunk async for chunk in third.stream])  # type: ignore[union-attr]
        await pool.aclose()
        return body

    assert asyncio.run(run()) == b"hi"


# -- memory and sockets given back -------------------------------------------------------------------


def _garbage_after(action: Any) -> list[Any]:
    """What only the cyclic collector would free, of what ``action`` left behind."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        action()
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


_HEAVY_TYPES = {
    "VideoClient",
    "AsyncVideoClient",
    "RetryTransport",
    "PartialFile",
    "SegmentFile",
    "_Writer",
    "Transport",
    "AsyncTransport",
    "Pool",
    "AsyncPool",
    "Connection",
    "AsyncConnection",
    "LargeReadStream",
    "AsyncioStream",
}


def _heavy(garbage: list[Any]) -> list[str]:
    """Among ``garbage``: the package's clients, transports, pools, connections, streams and partial
    files, TLS contexts, open sockets, and buffers of 64 KiB or more."""
    found = []
    for item in garbage:
        kind = type(item)
        if kind.__module__.startswith("openrouter_video") and kind.__name__ in _HEAVY_TYPES:
            found.append(kind.__qualname__)
        elif isinstance(item, ssl.SSLContext):
            found.append("SSLContext")
        elif isinstance(item, socket.socket) and item.fileno() != -1:
            found.append("open socket")
        elif isinstance(item, (bytes, bytearray, mmap.mmap)) and len(item) >= 64 * 1024:
            found.append(f"{kind.__name__} of {len(item)} bytes")
    return sorted(set(found))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_download_and_a_closed_client_leave_nothing_to_the_cyclic_collector(
    fake: FakeOpenRouter, tmp_path: Path, mode: str
) -> None:
    fake.add_video("job-1", os.urandom(4 * MIB))
    for _ in range(3):
        fake.enqueue(Cut(at=2 * MIB))  # bytes kept, then it fails for good
    policy = RetryPolicy(max_attempts=2, resume_window=0, sleep=lambda s: None)

    def sync() -> None:
        client = VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy)
        with pytest.raises(OpenRouterVideoError):
            client.download("job-1", tmp_path / "x.mp4", max_connections=1, source="api")
        client.close()

    def aio() -> None:
        async def run() -> None:
            client = AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=policy)
            with pytest.raises(OpenRouterVideoError):
                await client.download("job-1", tmp_path / "x.mp4", max_connections=1, source="api")
            await client.aclose()

        asyncio.run(run())

    assert _heavy(_garbage_after(sync if mode == "sync" else aio)) == []


def test_a_dropped_async_client_gives_its_sockets_back(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """Without aclose(), the loop held its sockets and 1 MiB receive buffers until it closed."""
    fake.add_video("job-1", os.urandom(2 * MIB))

    async def run() -> tuple[int, list[warnings.WarningMessage]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client = AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url)
            await client.download("job-1", tmp_path / "x.mp4", source="api")
            assert fake.open_connections >= 1
            del client  # dropped, never closed
            gc.collect()
            for _ in range(50):  # the server sees the connection close
                await asyncio.sleep(0.01)
                if fake.open_connections == 0:
                    break
            return fake.open_connections, list(caught)

    still_open, caught = asyncio.run(run())
    assert still_open == 0
    assert any(issubclass(w.category, ResourceWarning) and "aclose" in str(w.message) for w in caught)


def test_clients_created_and_closed_leave_nothing_to_the_cyclic_collector(fake: FakeOpenRouter) -> None:
    """1,000 clients created and closed grew RSS by 35 KiB each: each closed client's transports and
    their TLS contexts waited for the cyclic collector (a bound method made a cycle)."""

    def many() -> None:
        for _ in range(20):
            VideoClient(api_key=fake.api_key, base_url=fake.base_url).close()

            async def run() -> None:
                async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
                    await client.list_models()

            asyncio.run(run())

    assert _heavy(_garbage_after(many)) == []
