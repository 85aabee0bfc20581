"""Segmented downloads, the I/O: the partial file written at offsets, and the sync and async shells.

:class:`SegmentFile` is the partial of a segmented download: ``.<name>.part`` preallocated to the
whole size and locked like any partial, written with ``pwrite`` by one writer thread behind a
bounded queue (so memory stays bounded whatever the number of connections), with a state file
(version 2) that records every region's ``[start, written, end]`` as the writer goes. A SIGKILL
loses at most what was written since the last journal entry; the next call continues every region
where its journal says (re-reading the overlap before it). A single-stream partial (version 1) is
never taken for a segmented one, nor the reverse. Digests (``sha256`` and the server's) are
computed while the download goes, in file order, by a hashing thread: it takes each write that
extends the gap-free prefix of the file, and reads back from the file what other connections wrote
beyond it once the gap before it is filled; what is left is read at the end.

:func:`run_sync` (threads) and :func:`run_async` (tasks) do the requests that
:class:`~._segments.SegmentCore` decides, and add connections when its ramp says so. Both return
``None`` when every byte is written, or the :class:`~._segments.Abandon` that stopped them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ..engine.core import OVERLAP, Resumable
from ..engine.segments import Plan, Region, is_strong
from ..engine.verify import BoxWalk, walk_boxes
from ..errors import IncompleteDownloadError
from .files import _fdatasync, fsync_directory, named_by_content, place
from .journal import (
    content_state,
    lock_partial,
    partial_paths,
    read_state,
    remove,
    sweep_partials,
    write_state,
)

#: The state file's version for segmented partials (single-stream ones are version 1).
SEGMENT_STATE_VERSION: Final = 2
#: Writes the writer thread may lag behind (each at most one chunk: about 1 MiB).
MAX_QUEUED_WRITES: Final = 4
#: How often the journal is rewritten, in seconds (by a thread of its own, so that the fsync that
#: comes first with ``durable`` never holds up the writes).
JOURNAL_SECONDS: Final = 0.5
#: The hashing thread reads the file back in pieces of this size.
READ_BACK: Final = 1024 * 1024
_STOP: Final = object()


class Cancelled(Exception):
    """The download was stopped from outside (the caller of ``generate_and_download`` was
    interrupted): its partial is kept like after any other exception."""


class _Closed(Exception):
    """The download this worker belonged to has ended (a worker left behind stops here)."""


def read_segment_state(path: Path) -> dict[str, Any] | None:
    """A segmented partial's state file, validated like a single-stream one, or ``None``."""
    state = read_state(path, version=SEGMENT_STATE_VERSION)
    if state is None or type(state.get("total")) is not int or not isinstance(state.get("segments"), list):
        return None
    return state


