"""Destinations, and the partial file a download is written to and committed from."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeAlias

from ..engine.core import OVERLAP, Resumable, Verdict
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
    """Create ``directory`` (and its parents) if missing, as ``wget -P`` and ``aria2c -d`` do.

    Raises :class:`NotADirectoryError` naming the file in the way, or :class:`PermissionError`
    naming the directory that could not be created.
    """
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
    """The file to write: ``dest`` itself, or :func:`safe_filename` inside ``dest`` if it names a
    directory (:func:`is_directory_path`). The directory is created if missing
    (:func:`ensure_directory`). Raises :class:`FileExistsError` (exists, no ``overwrite``),
    :class:`NotADirectoryError` or :class:`PermissionError` before any request is made.
    """
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
#: Chunks are copied into reused buffers of this size, each handed to the writer when full (one queue
#: operation, one ``write`` and one hash update per buffer, whatever the chunk sizes).
BATCH_BYTES: Final = 1024 * 1024
#: A chunk of at least this size that arrives as ``bytes`` (immutable, so nobody can change it
#: afterwards) is queued for the writer as it is instead of being copied into a buffer: one copy
#: fewer per byte on the network thread, which is the bottleneck of many downloads on one event loop
#: (32 x 16 MiB over HTTP: 0.78x to 0.82x of 32 curls with 256 KiB here, 0.82x to 0.85x with 64 KiB).
DIRECT_BYTES: Final = 64 * 1024
#: Full buffers (or lent chunks) the writer may lag behind: with the one being filled and the one
#: being written, at most about 5 MiB in flight. (4 measured the same speed over loopback HTTP, with
#: a peak RSS 1 MiB higher: once lent receive buffers cycle, every buffer ever in flight stays mapped.)
MAX_QUEUED_BATCHES: Final = 3
#: Written buffers the hashing thread may lag behind the writer.
MAX_QUEUED_HASHES: Final = 2
#: With ``durable=True`` the writer flushes the file to disk every this many bytes, so that the
#: final fsync before the rename has little left to do.
SYNC_EVERY: Final = 8 * 1024 * 1024
_fdatasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _libc_function(name: str, *argtypes: Any) -> Callable[..., int] | None:
    """A Linux libc function Python has no binding for (``None`` elsewhere, or if it is missing)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


