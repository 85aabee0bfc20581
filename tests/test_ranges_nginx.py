"""Ranges from a real server: nginx capping each connection (``limit_rate``), as many stores and CDNs
do, and logging which bytes each request was sent. An explicit ``max_connections`` opens its ranges
at once and keeps the first connection's body as the first range; the adaptive default ramps up."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_storage import NginxStorage
from openrouter_video.testing import FakeOpenRouter, mp4_bytes
from test_signed_nginx import download, job_at, logged

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (apt-get install nginx)")

MIB = 1 << 20
CAP = 4 * MIB  # bytes a second, per connection


@pytest.fixture(scope="module")
def capped() -> Iterator[NginxStorage]:
    with NginxStorage(rate=CAP) as storage:
        yield storage


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("size", [6 * MIB, 24 * MIB], ids=["6 MiB", "24 MiB"])
def test_an_explicit_count_opens_its_ranges_at_once_and_the_first_connection_goes_on(
    fake: FakeOpenRouter, capped: NginxStorage, tmp_path: Path, mode: str, size: int
) -> None:
    data = mp4_bytes(size, seed=size)
    name = f"n{size}-{mode}.mp4"
    capped.put(name, data)
    since = len(capped.requests())
    job = job_at(capped.url(name, time.time() + 600))
    result = download(fake, mode, job, tmp_path / "out.mp4", max_connections=4, source="signed")
    seen = logged(capped, since)
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert result.connections == 4, (result, seen)
    whole = [r for r in seen if r["range"] is None]
    ranged = [r for r in seen if r["range"] is not None]
    assert len(whole) == 1 and whole[0]["status"] == 200, seen
    starts = sorted(int(str(r["range"]).removeprefix("bytes=").partition("-")[0]) for r in ranged)
    # The first connection's body is the first range: no request asks again for its bytes (a stream cut
    # and resumed would ask from where it stopped, 64 KiB before), and it was sent a quarter or so.
    assert starts and starts[0] >= size // 5, (starts, seen)
    assert whole[0]["bytes_sent"] >= size // 5
    assert len({r["connection"] for r in seen}) >= 4  # four connections at once


def test_the_adaptive_default_ramps_up_against_a_cap_per_connection(
    fake: FakeOpenRouter, capped: NginxStorage, tmp_path: Path
) -> None:
    size = 24 * MIB
    data = mp4_bytes(size, seed=7)
    capped.put("adaptive.mp4", data)
    since = len(capped.requests())
    job = job_at(capped.url("adaptive.mp4", time.time() + 600))
    result = download(fake, "async", job, tmp_path / "out.mp4", source="signed")
    seen = logged(capped, since)
    assert (tmp_path / "out.mp4").read_bytes() == data
    assert result.connections == 4, (result, seen)  # 1, a probe with 2 that doubled it, then 4
    assert sum(1 for r in seen if r["range"] is None) == 1
