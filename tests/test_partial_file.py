"""The writers behind every download on their own: :class:`PartialFile` (one stream) and ``SegmentFile``
(several ranges into one file).

PartialFile: whatever mix of chunk sizes and types, flushes and restarts it is fed, the committed file
and its SHA-256 are exactly what was added since the last restart. Small chunks are copied into pooled
buffers; ``bytes`` chunks of DIRECT_BYTES or more are queued as they are (no copy on the network thread).
The model test mixes both, so a buffer handed back too early, a partly filled buffer queued out of order
or a chunk written twice would show as wrong bytes.

SegmentFile: its write queue, its verification and its digest taken in file order while ranges are
written (sizes scaled down as in tests/test_segments.py, whose thresholds are patched here too).
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path
from typing import Any

import pytest
from helpers_segments import (
    KIB,
    MIB,
    small_thresholds,  # noqa: F401 - autouse fixture
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openrouter_video.engine.core import Resumable
from openrouter_video.engine.segments import Plan, Region
from openrouter_video.io import files as _files
from openrouter_video.io.files import BATCH_BYTES, DIRECT_BYTES, PartialFile

SIZES = st.one_of(
    st.integers(1, 2048),  # small: copied into the buffer being filled
    st.integers(DIRECT_BYTES - 1, DIRECT_BYTES + 1),  # around the threshold
    st.integers(BATCH_BYTES - 3, BATCH_BYTES + 3),  # around a whole buffer
)


KINDS = st.sampled_from(["bytes", "bytearray", "memoryview"])


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), SIZES, KINDS),
        st.tuples(st.just("flush"), st.just(0), st.just("")),
        st.tuples(st.just("reset"), st.just(0), st.just("")),
        st.tuples(st.just("check"), st.just(0), st.just("")),
    ),
    max_size=12,
)


def chunk_of(size: int, kind: str, seed: int) -> Any:
    data = bytes((seed + i) % 251 for i in range(size))
    return {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data)}[kind]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, sha256=st.booleans())
def test_the_committed_file_is_exactly_what_was_added_since_the_last_restart(
    tmp_path: Path, ops: list[tuple[str, int, str]], sha256: bool
) -> None:
    dest = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.mp4"
    expected = bytearray()
    with PartialFile(dest, overwrite=False, source="s", sha256=sha256, durable=False) as sink:
        for seed, (op, size, kind) in enumerate(ops):
            if op == "add":
                chunk = chunk_of(size, kind, seed)
                expected += chunk
                if not sink.add(chunk):
                    sink.wait_for_room()
                if isinstance(chunk, bytearray):
                    chunk[:] = bytes(len(chunk))  # the caller may reuse a mutable chunk at once
            elif op == "flush":
                sink.flush()
            elif op == "reset":
                sink.reset(Resumable())
                expected.clear()
            else:
                sink.check()
        sink.commit(len(expected))
    assert dest.read_bytes() == expected
    if sha256:
        assert sink.sha256 == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize("sha256", [False, True])
def test_a_large_bytes_chunk_goes_to_the_writer_without_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha256: bool
) -> None:
    seen: list[object] = []
    real_handle = PartialFile._handle

    def handle(self: PartialFile, item: object) -> None:
        seen.append(item)
        real_handle(self, item)

    monkeypatch.setattr(PartialFile, "_handle", handle)
    small, large = b"s" * 1000, bytes(range(256)) * (DIRECT_BYTES // 256)
    dest = tmp_path / "out.mp4"
    with PartialFile(dest, overwrite=False, source="s", sha256=sha256, durable=False) as sink:
        for chunk in (small, large, small):
            if not sink.add(chunk):
                sink.wait_for_room()
        sink.commit(len(large) + 2 * len(small))
    assert any(item is large for item in seen), "the large chunk was copied"
    assert not any(item is small for item in seen)  # small ones are gathered
    assert dest.read_bytes() == small + large + small
    if sha256:
        assert sink.sha256 == hashlib.sha256(small + large + small).hexdigest()
    assert isinstance(seen[0], _files._Slice) and seen[0].length == len(small)  # not copied either


def test_a_resumed_partial_with_digests_is_kept_again_and_its_digest_covers_the_kept_bytes(
    tmp_path: Path,
) -> None:
    """The state of a resumed partial was written back as read (its digests as raw bytes): keeping
    it a second time raised TypeError from abort, with the partial still locked. The bytes kept are
    read back into the digests before the new ones."""
    dest = tmp_path / "out.mp4"
    data = bytes(range(256)) * 1000
    content = Resumable(etag='"e"', total=len(data), digests={"sha256": hashlib.sha256(data).digest()})
    sink = PartialFile(dest, overwrite=False, source="s", durable=False)
    sink.reset(content)
    sink.add(data[:1000])
    sink.abort(keep=True)
    assert sink.kept_partial == sink.part_path
    sink = PartialFile(dest, overwrite=False, source="s", durable=False)
    assert sink.kept == 1000 and sink.resumable == content
    sink.add(data[1000:5000])
    sink.abort(keep=True)
    assert sink.kept_partial == sink.part_path
    with PartialFile(dest, overwrite=False, source="s", sha256=True, durable=False) as sink:
        assert sink.kept == 5000 and sink.resumable == content
        sink.add(data[5000:])
        assert sink.check().digests["sha256"] == content.digests["sha256"]
        sink.commit(len(data))
    assert dest.read_bytes() == data and sink.sha256 == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


# -- SegmentFile ------------------------------------------------------------------------------------


def _sink(tmp_path: Path, total: int, *, sha256: bool = False) -> Any:
    from openrouter_video.io.segment_file import SegmentFile

    sink = SegmentFile(
        tmp_path / "out.mp4",
        overwrite=False,
        source="s",
        sha256=sha256,
        durable=False,
        keep_partial=False,
        partial_ttl=None,
    )
    sink.begin(Resumable(etag='"e"', total=total))
    return sink


def test_every_task_waiting_for_room_in_the_queue_is_woken(tmp_path: Path) -> None:
    # One slot for "wake me" lost all but the last waiter: with two async connections and a slow
    # disk, the other task waited forever and the download never returned.
    import threading as _threading

    from openrouter_video.io.segment_file import MAX_QUEUED_WRITES

    sink = _sink(tmp_path, 64 * KIB)
    region = sink.plan.regions[0]
    for i in range(MAX_QUEUED_WRITES):
        assert sink.try_put(region, i, b"x", lambda: None)
    woken = {"a": _threading.Event(), "b": _threading.Event()}
    assert not sink.try_put(region, 100, b"a", woken["a"].set)
    assert not sink.try_put(region, 101, b"b", woken["b"].set)
    sink.start()
    try:
        assert woken["a"].wait(5) and woken["b"].wait(5)
    finally:
        sink.discard()


def test_ctrl_c_while_the_threads_stop_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading as _threading

    sink = _sink(tmp_path, 64 * KIB)
    sink.start()
    real_join = _threading.Thread.join
    calls = [0]

    def join(self: Any, timeout: float | None = None) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt
        real_join(self, timeout)

    monkeypatch.setattr(_threading.Thread, "join", join)
    with pytest.raises(KeyboardInterrupt):
        sink.discard()
    monkeypatch.setattr(_threading.Thread, "join", real_join)
    assert not [t for t in _threading.enumerate() if t.name.startswith("openrouter-video-pwrite")]
    assert sorted(os.listdir(tmp_path)) == []


def test_a_file_with_a_range_not_written_is_never_verified_as_whole(tmp_path: Path) -> None:
    from openrouter_video.errors import IncompleteDownloadError

    sink = _sink(tmp_path, 64 * KIB)
    sink.start()
    region = sink.plan.regions[0]
    sink.put(region, 0, b"x" * (32 * KIB))  # half of it
    try:
        with pytest.raises(IncompleteDownloadError, match="not all written"):
            sink.verify()
    finally:
        sink.discard()


def test_the_digest_is_taken_in_file_order_while_the_ranges_are_written(tmp_path: Path) -> None:
    """The hashing thread takes what extends the gap-free prefix as it is written, and reads back
    what other connections wrote beyond a gap once the gap is filled: nothing is left for the end,
    and the digest is that of the file (it was computed at the end before: 0.7 s per GiB more)."""
    data = random.Random(5).randbytes(3 * MIB)
    half = 2 * MIB
    sink = _sink(tmp_path, len(data), sha256=True)
    sink.plan = Plan(len(data), [Region(0, half, 0, 0), Region(half, len(data), half, half)])
    sink.start()
    try:
        back = sink.plan.regions[1]
        sink.put(back, half, data[half:])  # the back range first: beyond a gap, not hashed yet
        sink.flush()
        sink._settle_hashes()
        assert sink._hashed == 0
        front = sink.plan.regions[0]
        for at in range(0, half, 256 * KIB):
            sink.put(front, at, data[at : at + 256 * KIB])
            sink.flush()
            sink._settle_hashes()
            # each write extends the prefix, and once the gap is filled the back range is read back
            assert sink._hashed == (at + 256 * KIB if at + 256 * KIB < half else len(data))
        sink.verify()
        assert sink.sha256 == hashlib.sha256(data).hexdigest()
    finally:
        sink.discard()


@pytest.mark.parametrize(
    ("etag", "last_modified", "adopted"),
    [
        ('"strong"', None, True),
        ('W/"weak"', "Mon, 07 Dec 2026 10:00:00 GMT", True),
        ('W/"weak"', None, False),  # nothing If-Range can carry: a range could mix two contents
        (None, None, False),
    ],
)
def test_a_single_streams_partial_goes_on_by_ranges_only_with_a_validator_for_if_range(
    tmp_path: Path, etag: str | None, last_modified: str | None, adopted: bool
) -> None:
    from openrouter_video.io.journal import content_state, partial_paths, write_state
    from openrouter_video.io.segment_file import SegmentFile

    dest = tmp_path / "out.mp4"
    part, state = partial_paths(dest)
    part.write_bytes(b"k" * 3000)
    content = Resumable(etag=etag, last_modified=last_modified, total=10_000)
    write_state(state, content_state("s", content, kept=3000))
    sink = SegmentFile(
        dest, overwrite=False, source="s", sha256=False, durable=False, keep_partial=True, partial_ttl=None
    )
    try:
        assert sink.single_partial
        assert sink.adopt_single(3000) is adopted
        assert (sink.plan is not None) is adopted
        assert part.stat().st_size == (10_000 if adopted else 3000)
    finally:
        sink.abort()