def _start_writeback_linux() -> Callable[[int, int, int], None] | None:
    """``sync_file_range(fd, offset, size, SYNC_FILE_RANGE_WRITE)``: start writing a range to disk
    without waiting for it (Linux only). ``None`` elsewhere."""
    import ctypes

    function = _libc_function("sync_file_range", ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    if function is None:
        return None

    def start(fd: int, offset: int, size: int) -> None:
        function(fd, offset, size, 2)  # SYNC_FILE_RANGE_WRITE; a failure only costs the final fsync more

    return start


#: Starts writeback of a range without waiting (so that the fsync before the commit finds little
#: left to do, and the writer thread never stalls on the disk); else a plain fdatasync.
_start_writeback = _start_writeback_linux()


def _reserve_linux() -> Callable[[int, int], None] | None:
    """``fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size)``: give the file its blocks up front without
    changing its size (Linux only; Python's ``posix_fallocate`` changes it). ``None`` elsewhere."""
    import ctypes

    function = _libc_function("fallocate", ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    if function is None:
        return None

    def reserve(fd: int, size: int) -> None:
        try:  # never more than the free space: a failed fallocate may keep what it took
            disk = os.fstatvfs(fd)
            if size - os.fstat(fd).st_size > disk.f_bavail * disk.f_frsize:
                return  # the download itself meets ENOSPC if it ever gets that far
        except OSError:
            return
        function(fd, 1, 0, size)  # FALLOC_FL_KEEP_SIZE; a hint: EOPNOTSUPP and the like are ignored

    return reserve


#: Reserves the blocks of a file whose size is known before its bytes are written. On ext4 a 1 GiB
#: download over loopback HTTP went from 1.27-1.60 GB/s to 2.32-2.41 GB/s with it (two sets of three
#: runs; the blocks are allocated once instead of by every write's delayed allocation), and the file
#: is not fragmented.
#: The size stays what was written, which is what a resume goes by.
_reserve = _reserve_linux()


def _new_buffer() -> mmap.mmap:
    """A buffer of :data:`BATCH_BYTES` whose pages are only faulted in as they are first written
    (``bytearray(n)`` zero-fills all of it up front: half a millisecond even for a 1 KiB video)."""
    return mmap.mmap(-1, BATCH_BYTES)


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
    """The pooled buffer behind ``item``, if any (to be handed back for reuse)."""
    if isinstance(item, _Slice):
        return item.buffer
    return item if isinstance(item, mmap.mmap) else None


def _done_with(item: object, free: list[mmap.mmap]) -> None:
    """``item`` is written (and hashed): its buffer goes back for reuse, to ``free`` if it is one
    of ours, to the network stream if it was lent."""
    if (buffer := _pooled(item)) is not None:
        free.append(buffer)  # list.append is atomic
    elif is_lent(item):
        give_back(item)


@dataclass(frozen=True)
class _Reset:
    """Discard everything; the content (described by ``state``) starts again from byte 0."""

    state: dict[str, Any]
    algorithms: frozenset[str]


@dataclass(frozen=True)
class _Call:
    """Run ``function`` in the writer thread, after everything queued before it."""

    function: Callable[[], object]
    done: threading.Event


def write_all(fd: int, data: memoryview) -> int:
    """Write all of ``data`` at the file position, finishing short writes."""
    size = len(data)
    done = os.write(fd, data)
    while done < size:
        done += os.write(fd, data[done:])
    return size


def _ignore(item: object) -> None:
    pass


def _disk_full(error: BaseException | None) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class _Writer:
    """The writer thread: takes items from a bounded queue and writes (and hashes) them.

    Errors are kept in :attr:`error` (the producer re-raises them); after an error, or once
    cancelled, it keeps draining its queue so that the producer never blocks.
    """

    def __init__(self, name: str, handle: Callable[[object], None], size: int = MAX_QUEUED_BATCHES) -> None:
        self.handle = handle
        self.queue: queue.Queue[object] = queue.Queue(maxsize=size)
        self.error: BaseException | None = None
        self.cancelled = False
        #: Called (once) from the writer thread as soon as it takes an item off the queue.
        self.on_room: Callable[[], None] | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def release(self) -> None:
        """(Once the thread ended) Drop the handler, a bound method of the file: no reference cycle
        keeps the file and its buffers alive until the cyclic collector runs."""
        self.handle = _ignore
        self.on_room = None

    def _run(self) -> None:
        get = self.queue.get
        while (item := get()) is not _STOP:
            if (on_room := self.on_room) is not None:
                self.on_room = None
                on_room()
            if isinstance(item, _Call):
                try:
                    if self.error is None and not self.cancelled:
                        item.function()
                except BaseException as exc:
                    self.error = exc
                finally:
                    item.done.set()
                continue
            if self.error is not None or self.cancelled:
                continue
            try:
                self.handle(item)
            except BaseException as exc:
                self.error = exc


class PartialFile:
    """The partial file of one destination: written in the background, resumable, committed atomically.

    The bytes go to ``.<name>.part`` beside the destination ``path`` (see :mod:`._journal`), locked
    for the duration. If an earlier call kept a partial of the same ``source``, :attr:`kept` bytes
    and :attr:`resumable` describe it and writing continues after them.

    The producer (the network loop) only copies small chunks into a buffer of :data:`BATCH_BYTES`
    (chunks of :data:`DIRECT_BYTES` or more are queued as they are). Full buffers go through a
    bounded queue to a writer thread, which writes them (and hashes them, when
    a digest or ``sha256`` is wanted) and hands them back for reuse, so that disk writes and hashing
    overlap with network reads, memory stays bounded to a few buffers, and the same few pages are
    reused for a whole download (fresh buffers per chunk cost a page fault per 4 KiB: about a second
    of CPU per GiB). :meth:`add` never blocks (the async
    client uses it, and waits off the event loop with :meth:`flush` only when the disk is behind).
    :meth:`reset` discards everything: new content starts from byte 0.

    :meth:`check` verifies what was written so far (box walk, digests); :meth:`commit` checks the
    size, fsyncs (``durable``), moves the file into place and fsyncs the directory. On failure
    (:meth:`abort`, also called on any exception when used as a context manager, KeyboardInterrupt
    included) the partial and its state file are kept for the next call (``keep_partial``) or
    deleted; the destination is untouched either way.
    """

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
        self.path = path
        self.overwrite = overwrite
        self.source = source
        self.durable = durable
        self.keep_partial = keep_partial
        #: The destination's suffix follows the content at the commit (see :func:`named_by_content`).
        self.named_by_content = named_by_content
        self.part_path, self.state_path = partial_paths(path)
        #: The partial file kept by :meth:`abort`, if any.
        self.kept_partial: Path | None = None
        if partial_ttl is not None:
            sweep_partials(path.parent, partial_ttl)
        self._lock = lock_partial(self.part_path, path)
        self._fd: int | None = self._lock.fd
        self._user_sha256 = sha256
        self._hashes: dict[str, Any] = {}
        self._state: dict[str, Any] | None = None
        self._unsynced = 0
        self._committed = False
        self._running = False
        try:
            remove(self.state_path.with_name(self.state_path.name + ".tmp"))
            #: What the kept partial says about its content, when there is one to resume.
            self.resumable: Resumable | None = None
            #: Bytes of an earlier partial kept (0 when starting afresh).
            self.kept = 0
            #: The last bytes of the kept partial (at most the resume overlap).
            self.tail = b""
            self._open_existing()
        except BaseException:
            self._lock.release()
            raise
        #: Bytes accepted so far (kept ones included).
        self.size = self.kept
        self._written = self.kept
        #: The buffer being filled (``_fill`` bytes of it), full ones not yet queued, and free ones
        #: (taken last in, first out, so that the same few stay warm).
        self._buffer: mmap.mmap | None = None
        self._fill = 0
        self._full: list[_Data] = []
        self._free: list[mmap.mmap] = []
        self._writer = _Writer(f"openrouter-video-writer:{path.name}", self._handle)
        #: Hashes the written buffers on a thread of its own (started on first use), so that
        #: hashing overlaps with both the disk writes and the network reads.
        self._hasher: _Writer | None = None
        self._running = True
        if self.kept and self._hashes:
            self._queue_call(self._hash_kept)

    def _open_existing(self) -> None:
        assert self._fd is not None
        state = read_state(self.state_path)
        size = os.fstat(self._fd).st_size
        total = state.get("total") if state else None
        if (
            state is not None
            and state.get("source") == self.source
            and size > 0
            and (total is None or (isinstance(total, int) and size <= total))
        ):
            digests = state["digests"]
            self.resumable = Resumable(
                etag=_str(state.get("etag")),
                last_modified=_str(state.get("last_modified")),
                total=total,
                content_type=_str(state.get("content_type")),
                digests=digests,
            )
            self._state = state
            self.kept = size
            self.tail = os.pread(self._fd, min(OVERLAP, size), size - min(OVERLAP, size))
            self._set_hashes(frozenset(digests))
            if isinstance(total, int) and _reserve is not None:
                _reserve(self._fd, total)
        else:
            os.ftruncate(self._fd, 0)
            remove(self.state_path)
            self._set_hashes(frozenset())
        os.lseek(self._fd, self.kept, os.SEEK_SET)

    def _set_hashes(self, algorithms: frozenset[str]) -> None:
        names = set(algorithms) | ({"sha256"} if self._user_sha256 else set())
        self._hashes = {name: hashlib.new(name) for name in sorted(names)}

    # -- producer side (the network loop) --------------------------------------------------------------
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
                self._buffer = self._free.pop() if self._free else _new_buffer()
                self._fill = 0
            taken = min(BATCH_BYTES - self._fill, len(data))
            self._buffer[self._fill : self._fill + taken] = data[:taken]
            self._fill += taken
            data = data[taken:]
            if self._fill == BATCH_BYTES:
                self._full.append(self._buffer)
                self._buffer = None
        return self._send(block=False)

    def wait_for_room(self) -> None:
        """After :meth:`add` returned False: hand the full buffers to the writer, waiting while it
        is behind."""
        self._send(block=True)

    def flush(self) -> None:
        """Hand everything accepted to the writer (a copy of the partly filled buffer too), waiting
        while it is behind."""
        self._seal()
        self._send(block=True)

    def _seal(self) -> None:
        """Queue the partly filled buffer as it is (the writer hands it back once written)."""
        if self._buffer is not None and self._fill:
            self._full.append(_Slice(self._buffer, self._fill))
            self._buffer = None
            self._fill = 0

    def try_flush(self, on_room: Callable[[], None]) -> bool:
        """Hand the current batch to the writer if it has room; else arrange for ``on_room`` to be
        called from the writer thread once it has, and return False (the async client's wait)."""
        self._writer.on_room = on_room
        if self._send(block=False):
            self._writer.on_room = None
            return True
        return False

    def reset(self, content: Resumable) -> None:
        """Discard everything: ``content`` starts again from byte 0 (recorded in the state file)."""
        self._free.extend(b for b in map(_pooled, self._full) if b is not None)
        self._full.clear()
        self._fill, self.size = 0, 0
        state = content_state(self.source, content, kept=0)
        self._put(_Reset(state, frozenset(content.digests)), block=True)

    def check(self) -> Verdict:
        """Wait until everything accepted is written, then walk its boxes and read its digests."""
        self.flush()
        result: list[Verdict] = []

        def verdict() -> None:
            fd = self._fd
            assert fd is not None
            self._settle_hashes()
            boxes = walk_boxes(lambda offset, size: os.pread(fd, size, offset), self._written)
            result.append(Verdict(boxes, {name: h.copy().digest() for name, h in self._hashes.items()}))

        self._queue_call(verdict)
        if self._writer.error is not None:
            raise self._writer_error()
        return result[0]

    def _queue_call(self, function: Callable[[], object]) -> None:
        if not self._running:
            raise IncompleteDownloadError("the partial file was closed", received=self._written)
        done = threading.Event()
        self._put(_Call(function, done), block=True)
        while not done.wait(0.5):  # never wait on a writer that stopped (an abort from elsewhere)
            if not self._writer.thread.is_alive() and not done.is_set():
                raise IncompleteDownloadError("the partial file was closed", received=self._written)

    def _writer_error(self) -> BaseException:
        """The writer's error; for a full disk, one that says how much room the download needs."""
        error = self._writer.error
        assert error is not None
        if not _disk_full(error) or not isinstance(error, OSError):
            return error
        total = self._state.get("total") if self._state is not None else None
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
            if not self._put(self._full[0], block=block):
                return False
            del self._full[0]
        return True

    def _put(self, item: object, *, block: bool) -> bool:
        if self._writer.error is not None:
            raise self._writer_error()
        try:
            self._writer.queue.put(item, block=block)
        except queue.Full:
            return False
        return True

    # -- the writer thread ---------------------------------------------------------------------------
    def _handle(self, item: object) -> None:
        fd = self._fd
        assert fd is not None
        if isinstance(item, _Reset):
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            if isinstance(total := item.state.get("total"), int) and total > 0 and _reserve is not None:
                _reserve(fd, total)
            self._written = self._unsynced = 0
            self._settle_hashes()
            self._set_hashes(item.algorithms)
            self._state = item.state
            write_state(self.state_path, item.state)
            return
        assert isinstance(item, (mmap.mmap, _Slice, bytes, memoryview))
        with _viewed(item) as data:
            written = write_all(fd, data)
        if self._hashes:
            if self._hasher is None:
                self._hasher = _Writer(f"{self._writer.thread.name}:hash", self._hash, MAX_QUEUED_HASHES)
            self._hasher.queue.put(item)  # it hands the buffer back once hashed
        else:
            _done_with(item, self._free)
        self._written += written
        if self.durable:
            self._unsynced += written
            if self._unsynced >= SYNC_EVERY:
                if _start_writeback is not None:
                    _start_writeback(fd, self._written - self._unsynced, self._unsynced)
                else:
                    _fdatasync(fd)
                self._unsynced = 0

    # -- the hashing thread ----------------------------------------------------------------------------
    def _hash(self, item: object) -> None:
        assert isinstance(item, (mmap.mmap, _Slice, bytes, memoryview))
        with _viewed(item) as data:
            for h in self._hashes.values():
                h.update(data)
        _done_with(item, self._free)

    def _settle_hashes(self) -> None:
        """(Writer thread) Wait until every written buffer is hashed: before the hashes are read
        or replaced."""
        hasher = self._hasher
        if hasher is None:
            return
        done = threading.Event()
        hasher.queue.put(_Call(lambda: None, done))
        done.wait()
        if hasher.error is not None:
            raise hasher.error

    def _hash_kept(self) -> None:
        """Hash the bytes kept by an earlier call (before anything new is written)."""
        fd = self._fd
        assert fd is not None
        offset = 0
        while offset < self.kept:
            data = os.pread(fd, min(BATCH_BYTES, self.kept - offset), offset)
            if not data:
                break
            for h in self._hashes.values():
                h.update(data)
            offset += len(data)

    def _stop(self, *, cancel: bool) -> None:
        if not self._running:
            return
        self._running = False
        self._writer.cancelled = cancel
        self._writer.queue.put(_STOP)
        self._writer.thread.join()
        self._writer.release()
        if (hasher := self._hasher) is not None:
            hasher.cancelled = cancel or self._writer.error is not None
            hasher.queue.put(_STOP)
            hasher.thread.join()
            hasher.release()
            if hasher.error is not None and self._writer.error is None:
                self._writer.error = hasher.error

    # -- completion ------------------------------------------------------------------------------------
    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of what was written, when asked for (complete after :meth:`commit`)."""
        h = self._hashes.get("sha256") if self._user_sha256 else None
        return h.hexdigest() if h is not None else None

    def commit(self, expected: int | None) -> None:
        """Wait for the writer, check the size against ``expected``, fsync (``durable``), move the
        file into place and fsync its directory."""
        self.flush()
        self._stop(cancel=False)
        if self._writer.error is not None:
            raise self._writer_error()
        fd = self._fd
        assert fd is not None
        if self._written != self.size or (expected is not None and self._written != expected):
            raise IncompleteDownloadError(
                f"wrote {self._written} bytes, expected {expected if expected is not None else self.size}",
                received=self._written,
                expected=expected,
            )
        if self.durable:
            os.fsync(fd)
        if self.named_by_content:
            self.path = named_by_content(self.path, fd)
        place(self.part_path, self.path, overwrite=self.overwrite)
        self._committed = True
        remove(self.state_path)
        self._lock.release()
        self._fd = None
        if self.durable:
            fsync_directory(self.path.parent)

    def abort(self, *, keep: bool | None = None) -> None:
        """Stop the writer and close the partial file: keep it (and its state) for the next call, or
        delete both (``keep``, default :attr:`keep_partial`). A partial with no byte or no state,
        or after a write error, is always deleted."""
        if self._committed or self._fd is None:
            return
        keep = self.keep_partial if keep is None else keep
        if keep and self._writer.error is None and self._running:
            try:
                self.flush()  # what was accepted is kept too
            except BaseException:
                keep = False
        self._stop(cancel=not keep)
        # After a write error (a full disk, a file size limit) the partial goes: it holds space the
        # next attempt needs, and may end with bytes the writer could not account for.
        # A full disk (or quota) is the exception: what was written is sound, and the next run goes
        # on from there once there is room.
        full = _disk_full(self._writer.error)
        keep = keep and self._written > 0 and self._state is not None and (self._writer.error is None or full)
        if keep:
            try:
                assert self._state is not None
                if full:  # a write that failed halfway may have left bytes past those accounted for
                    os.truncate(self.part_path, self._written)
                write_state(self.state_path, {**self._state, "kept": self._written})
            except OSError:
                keep = False
        self._lock.release()
        self._fd = None
        if keep:
            self.kept_partial = self.part_path
        else:
            remove(self.part_path, self.state_path)

    def __enter__(self) -> PartialFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After a successful commit there is nothing left to do. A body that failed its digest
        # twice is not worth resuming: its partial goes.
        self.abort(keep=False if isinstance(exc, IntegrityError) else None)
        if exc is not None and self.kept_partial is not None:
            try:
                exc.partial_path = self.kept_partial  # type: ignore[attr-defined]
            except AttributeError:
                pass


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
