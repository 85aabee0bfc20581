"""Destinations, and the partial file a download is written to and committed from: one engine
(:class:`_Partial`: lock, writer thread, hashing thread, state file, commit, abort) for one stream
(:class:`PartialFile`) and for regions written at their offsets (:class:`~.segment_file.SegmentFile`)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import mmap
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from ctypes import c_int, c_int64, c_uint
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self, TypeAlias

from ..engine.core import API_ORIGIN, OVERLAP, Resumable, Verdict
from ..engine.names import safe_filename
from ..engine.verify import container_suffix, walk_boxes
from ..errors import IncompleteDownloadError, IntegrityError
from ..fastio.lent import give_back, is_lent
from .journal import (
    DEFAULT_PARTIAL_TTL,
    content_state,
    lock_partial,
    partial_paths,
    read_state,
    remove,
    sweep_partials,
    write_state,
)


def ensure_directory(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` (and its parents) if missing, as ``wget -P`` and ``aria2c -d`` do. Raises
    :class:`NotADirectoryError` naming the file in the way, or :class:`PermissionError`."""
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        raise NotADirectoryError(
            f"{blocker} is a file, not a directory" + (f" (needed for {path})" if blocker != path else "")
        ) from None
    except PermissionError:
        raise PermissionError(f"cannot create the directory {path}: permission denied") from None
    return path


def is_directory_path(dest: str | os.PathLike[str]) -> bool:
    """Whether ``dest`` names a directory: an existing one, or a path ending in a separator."""
    text = os.fspath(dest)
    return text.endswith(os.sep) or bool(os.altsep and text.endswith(os.altsep)) or Path(text).is_dir()


def resolve_destination(dest: str | os.PathLike[str], job_id: str, index: int, overwrite: bool) -> Path:
    """The file to write: ``dest``, or :func:`safe_filename` inside it if it names a directory (created
    if missing). Raises :class:`FileExistsError` (exists, no ``overwrite``), :class:`NotADirectoryError`
    or :class:`PermissionError` before any request is made."""
    path = Path(dest)
    if is_directory_path(dest):
        path = ensure_directory(path) / safe_filename(job_id, index)
    else:
        ensure_directory(path.parent)
    if path.is_dir():
        raise IsADirectoryError(f"destination is a directory: {path}")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"destination exists (pass overwrite=True to replace it): {path}")
    return path