class SegmentFile:
    """The locked, preallocated partial file of a segmented download (see the module docstring).

    After construction, :attr:`plan` and :attr:`content` describe a segmented partial to continue
    (else ``None``), and :attr:`single_partial` says a single-stream partial is kept there (the
    caller then downloads with one stream, which continues it).
    """

    def __init__(
        self,
        path: Path,
        *,
        overwrite: bool,
        source: str,
        sha256: bool,
        durable: bool,
        keep_partial: bool,
        partial_ttl: float | None,
        named_by_content: bool = False,
    ) -> None:
        self.path = path
        self.overwrite = overwrite
        #: The destination's suffix follows the content at the commit (see :func:`named_by_content`).
        self.named_by_content = named_by_content
        self.source = source
        self.sha256_wanted = sha256
        self.durable = durable
        self.keep_partial = keep_partial
        self.part_path, self.state_path = partial_paths(path)
        if partial_ttl is not None:
            sweep_partials(path.parent, partial_ttl)
        self._lock = lock_partial(self.part_path, path)
        self._fd: int | None = self._lock.fd
        self.plan: Plan | None = None
        self.content: Resumable | None = None
        self.kept = 0
        self.single_partial = False
        self.sha256: str | None = None
        self.digests: dict[str, bytes] = {}
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=MAX_QUEUED_WRITES)
        self._thread: threading.Thread | None = None
        #: The running digests; the bytes taken into them (always a prefix of the file, read back by
        #: the hashing thread); the gap-free prefix on disk that the writer publishes for it (the
        #: writer never waits for the hashing); see the module docstring.
        self._hashes: dict[str, Any] = {}
        self._hashed = 0
        self._hash_target = 0
        self._hash_cond = threading.Condition()
        self._hash_stop = False
        self._hasher: threading.Thread | None = None
        self._journaler: threading.Thread | None = None
        self._journal_stop = threading.Event()
        self.error: BaseException | None = None
        #: The event loop's tasks waiting for room in the queue (each woken once an item is taken).
        self._waiters: list[Callable[[], None]] = []
        self._room = threading.Lock()
        self._closed = False
        #: Held by the end of the download (verify, commit) and by abort/discard, so that a cancel
        #: arriving while the file is verified or committed waits for that to finish.
        self._ending = threading.RLock()
        try:
            self._open_existing()
        except BaseException:
            self._lock.release()
            raise

    def _open_existing(self) -> None:
        fd = self._fd
        assert fd is not None
        size = os.fstat(fd).st_size
        state = read_segment_state(self.state_path)
        if state is not None and state.get("source") == self.source and size <= state["total"]:
            plan = Plan.from_journal(state["total"], state["segments"])
            # A file shorter than its total is one whose version 2 state was written just before it
            # was extended (adopt_single): fine while every byte the journal vouches for is in it.
            if plan is not None and all(region.written <= size for region in plan.regions):
                if size < plan.total:
                    os.ftruncate(fd, plan.total)
                for region in plan.regions:
                    if region.written > region.start:
                        n = min(OVERLAP, region.written - region.start)
                        region.tail = os.pread(fd, n, region.written - n)
                self.plan = plan
                self.kept = plan.received
                self.content = Resumable(
                    etag=state.get("etag"),
                    last_modified=state.get("last_modified"),
                    total=state["total"],
                    content_type=state.get("content_type"),
                    digests=state["digests"],
                )
                return
        single = read_state(self.state_path)
        self.single_partial = single is not None and single.get("source") == self.source and size > 0

    # -- set-up ------------------------------------------------------------------------------------
    def adopt_single(self) -> bool:
        """Make the single-stream partial kept here (:attr:`single_partial`) the first region of a
        segmented one: the file is extended to its size and preallocated, and the state file
        becomes a version 2 one whose region 0 continues after the bytes kept. False (nothing
        changed) when its state does not allow it (no total, no validator for If-Range)."""
        with self._ending:  # an abort from another thread (a cancelled task) waits for it
            fd = self._fd
            if fd is None or not self.single_partial:  # already let go
                return False
            state = read_state(self.state_path)
            size = os.fstat(fd).st_size
            if state is None or type(total := state.get("total")) is not int or not 0 < size < total:
                return False
            content = Resumable(
                etag=state.get("etag"),
                last_modified=state.get("last_modified"),
                total=total,
                content_type=state.get("content_type"),
                digests=state["digests"],
            )
            if not (is_strong(content.etag) or content.last_modified):
                return False
            tail = os.pread(fd, min(OVERLAP, size), size - min(OVERLAP, size))
            region = Region(0, total, size, size, tail=tail)
            self.content, self.plan, self.kept = content, Plan(total, [region]), size
            self.single_partial = False
            # The version 2 state replaces the single stream's first, then the file grows to its size:
            # killed in between, the next call finds a version 2 partial shorter than its total, which
            # it extends (a version 1 state over a file already extended would be resumed from its end).
            self._journal()
            os.ftruncate(fd, total)
            with contextlib.suppress(AttributeError, OSError):
                os.posix_fallocate(fd, size, total - size)
            return True

    def begin(self, content: Resumable) -> Plan:
        """Start afresh for ``content``: the file is emptied and preallocated to its size."""
        fd = self._fd
        assert fd is not None and content.total is not None
        os.ftruncate(fd, 0)
        os.ftruncate(fd, content.total)
        with contextlib.suppress(AttributeError, OSError):
            os.posix_fallocate(fd, 0, content.total)  # real blocks now, no fragmentation; a hint
        self.content = content
        self.plan = Plan(content.total)
        self.kept = 0
        self._journal()
        return self.plan

    def start(self) -> None:
        """Start the writer thread, the journal's, and the hashing thread when digests are wanted."""
        content = self.content
        assert content is not None
        names = set(content.digests) | ({"sha256"} if self.sha256_wanted else set())
        self._hashes = {name: hashlib.new(name) for name in sorted(names)}
        self._hashed = self._hash_target = 0
        self._hash_stop = False
        if self._hashes:
            self._hasher = threading.Thread(
                target=self._hash_run, name=f"openrouter-video-hash:{self.path.name}"
            )
            self._hasher.daemon = True
            self._hasher.start()
        self._thread = threading.Thread(target=self._run, name=f"openrouter-video-pwrite:{self.path.name}")
        self._thread.daemon = True
        self._thread.start()
        self._journal_stop.clear()
        self._journaler = threading.Thread(
            target=self._journal_loop, name=f"openrouter-video-journal:{self.path.name}"
        )
        self._journaler.daemon = True
        self._journaler.start()

    def _journal_loop(self) -> None:
        while not self._journal_stop.wait(JOURNAL_SECONDS):
            try:
                self._journal()
            except OSError:
                pass  # the next one may work; the last one is written when the download stops

    # -- the producer side ---------------------------------------------------------------------------
    def put(self, region: Region, offset: int, data: bytes) -> None:
        """Queue ``data`` for ``offset`` (of ``region``), waiting while the writer is behind."""
        while True:
            if self.error is not None:
                raise self.error
            if self._closed:  # a worker left behind after the download ended
                raise _Closed
            try:
                self._queue.put((region, offset, data), timeout=0.25)
                return
            except queue.Full:
                continue

    def try_put(self, region: Region, offset: int, data: bytes, on_room: Callable[[], None]) -> bool:
        """:meth:`put` without waiting: False when full, and then ``on_room`` is called (from the
        writer thread) once the writer has taken an item. Any number of tasks may wait at once."""
        if self.error is not None:
            raise self.error
        if self._closed:
            raise _Closed
        with self._room:  # a failed put and its registration are one step for the writer's wake-up
            try:
                self._queue.put_nowait((region, offset, data))
            except queue.Full:
                self._waiters.append(on_room)
                return False
        return True

    def flush(self) -> None:
        """Wait until everything queued is written (and journalled)."""
        self._queue.join()
        if self.error is not None:
            raise self.error

    # -- the writer thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        fd = self._fd
        assert fd is not None
        while True:
            item = self._queue.get()
            try:
                with self._room:
                    waiters, self._waiters = self._waiters, []
                for wake in waiters:
                    wake()
                if item is _STOP:
                    return
                if self.error is not None:
                    continue
                region, offset, data = item
                view = memoryview(data)
                done = 0
                while done < len(view):
                    done += os.pwrite(fd, view[done:], offset + done)
                assert self.plan is not None
                with self.plan.lock:
                    region.written = offset + done
                    prefix = self.plan.written_prefix() if self._hashes else 0
                if prefix > self._hash_target:
                    with self._hash_cond:
                        self._hash_target = prefix
                        self._hash_cond.notify_all()
            except BaseException as exc:
                self.error = exc
            finally:
                self._queue.task_done()

    # -- the hashing thread ----------------------------------------------------------------------------
    def _hash_run(self) -> None:
        """Take bytes ``[hashed, target)`` into the digests, read back from the file, as the writer
        moves the target; stops at once (between pieces) when the file is closed."""
        fd = self._fd
        assert fd is not None
        try:
            while True:
                with self._hash_cond:
                    while self._hashed >= self._hash_target and not self._hash_stop:
                        self._hash_cond.wait()
                    if self._hash_stop:
                        return
                    start, stop = self._hashed, self._hash_target
                while start < stop and not self._hash_stop:
                    start += self._hash_piece(fd, start, stop)
                    with self._hash_cond:
                        self._hashed = start
                        self._hash_cond.notify_all()
        except BaseException as exc:
            self.error = exc
            with self._hash_cond:
                self._hash_cond.notify_all()

    def _hash_piece(self, fd: int, start: int, stop: int) -> int:
        """Hash up to :data:`READ_BACK` bytes of the file from ``start`` (before ``stop``)."""
        data = os.pread(fd, min(READ_BACK, stop - start), start)
        if not data:
            raise IncompleteDownloadError(
                f"the partial file ends at byte {start}, before {stop}", received=start, expected=stop
            )
        for h in self._hashes.values():
            h.update(data)
        return len(data)

    def _settle_hashes(self) -> None:
        """Wait until the hashing thread has taken in the whole published prefix (or failed)."""
        with self._hash_cond:
            while (
                self._hasher is not None
                and self._hasher.is_alive()
                and self._hashed < self._hash_target
                and self.error is None
            ):
                self._hash_cond.wait(0.1)

    def _journal(self) -> None:
        """Record every region's progress (after flushing the data it vouches for, if durable)."""
        fd, plan, content = self._fd, self.plan, self.content
        assert fd is not None and plan is not None and content is not None
        segments = plan.journal()  # before the flush, so that it covers all this claims
        if self.durable:
            _fdatasync(fd)
        write_state(
            self.state_path,
            content_state(self.source, content, version=SEGMENT_STATE_VERSION, segments=segments),
        )

    def _halt(self) -> None:
        """:meth:`_stop`, finished even when interrupted (Ctrl-C) meanwhile: the interruption is
        raised once both threads have stopped, so that the file is never closed under them."""
        pending: BaseException | None = None
        while True:
            try:
                self._stop()
                break
            except BaseException as exc:
                pending = pending or exc
        if pending is not None:
            raise pending

    def _stop(self) -> None:
        self._closed = True
        if self._journaler is not None:
            self._journal_stop.set()
            self._journaler.join()
            self._journaler = None
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._hasher is not None:
            with self._hash_cond:
                self._hash_stop = True
                self._hash_cond.notify_all()
            self._hasher.join()
            self._hasher = None

    # -- the end -----------------------------------------------------------------------------------
    def verify(self) -> BoxWalk:
        """Walk the boxes of the whole file and compute its digests (the server's and ``sha256``)."""
        with self._ending:
            return self._verify()

    def _verify(self) -> BoxWalk:
        self.flush()
        fd, content, plan = self._fd, self.content, self.plan
        assert fd is not None and content is not None and content.total is not None and plan is not None
        total = content.total
        holes = [r for r in plan.regions if r.written != r.end]
        if holes:  # never expected: the last guard before a commit
            raise IncompleteDownloadError(
                f"{len(holes)} ranges are not all written (first: bytes {holes[0].written}-{holes[0].end})",
                received=sum(r.written - r.start for r in plan.regions),
                expected=total,
            )
        boxes = walk_boxes(lambda offset, size: os.pread(fd, size, offset), total)
        hashes = self._hashes
        if hashes:
            self._settle_hashes()  # the hashing thread has the whole file (it is all written)
            if self.error is not None:
                raise self.error
            with self._hash_cond:  # it is idle now; what is left (normally nothing) is read here
                while self._hashed < total:
                    self._hashed += self._hash_piece(fd, self._hashed, total)
            self.digests = {name: h.digest() for name, h in hashes.items()}
            if self.sha256_wanted:
                self.sha256 = hashes["sha256"].hexdigest()
        return boxes

    def commit(self) -> None:
        """Fsync (``durable``), move the file into place, fsync the directory; the state file goes."""
        with self._ending:
            self._commit()

    def _commit(self) -> None:
        self._halt()
        if self.error is not None:
            raise self.error
        fd = self._fd
        assert fd is not None
        if self.durable:
            os.fsync(fd)
        if self.named_by_content:
            self.path = named_by_content(self.path, fd)
        place(self.part_path, self.path, overwrite=self.overwrite)
        remove(self.state_path)
        self._lock.release()
        self._fd = None
        if self.durable:
            fsync_directory(self.path.parent)

    def abort(self, *, keep: bool | None = None) -> Path | None:
        """Stop writing and unlock; keep the partial and its journal for the next call (``keep``,
        default ``keep_partial``) or delete them. Returns the partial kept, if any. A Ctrl-C
        meanwhile is raised once this is done."""
        with self._ending:
            if self._fd is None:
                return None
            keep = self.keep_partial if keep is None else keep
            try:
                self._halt()
            finally:
                kept = keep and self.plan is not None and self.plan.received > 0 and self.error is None
                if kept:
                    try:
                        self._journal()
                    except OSError:
                        kept = False
                self._lock.release()
                self._fd = None
                if not kept:
                    remove(self.part_path, self.state_path)
            return self.part_path if kept else None

    def release(self) -> None:
        """Unlock without touching anything (the caller downloads with one stream instead)."""
        with self._ending:
            if self._fd is None:
                return
            try:
                self._halt()
            finally:
                self._lock.release()
                self._fd = None

    def keep_as_single(self) -> int:
        """After an abandon that is not a content change (a server that answers ranges with 200,
        say): cut the partial at its gap-free prefix and make it a single-stream one again (version
        1 state), so that one stream resumes it instead of starting from byte 0; unlock. Returns the
        bytes kept (0: there were none, and the partial is deleted)."""
        with self._ending:
            try:
                self._halt()
            finally:
                fd, plan, content = self._fd, self.plan, self.content
                kept = 0
                if fd is not None and plan is not None and content is not None and self.error is None:
                    with plan.lock:
                        kept = plan.written_prefix()
                    try:
                        if kept:
                            os.ftruncate(fd, kept)  # the single stream's length is what it resumes from
                            if self.durable:
                                _fdatasync(fd)
                            write_state(self.state_path, content_state(self.source, content, kept=kept))
                    except OSError:
                        kept = 0
                if fd is not None:
                    self._lock.release()
                    self._fd = None
                if not kept:
                    remove(self.part_path, self.state_path)
            return kept

    def discard(self) -> None:
        """Delete the partial and its journal and unlock (one stream starts again from byte 0)."""
        with self._ending:
            if self._fd is None:
                return
            try:
                self._halt()
            finally:
                self._lock.release()
                self._fd = None
                remove(self.part_path, self.state_path)
