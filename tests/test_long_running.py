"""The package inside a long-lived async process: random cancels, pool slots, threads, locks and
leftover files return to where they were, and a completed commit is never reported as cancelled."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from openrouter_video import AsyncVideoClient
from openrouter_video.io.files import PartialFile
from openrouter_video.testing import FakeOpenRouter

MIB = 1024 * 1024


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
                task = asyncio.ensure_future(client.download("job-1", dest, max_connections=1))
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
                again = await asyncio.wait_for(client.download("job-1", dest, max_connections=1), 10)
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
                    client.download("job-1", dest, max_connections=1, overwrite=True, keep_partial=False)
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
                *(client.download("job-1", tmp_path / f"last-{n}.mp4", max_connections=1) for n in range(4))
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
                task = asyncio.ensure_future(client.download("job-1", dest, max_connections=4))
                await asyncio.sleep(rng.uniform(0.05, 0.5))
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    assert not dest.exists()
                if not dest.exists():
                    await asyncio.wait_for(client.download("job-1", dest, max_connections=4), 20)
                assert dest.read_bytes() == payload
                dest.unlink()
                assert _leftovers(tmp_path) == []

    asyncio.run(run())
    assert fake.peak_connections >= 2
