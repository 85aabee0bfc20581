"""The partial file of a segmented download, written at offsets (driven by
:func:`~._async.download.run_segments`): :class:`~.files.PartialFile`'s engine (lock, one writer
thread behind a bounded queue whatever the number of connections, hashing thread, commit and abort)
with the file preallocated to the whole size, each write at its offset (``pwrite``), and a state file
(version 2) that records every region's ``[start, written, end]`` as the writer goes: a SIGKILL loses
at most what was written since the last journal entry. A single-stream partial (version 1) is never
taken for a segmented one, nor the reverse. Digests are computed in file order while the download
goes: each write that extends the gap-free prefix has the hashing thread read the file up to it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

from ..engine.core import Resumable
from ..engine.segments import Plan, Region
from ..engine.verify import BoxWalk, walk_boxes
from ..errors import IncompleteDownloadError
from .files import _content_of, _Partial, _tail, write_all
from .journal import read_state

#: The state file's version for segmented partials (single-stream ones are version 1).
SEGMENT_STATE_VERSION: Final = 2
#: Writes the writer thread may lag behind (each at most one chunk: about 1 MiB).
MAX_QUEUED_WRITES: Final = 4
#: How often the journal is rewritten, in seconds (by its own thread: its fsync never holds up writes).
JOURNAL_SECONDS: Final = 0.5


class _Closed(Exception):
    """The download this worker belonged to has ended (a worker left behind stops here)."""


class _Piece(NamedTuple):
    """Bytes for the writer: ``data`` at ``offset``, in ``region``."""

    region: Region
    offset: int
    data: bytes


def read_segment_state(path: Path) -> dict[str, Any] | None:
    """A segmented partial's state file, validated like a single-stream one, or ``None``."""
    state = read_state(path, version=SEGMENT_STATE_VERSION)
    if state is None or type(state.get("total")) is not int or not isinstance(state.get("segments"), list):
        return None
    return state


def _preallocate(fd: int, start: int, total: int) -> None:
    """Make the file ``total`` bytes long, with real blocks past ``start`` (a hint: no fragmentation)."""
    os.ftruncate(fd, total)
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fallocate(fd, start, total - start)