_STOP: Final = object()
#: Chunks are copied into reused buffers of this size (one queue operation, one ``write`` and one hash
#: update per buffer, whatever the chunk sizes).
BATCH_BYTES: Final = 1024 * 1024
#: A partly filled buffer goes to the writer when this many seconds passed since the last one went, and
#: at once for the first bytes: on a slow link they reach the disk without waiting for a full buffer.
FLUSH_AFTER: Final = 0.05
#: A ``bytes`` chunk (immutable) of at least this size is queued as it is, not copied: one copy fewer
#: per byte on the network thread, the bottleneck of many downloads on one event loop (32 x 16 MiB over
#: HTTP: 0.78x to 0.82x of 32 curls with 256 KiB here, 0.82x to 0.85x with 64 KiB).
DIRECT_BYTES: Final = 64 * 1024
#: Full buffers (or lent chunks) the writer may lag behind: at most about 5 MiB in flight. (4 measured
#: the same speed over loopback HTTP, with a peak RSS 1 MiB higher: once lent receive buffers cycle,
#: every buffer ever in flight stays mapped.)
MAX_QUEUED_BATCHES: Final = 3
#: Written buffers the hashing thread may lag behind the writer.
MAX_QUEUED_HASHES: Final = 2
#: With ``durable=True`` the writer starts writeback every this many bytes, so that the final fsync
#: before the rename has little left to do.
SYNC_EVERY: Final = 8 * 1024 * 1024
_fdatasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _libc_function(name: str, *argtypes: Any) -> Callable[..., int] | None:
    """A Linux libc function Python has no binding for (``None`` elsewhere, or if it is missing),
    from the symbols the process has loaded: ``find_library`` would run ``ldconfig -p``."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    return function  # type: ignore[no-any-return]


#: ``sync_file_range(fd, offset, size, flags)``: starts writeback without waiting, so that the writer
#: thread never stalls on the disk (elsewhere the writer calls fdatasync).
_sync_file_range = _libc_function("sync_file_range", c_int, c_int64, c_int64, c_uint)
#: ``fallocate(fd, mode, offset, size)`` (Python's ``posix_fallocate`` changes the size).
_fallocate = _libc_function("fallocate", c_int, c_int, c_int64, c_int64)


def _reserve(fd: int, size: int) -> None:
    """Give the file its blocks up front, keeping its size (what a resume goes by); Linux only, a hint:
    on ext4 a 1 GiB loopback download went from 1.27-1.60 to 2.32-2.41 GB/s, unfragmented."""
    if _fallocate is None:
        return
    try:  # never more than the free space: a failed fallocate may keep what it took
        disk = os.fstatvfs(fd)
        if size - os.fstat(fd).st_size > disk.f_bavail * disk.f_frsize:
            return  # the download itself meets ENOSPC if it ever gets that far
    except OSError:
        return
    _fallocate(fd, 1, 0, size)  # FALLOC_FL_KEEP_SIZE; EOPNOTSUPP and the like are ignored


@dataclass(frozen=True)
class _Slice:
    """The first ``length`` bytes of a pooled buffer (back to the pool once written and hashed)."""

    buffer: mmap.mmap
    length: int


#: What the writer and the hasher take: a full buffer, part of one, or a chunk as it came (bytes,
#: or a receive buffer lent by the network stream, see :mod:`.fastio.lent`).
_Data: TypeAlias = "mmap.mmap | _Slice | bytes | memoryview"


@contextlib.contextmanager
def _viewed(item: _Data) -> Iterator[memoryview]:
    """The bytes of ``item``, as a view released afterwards (a pooled mmap must not stay exported)."""
    if isinstance(item, _Slice):
        with memoryview(item.buffer) as whole, whole[: item.length] as data:
            yield data
    else:
        with memoryview(item) as data:
            yield data


def _pooled(item: object) -> mmap.mmap | None:
    """The pooled buffer behind ``item``, if any."""
    if isinstance(item, _Slice):
        return item.buffer
    return item if isinstance(item, mmap.mmap) else None


def _done_with(item: object, free: list[mmap.mmap]) -> None:
    """``item`` is written (and hashed): its buffer goes back to ``free``, or to the network stream."""
    if (buffer := _pooled(item)) is not None:
        free.append(buffer)  # list.append is atomic
    elif is_lent(item):
        give_back(item)


@dataclass(frozen=True)
class _Call:
    """Run ``function`` in a worker thread, after everything queued before it."""

    function: Callable[[], object]
    done: threading.Event


#: Queued for the hashing thread: read the file back up to the target (:meth:`_Partial._hash_up_to`).
_CATCH_UP: Final = object()


def write_all(fd: int, data: memoryview, offset: int | None = None) -> int:
    """Write all of ``data`` at ``offset`` (``None``: at the file position), finishing short writes."""
    done = 0
    while done < len(data):
        done += os.write(fd, data[done:]) if offset is None else os.pwrite(fd, data[done:], offset + done)
    return done


def _disk_full(error: BaseException | None) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class _Writer:
    """A worker thread (the writer, or the hashing thread) that takes items from a bounded queue.
    Errors are kept in :attr:`error` (the producer re-raises them); after one, or once cancelled, it
    keeps draining its queue so that the producer never blocks."""

    def __init__(self, name: str, handle: Callable[[object], None], size: int) -> None:
        self.handle = handle
        self.queue: queue.Queue[object] = queue.Queue(maxsize=size)
        self.error: BaseException | None = None
        self.cancelled = False
        self.stopping = False
        #: Called (each once) from the thread as soon as it takes an item (:meth:`offer`).
        self.waiters: list[Callable[[], None]] = []
        self.room = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> _Writer:
        self.thread.start()
        return self

    def put(self, item: object, *, block: bool, timeout: float | None = None) -> bool:
        """Queue ``item``; False when there is no room (not ``block``, or none before ``timeout``)."""
        try:
            self.queue.put(item, block=block, timeout=timeout)
        except queue.Full:
            return False
        return True

    def offer(self, attempt: Callable[[], bool], on_room: Callable[[], None]) -> bool:
        """``attempt()`` to queue without waiting; when it fails, ``on_room`` is called from the
        thread once it has taken an item (any number of producers may wait at once)."""
        with self.room:  # a failed attempt and its registration are one step for the wake-up
            if attempt():
                return True
            self.waiters.append(on_room)
            return False

    def call(self, function: Callable[[], object]) -> bool:
        """Run ``function`` in the thread after everything queued before it (not after an error or
        once cancelled), and wait for it; False when the thread stopped first."""
        done = threading.Event()
        self.queue.put(_Call(function, done))
        while not done.wait(0.5):  # never wait on a thread that stopped (an abort from elsewhere)
            if not self.thread.is_alive():
                return done.is_set()
        return True

    def stop(self, *, cancel: bool) -> None:
        """Stop the thread once it has handled what is queued (dropped, with ``cancel``), then drop
        the handler (a bound method: no cycle keeps the file and its buffers alive). Called again
        after an interruption, it finishes."""
        self.cancelled = self.cancelled or cancel
        if self.thread.ident is None:  # never started
            return
        if not self.stopping:
            self.queue.put(_STOP)
            self.stopping = True
        self.thread.join()
        self.handle = lambda item: None
        self.waiters = []

    def _run(self) -> None:
        get, task_done = self.queue.get, self.queue.task_done
        while True:
            item = get()
            try:
                with self.room:
                    waiters, self.waiters = self.waiters, []
                for wake in waiters:
                    wake()
                if item is _STOP:
                    return
                if isinstance(item, _Call):
                    try:
                        if self.error is None and not self.cancelled:
                            item.function()
                    finally:
                        item.done.set()
                elif self.error is None and not self.cancelled:
                    self.handle(item)
            except BaseException as exc:
                self.error = exc
            finally:
                task_done()


def _content_of(state: dict[str, Any]) -> Resumable:
    """What a state file (as :func:`~.journal.read_state` validated it) says about the content."""
    known = {name: state.get(name) for name in ("etag", "last_modified", "total", "content_type")}
    return Resumable(**known, digests=state["digests"], origin=state.get("origin") or API_ORIGIN)


def _tail(fd: int, end: int, start: int = 0) -> bytes:
    """The last bytes before ``end`` (at most the resume overlap, none before ``start``)."""
    size = min(OVERLAP, end - start)
    return os.pread(fd, size, end - size)


class _Partial:
    """What every partial file is (see the module docstring and :mod:`.journal`): :meth:`_handle`
    writes an item in the writer thread; subclasses say what an existing partial holds
    (:meth:`_open`) and what keeping one means (:meth:`_keep`)."""

    #: The writer thread's name (before the destination's) and the items it may lag behind.
    _THREAD = "openrouter-video-writer"
    _QUEUED = MAX_QUEUED_BATCHES

    def __init__(
        self,
        path: Path,
        *,
        overwrite: bool,
        source: str,
        sha256: bool = False,
        durable: bool = True,
        keep_partial: bool = True,
        partial_ttl: float | None = DEFAULT_PARTIAL_TTL,
        named_by_content: bool = False,
    ) -> None:
        self.path, self.overwrite, self.source = path, overwrite, source
        self.durable, self.keep_partial = durable, keep_partial
        #: The destination's suffix follows the content at the commit (see :func:`named_by_content`).
        self.named_by_content = named_by_content
        self.part_path, self.state_path = partial_paths(path)
        #: The partial file kept by :meth:`abort`, if any.
        self.kept_partial: Path | None = None
        #: The content being written (what the state file records), when known.
        self.content: Resumable | None = None
        #: Bytes of an earlier partial kept (0 when starting afresh).
        self.kept = 0
        self._user_sha256 = sha256
        #: The running digests and the bytes taken into them (always a prefix of the file); the
        #: prefix the hashing thread reads the file back up to (:meth:`_hash_up_to`).
        self._hashes: dict[str, Any] = {}
        self._hashed = self._hash_target = 0
        self._hasher: _Writer | None = None
        #: Buffers written (and hashed), free for reuse (taken last in, first out).
        self._free: list[mmap.mmap] = []
        self._closed = self._committed = False
        #: Held by the end (commit, abort and the like), so that a cancel arriving while the file is
        #: verified or committed waits for that to finish.
        self._ending = threading.RLock()
        if partial_ttl is not None:
            sweep_partials(path.parent, partial_ttl)
        self._writer = _Writer(f"{self._THREAD}:{path.name}", self._handle, self._QUEUED)
        self._lock = lock_partial(self.part_path, path)
        self._fd: int | None = self._lock.fd
        try:
            remove(self.state_path.with_name(self.state_path.name + ".tmp"))
            self._open(self._lock.fd, os.fstat(self._lock.fd).st_size)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, fd: int, size: int) -> None:
        """Take over the partial kept there (``size`` bytes) if it can be resumed, else empty it; get
        ready to write."""
        raise NotImplementedError

    def _handle(self, item: object) -> None:
        """(Writer thread) Write ``item``."""
        raise NotImplementedError

    def flush(self) -> None:
        """Wait until everything queued is written."""
        self._writer.queue.join()
        if self.error is not None:
            raise self.error

    @property
    def error(self) -> BaseException | None:
        """What failed in the writer thread, or else in the hashing thread."""
        return self._writer.error or (self._hasher.error if self._hasher is not None else None)

    def _failure(self) -> BaseException:
        """:attr:`error`, to be raised."""
        assert self.error is not None
        return self.error

    def _save_state(self, *, sync: bool = False, **extra: Any) -> None:
        """Record :attr:`content` (:func:`~.journal.content_state` with ``extra``) in the state file;
        with ``sync`` (and ``durable``) flush the file's data first, so that the state never vouches
        for bytes not on disk."""
        fd, content = self._fd, self.content
        assert fd is not None and content is not None
        if sync and self.durable:
            _fdatasync(fd)
        write_state(self.state_path, content_state(self.source, content, **extra))

    def _set_hashes(self, algorithms: Iterable[str]) -> None:
        names = set(algorithms) | ({"sha256"} if self._user_sha256 else set())
        self._hashes = {name: hashlib.new(name) for name in sorted(names)}
        self._hashed = self._hash_target = 0

    def _hashing(self) -> _Writer:
        """The hashing thread, started on first use."""
        if self._hasher is None:
            self._hasher = _Writer(f"{self._writer.thread.name}:hash", self._hash, MAX_QUEUED_HASHES).start()
        return self._hasher

    def _hash_up_to(self, target: int) -> None:
        """Have the hashing thread read the file back up to ``target``, without waiting for it: when
        its queue is full, a catch-up still queued there reads up to the newest target."""
        self._hash_target = target
        with contextlib.suppress(queue.Full):
            self._hashing().queue.put_nowait(_CATCH_UP)

    def _hash(self, item: object) -> None:
        if item is _CATCH_UP:
            fd, hasher = self._fd, self._hasher
            assert fd is not None and hasher is not None
            while self._hashed < (target := self._hash_target) and not hasher.cancelled:
                data = os.pread(fd, min(BATCH_BYTES, target - self._hashed), self._hashed)
                if not data:
                    raise IncompleteDownloadError(
                        f"the partial file ends at byte {self._hashed}, before {target}",
                        received=self._hashed,
                        expected=target,
                    )
                for h in self._hashes.values():
                    h.update(data)
                self._hashed += len(data)
            return
        assert isinstance(item, (mmap.mmap, _Slice, bytes, memoryview))
        with _viewed(item) as view:
            for h in self._hashes.values():
                h.update(view)
            self._hashed += len(view)
        _done_with(item, self._free)

    def _settle_hashes(self) -> None:
        """Wait until the hashing thread has taken in everything handed to it before (or failed)."""
        if (hasher := self._hasher) is not None:
            hasher.call(lambda: None)
            if hasher.error is not None:
                raise hasher.error

    def _digests(self) -> dict[str, bytes]:
        return {name: h.copy().digest() for name, h in self._hashes.items()}

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of what was written, when asked for (complete once the whole file is)."""
        h = self._hashes.get("sha256") if self._user_sha256 else None
        return h.hexdigest() if h is not None else None

    def _stop_threads(self, *, cancel: bool) -> None:
        """Stop the writer (dropping what is queued: ``cancel``), then the hashing thread."""
        self._closed = True
        self._writer.stop(cancel=cancel)
        if (hasher := self._hasher) is not None:
            hasher.stop(cancel=cancel or self._writer.error is not None)

    def _halt(self, *, cancel: bool) -> None:
        """:meth:`_stop_threads`, finished even when interrupted (Ctrl-C): the interruption is raised
        once every thread has stopped, so that the file is never closed under them."""
        pending: BaseException | None = None
        while True:
            try:
                self._stop_threads(cancel=cancel)
                break
            except BaseException as exc:
                pending = pending or exc
        if pending is not None:
            raise pending

    def _check_complete(self, expected: int | None) -> None:
        """Raise :class:`IncompleteDownloadError` unless every byte is written."""

    def _unlock(self) -> None:
        self._lock.release()
        self._fd = None

    def commit(self, expected: int | None = None) -> None:
        """Wait for the writer, check that every byte (``expected`` of them, when given) is written,
        fsync (``durable``), move the file into place and fsync its directory; the state file goes."""
        with self._ending:
            self.flush()
            self._halt(cancel=False)
            if self.error is not None:
                raise self._failure()
            self._check_complete(expected)
            fd = self._fd
            assert fd is not None
            if self.durable:
                os.fsync(fd)
            if self.named_by_content:
                self.path = named_by_content(self.path, fd)
            place(self.part_path, self.path, overwrite=self.overwrite)
            self._committed = True
            remove(self.state_path)
            self._unlock()
            if self.durable:
                fsync_directory(self.path.parent)

    def _keep(self) -> bool:
        """(Once the threads have stopped) Write the state of a partial worth keeping; False (the
        partial goes) when it is not."""
        raise NotImplementedError

    def _close(self, *, cancel: bool, keep: Callable[[], bool] | None) -> bool:
        """Stop the threads (dropping what is queued: ``cancel``) and unlock: the partial and its
        state file are kept when ``keep()`` says so, else deleted. A Ctrl-C meanwhile is raised once
        this is done. False when nothing was kept (or it was closed already)."""
        with self._ending:
            if self._committed or self._fd is None:
                return False
            kept = False
            try:
                self._halt(cancel=cancel)
            finally:
                try:
                    if keep is not None:
                        with contextlib.suppress(OSError):
                            kept = keep()
                finally:
                    self._unlock()
                    if kept:
                        self.kept_partial = self.part_path
                    else:
                        remove(self.part_path, self.state_path)
            return kept

    def abort(self, *, keep: bool | None = None) -> Path | None:
        """Stop writing and close the partial file: keep it (and its state) for the next call, or
        delete both (``keep``, default :attr:`keep_partial`). Returns the partial kept, if any. A
        partial with nothing to resume, or after a write error, is always deleted."""
        keep = self.keep_partial if keep is None else keep
        with self._ending:
            if keep and self.error is None and not self._closed and self._fd is not None:
                try:
                    self.flush()  # what was accepted is kept too
                except BaseException:
                    keep = False
            return self.part_path if self._close(cancel=not keep, keep=self._keep if keep else None) else None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        # A body that failed its digest twice is not worth resuming: its partial goes.
        self.abort(keep=False if isinstance(exc, IntegrityError) else None)
        if exc is not None and self.kept_partial is not None:
            with contextlib.suppress(AttributeError):
                exc.partial_path = self.kept_partial  # type: ignore[attr-defined]