class SegmentFile(_Partial):
    """The locked, preallocated partial file of a segmented download (see the module docstring).
    After construction, :attr:`plan` and :attr:`content` describe a segmented partial to continue
    (else ``None``), and :attr:`single_partial` says a single-stream partial is kept there."""

    _THREAD = "openrouter-video-pwrite"
    _QUEUED = MAX_QUEUED_WRITES

    plan: Plan | None = None
    single_partial = False
    _journaler: threading.Thread | None = None

    def _open(self, fd: int, size: int) -> None:
        #: The digests of the whole file, once verified.
        self.digests: dict[str, bytes] = {}
        self._journal_stop = threading.Event()
        state = read_segment_state(self.state_path)
        if state is not None and state.get("source") == self.source and size <= state["total"]:
            plan = Plan.from_journal(state["total"], state["segments"])
            # A file shorter than its total is one whose version 2 state was written just before it
            # was extended (adopt_single): fine while every byte the journal vouches for is in it.
            if plan is not None and all(region.written <= size for region in plan.regions):
                if size < plan.total:
                    os.ftruncate(fd, plan.total)
                for region in plan.regions:
                    region.tail = _tail(fd, region.written, region.start)  # (empty for a region not begun)
                self.plan, self.kept, self.content = plan, plan.received, _content_of(state)
                return
        self.single_partial = (read_state(self.state_path) or {}).get("source") == self.source and size > 0

    def adopt_single(self, at: int | None = None) -> bool:
        """Make the single-stream partial kept here (:attr:`single_partial`) region 0 of a segmented
        one, continuing after the bytes kept. False (nothing changed) when its state does not allow
        it (no total, no validator for If-Range), or (``at``) it does not end where the body that goes
        on with it is (a write that failed kept less)."""
        with self._ending:  # an abort from another thread (a cancelled task) waits for it
            fd = self._fd
            if fd is None or not self.single_partial:  # already let go
                return False
            content = None if (state := read_state(self.state_path)) is None else _content_of(state)
            size = os.fstat(fd).st_size
            if (
                content is None
                or (total := content.total) is None
                or not 0 < size < total
                or at not in (None, size)
                or not content.if_range
            ):
                return False
            region = Region(0, total, size, size, tail=_tail(fd, size))
            self.content, self.plan, self.kept = content, Plan(total, [region]), size
            self.single_partial = False
            # The version 2 state first, then the file grows: killed in between, the next call extends a
            # version 2 partial shorter than its total (a version 1 one would be resumed from the end).
            self._journal()
            _preallocate(fd, size, total)
            return True

    def begin(self, content: Resumable) -> Plan:
        """Start afresh for ``content``: the file is emptied and preallocated to its size."""
        fd = self._fd
        assert fd is not None and content.total is not None
        os.ftruncate(fd, 0)
        _preallocate(fd, 0, content.total)
        self.content, self.plan, self.kept = content, Plan(content.total), 0
        self._journal()
        return self.plan

    def start(self) -> None:
        """Start the writer thread, the journal's, and the hashing thread when digests are wanted."""
        assert self.content is not None
        self._set_hashes(self.content.digests)
        if self._hashes:
            self._hashing()
        self._writer.start()
        self._journal_stop.clear()
        self._journaler = threading.Thread(
            target=self._journal_loop, name=f"openrouter-video-journal:{self.path.name}", daemon=True
        )
        self._journaler.start()

    def _journal_loop(self) -> None:
        while not self._journal_stop.wait(JOURNAL_SECONDS):
            with contextlib.suppress(OSError):  # the next may work; the last is written at the end
                self._journal()

    def _journal(self) -> None:
        """Record every region's progress (after flushing the data it vouches for, if durable)."""
        assert self.plan is not None
        segments = self.plan.journal()  # before the flush, so that it covers all this claims
        self._save_state(sync=True, version=SEGMENT_STATE_VERSION, segments=segments)

    def _check_open(self) -> None:
        if self.error is not None:
            raise self.error
        if self._closed:  # a worker left behind after the download ended
            raise _Closed

    def put(self, region: Region, offset: int, data: bytes) -> None:
        """Queue ``data`` for ``offset`` (of ``region``), waiting while the writer is behind."""
        piece = _Piece(region, offset, data)
        while True:
            self._check_open()
            if self._writer.put(piece, block=True, timeout=0.25):  # looks again now and then
                return

    def try_put(self, region: Region, offset: int, data: bytes, on_room: Callable[[], None]) -> bool:
        """:meth:`put` without waiting: False when full, and then ``on_room`` is called once there is room."""
        self._check_open()
        piece = _Piece(region, offset, data)
        return self._writer.offer(lambda: self._writer.put(piece, block=False), on_room)

    def _handle(self, item: object) -> None:
        fd, plan = self._fd, self.plan
        assert fd is not None and plan is not None and isinstance(item, _Piece)
        with memoryview(item.data) as data:
            end = item.offset + write_all(fd, data, item.offset)
        with plan.lock:
            item.region.written = end
            prefix = plan.written_prefix() if self._hashes else 0
        if prefix > self._hash_target:
            self._hash_up_to(prefix)

    def _stop_threads(self, *, cancel: bool) -> None:
        self._closed = True
        if self._hasher is not None:
            self._hasher.cancelled = True  # it stops at once (between pieces): nothing waits for it
        if self._journaler is not None:
            self._journal_stop.set()
            self._journaler.join()
            self._journaler = None
        super()._stop_threads(cancel=cancel)

    def verify(self) -> BoxWalk:
        """Walk the boxes of the whole file and compute its digests (the server's and ``sha256``)."""
        with self._ending:
            self.flush()
            fd, plan = self._fd, self.plan
            assert fd is not None and plan is not None
            if holes := [r for r in plan.regions if r.written != r.end]:  # never expected: a last guard
                raise IncompleteDownloadError(
                    f"{len(holes)} ranges are not all written "
                    f"(first: bytes {holes[0].written}-{holes[0].end})",
                    received=sum(r.written - r.start for r in plan.regions),
                    expected=plan.total,
                )
            boxes = walk_boxes(lambda offset, size: os.pread(fd, size, offset), plan.total)
            if self._hashes:
                self._hash_up_to(plan.total)  # what is left (normally nothing)
                self._settle_hashes()
                self.digests = self._digests()
            return boxes

    def _keep(self) -> bool:
        if self.plan is None or not self.plan.received or self.error is not None:
            return False
        self._journal()
        return True

    def release(self) -> None:
        """Unlock without touching anything (the caller downloads with one stream instead)."""
        self._close(cancel=False, keep=lambda: True)

    def discard(self) -> None:
        """Delete the partial and its journal and unlock (one stream starts again from byte 0)."""
        self._close(cancel=True, keep=None)

    def keep_as_single(self) -> int:
        """After an abandon that is not a content change (ranges answered with 200, say): cut the
        partial at its gap-free prefix and make it a single-stream one (version 1 state) that one
        stream resumes; unlock. Returns the bytes kept (0: none, and the partial is deleted)."""
        kept = 0

        def keep() -> bool:
            nonlocal kept
            if self.plan is None or self.content is None or self.error is not None:
                return False
            with self.plan.lock:
                kept = self.plan.written_prefix()
            if kept:
                assert self._fd is not None
                os.ftruncate(self._fd, kept)  # the single stream's length is what it resumes from
                self._save_state(sync=True, kept=kept)
            return kept > 0

        return kept if self._close(cancel=False, keep=keep) else 0