class PartialFile(_Partial):
    """The partial file of one stream: written in the background, resumable, committed atomically.

    If an earlier call kept a partial of the same ``source``, :attr:`kept` bytes, :attr:`tail` and
    :attr:`resumable` describe it and writing continues after them. The producer (the network loop)
    copies small chunks into a few buffers of :data:`BATCH_BYTES`, reused for a whole download
    (fresh buffers per chunk cost a page fault per 4 KiB: about a second of CPU per GiB), that go
    through a bounded queue to the writer thread and on to the hashing thread, so that disk writes
    and hashing overlap with network reads. :meth:`add` never blocks.
    """

    #: What the kept partial says about its content, when there is one to resume.
    resumable: Resumable | None = None
    #: The last bytes of the kept partial (at most the resume overlap).
    tail = b""

    def _open(self, fd: int, size: int) -> None:
        state = read_state(self.state_path) or {}
        total = state.get("total")
        if state.get("source") == self.source and 0 < size <= (size if total is None else total):
            self.resumable = self.content = _content_of(state)
            self.kept, self.tail = size, _tail(fd, size)
            if total is not None:
                _reserve(fd, total)
        else:
            os.ftruncate(fd, 0)
            remove(self.state_path)
        self._set_hashes(self.content.digests if self.content is not None else ())
        os.lseek(fd, self.kept, os.SEEK_SET)
        #: Bytes accepted so far (kept ones included).
        self.size = self._written = self.kept
        self._unsynced = 0
        #: The buffer being filled (``_fill`` bytes of it) and full ones not yet queued.
        self._buffer: mmap.mmap | None = None
        self._fill, self._due = 0, 0.0
        self._full: list[_Data | Resumable] = []
        if self.kept and self._hashes:
            self._hash_up_to(self.kept)  # the bytes kept, read back before anything new
        self._writer.start()

    def add(self, chunk: bytes) -> bool:
        """Append ``chunk``; False when a full buffer is waiting for the writer (call :meth:`flush`
        or :meth:`try_flush` before the next chunk)."""
        self.size += len(chunk)
        if (type(chunk) is bytes and len(chunk) >= DIRECT_BYTES) or is_lent(chunk):
            self._seal()
            self._full.append(chunk)  # written as it is: no copy (a lent one is given back after)
            return self._send(block=False)
        data = memoryview(chunk)
        while data:
            if self._buffer is None:
                # An mmap's pages are faulted in as first written (a bytearray is zero-filled up
                # front: half a millisecond even for a 1 KiB video).
                self._buffer = self._free.pop() if self._free else mmap.mmap(-1, BATCH_BYTES)
                self._fill = 0
            taken = min(BATCH_BYTES - self._fill, len(data))
            self._buffer[self._fill : self._fill + taken] = data[:taken]
            self._fill += taken
            data = data[taken:]
            if self._fill == BATCH_BYTES:
                self._full.append(self._buffer)
                self._buffer, self._due = None, time.monotonic() + FLUSH_AFTER
        if self._fill and time.monotonic() >= self._due:  # the first bytes, or a slow stream
            self._seal()
        return self._send(block=False)

    def wait_for_room(self) -> None:
        """After :meth:`add` returned False: hand the full buffers over, waiting while the writer lags."""
        self._send(block=True)

    def flush(self) -> None:
        """Hand everything accepted (the partly filled buffer too) over, waiting while the writer lags."""
        self._seal()
        self._send(block=True)

    def _seal(self) -> None:
        """Queue the partly filled buffer as it is (the writer hands it back once written)."""
        if self._buffer is not None and self._fill:
            self._full.append(_Slice(self._buffer, self._fill))
            self._buffer, self._fill, self._due = None, 0, time.monotonic() + FLUSH_AFTER

    def try_flush(self, on_room: Callable[[], None]) -> bool:
        """Hand the current batch to the writer if it has room; else arrange for ``on_room`` to be
        called from the writer thread once it has, and return False (the async client's wait)."""
        return self._writer.offer(lambda: self._send(block=False), on_room)

    def reset(self, content: Resumable) -> None:
        """Discard everything: ``content`` starts again from byte 0 (recorded in the state file)."""
        self._free.extend(b for b in map(_pooled, self._full) if b is not None)
        self._full = [content]  # a Resumable queued: the writer starts the file again
        self._fill, self.size, self._due = 0, 0, 0.0
        self._send(block=True)

    def check(self) -> Verdict:
        """Wait until everything accepted is written, then walk its boxes and read its digests."""
        self.flush()
        result: list[Verdict] = []

        def verdict() -> None:
            fd = self._fd
            assert fd is not None
            self._settle_hashes()
            boxes = walk_boxes(lambda offset, size: os.pread(fd, size, offset), self._written)
            result.append(Verdict(boxes, self._digests()))

        if self._closed or not self._writer.call(verdict):
            raise IncompleteDownloadError("the partial file was closed", received=self._written)
        if self.error is not None:
            raise self._failure()
        return result[0]

    def _failure(self) -> BaseException:
        """The error; for a full disk, one that says how much room the download needs."""
        error = super()._failure()
        if not _disk_full(error) or not isinstance(error, OSError):
            return error
        total = self.content.total if self.content is not None else None
        needed = f"{total - self._written:,} more bytes are needed" if isinstance(total, int) else "more room"
        return OSError(
            error.errno,
            f"{error.strerror or 'No space left on device'} writing {self.path.name}: "
            f"{self._written:,} bytes written and kept, {needed}; free some space and run the same "
            "download again to resume",
        )

    def _send(self, *, block: bool) -> bool:
        """Queue the full buffers; False if the writer has no room for one of them yet."""
        while self._full:
            if self.error is not None:
                raise self._failure()
            if not self._writer.put(self._full[0], block=block):
                return False
            del self._full[0]
        return True

    def _handle(self, item: object) -> None:
        fd = self._fd
        assert fd is not None
        if isinstance(item, Resumable):  # reset: the file starts again
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            if isinstance(total := item.total, int) and total > 0:
                _reserve(fd, total)
            self._written = self._unsynced = 0
            self._settle_hashes()
            self._set_hashes(item.digests)
            self.content = item
            self._save_state(kept=0)
            return
        assert isinstance(item, (mmap.mmap, _Slice, bytes, memoryview))
        with _viewed(item) as data:
            written = write_all(fd, data)
        if self._hashes:
            self._hashing().queue.put(item)  # it hands the buffer back once hashed
        else:
            _done_with(item, self._free)
        self._written += written
        if self.durable:
            self._unsynced += written
            if self._unsynced >= SYNC_EVERY:
                if _sync_file_range is not None:  # SYNC_FILE_RANGE_WRITE; a failure costs the fsync more
                    _sync_file_range(fd, self._written - self._unsynced, self._unsynced, 2)
                else:
                    _fdatasync(fd)
                self._unsynced = 0

    def _check_complete(self, expected: int | None) -> None:
        if self._written != self.size or (expected is not None and self._written != expected):
            raise IncompleteDownloadError(
                f"wrote {self._written} bytes, expected {expected if expected is not None else self.size}",
                received=self._written,
                expected=expected,
            )

    def _keep(self) -> bool:
        # After a write error the partial goes: it holds space the next attempt needs, and may end
        # with bytes the writer could not account for. A full disk (or quota) is the exception: what
        # was written is sound, and the next run goes on from there once there is room.
        full = _disk_full(self.error)
        if not self._written or self.content is None or not (self.error is None or full):
            return False
        if full:  # a write that failed halfway may have left bytes past those accounted for
            os.truncate(self.part_path, self._written)
        self._save_state(kept=self._written)
        return True


def named_by_content(path: Path, fd: int) -> Path:
    """``path`` with the suffix of what the file holds (a WebM or QuickTime body is not saved under
    an ``.mp4`` name): for destinations this package named itself, inside a directory."""
    suffix = container_suffix(os.pread(fd, 64, 0))
    return path if path.suffix == suffix else path.with_suffix(suffix)


def place(part: Path, path: Path, *, overwrite: bool) -> None:
    """Move the finished partial ``part`` to ``path``; never over an existing file unless ``overwrite``."""
    if overwrite:
        os.replace(part, path)
        return
    try:
        os.link(part, path)  # fails if the destination appeared meanwhile
    except FileExistsError:
        raise FileExistsError(f"destination exists (pass overwrite=True to replace it): {path}") from None
    except OSError:
        if path.exists():
            raise
        os.replace(part, path)  # no hard links on this filesystem
        return
    os.unlink(part)


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
