"""Destinations and the atomic temporary file a download is written to."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import secrets
import threading
from pathlib import Path
from typing import BinaryIO, Final

from .errors import IncompleteDownloadError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_MAX_STEM = 120


def safe_filename(job_id: str, index: int = 0) -> str:
    """``<job_id>.mp4`` (``<job_id>-<index>.mp4`` when index > 0), with the job id made safe.

    Anything but ASCII letters, digits, ``.``, ``_`` and ``-`` becomes ``_``; runs of dots and
    leading dots are removed, so no separator, ``..`` or hidden name survives; the stem is at most
    120 characters. When the id had to change, 8 hex digits of its SHA-256 are appended so that
    different ids still get different names.
    """
    stem = _DOTS.sub(".", _UNSAFE.sub("_", job_id)).lstrip(".")
    if stem != job_id or len(stem) > _MAX_STEM or not stem:
        digest = hashlib.sha256(job_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[: _MAX_STEM - 9]}-{digest}" if stem else digest
    suffix = ".mp4" if index == 0 else f"-{index}.mp4"
    return stem + suffix


def resolve_destination(dest: str | os.PathLike[str], job_id: str, index: int, overwrite: bool) -> Path:
    """The file to write: ``dest`` itself, or :func:`safe_filename` inside ``dest`` if it is a
    directory. Raises :class:`FileExistsError` (exists, no ``overwrite``) or
    :class:`FileNotFoundError` (its directory is missing) before any request is made.
    """
    path = Path(dest)
    if path.is_dir():
        path = path / safe_filename(job_id, index)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"destination directory does not exist: {path.parent}")
    if path.is_dir():
        raise IsADirectoryError(f"destination is a directory: {path}")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"destination exists (pass overwrite=True to replace it): {path}")
    return path


_STOP: Final = object()
#: Chunks the writer thread may lag behind (about 8 MiB with httpx's 64 KiB chunks).
MAX_QUEUED_CHUNKS: Final = 128


class AtomicFile:
    """A temporary file beside ``path`` that replaces ``path`` only once complete.

    Writing happens on a writer thread fed through a bounded queue, so that disk writes and SHA-256
    hashing overlap with reading the network instead of taking turns with it, and memory stays
    bounded (at most :data:`MAX_QUEUED_CHUNKS` chunks in flight). :meth:`offer` never blocks (the
    async client uses it and hops to a thread only when the writer is behind); :meth:`put` blocks.
    ``None`` in the stream of chunks means "discard everything written so far" (a restart).

    :meth:`commit` waits for the writer, checks the size and renames; :meth:`abort` (also called on
    any exception when used as a context manager, KeyboardInterrupt included) stops the writer,
    deletes the temporary file and leaves ``path`` untouched. The temporary file is created with mode
    0666 minus the umask, like any new file, and named ``.<name>.<random>.part``.
    """

    def __init__(self, path: Path, *, overwrite: bool, sha256: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        #: Bytes accepted so far (since the last restart).
        self.size = 0
        self._written = 0
        self._hash = hashlib.sha256() if sha256 else None
        self._error: BaseException | None = None
        self._cancelled = False
        self.tmp_path = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        self._file: BinaryIO | None = os.fdopen(os.open(self.tmp_path, flags, 0o666), "wb")
        self._queue: queue.Queue[object] = queue.Queue(maxsize=MAX_QUEUED_CHUNKS)
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name=f"openrouter-video-writer:{path.name}", daemon=True
        )
        self._thread.start()

    # -- producer side ---------------------------------------------------------------------------------
    def offer(self, chunk: bytes | None) -> bool:
        """Queue ``chunk`` (``None``: restart) without blocking; False if the queue is full."""
        self._raise_writer_error()
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            return False
        self._count(chunk)
        return True

    def put(self, chunk: bytes | None) -> None:
        """Queue ``chunk`` (``None``: restart), waiting while the writer is behind."""
        self._raise_writer_error()
        self._queue.put(chunk)
        self._count(chunk)

    def _count(self, chunk: bytes | None) -> None:
        self.size = 0 if chunk is None else self.size + len(chunk)

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            raise self._error

    # -- writer thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        file, get = self._file, self._queue.get
        assert file is not None
        while True:
            item = get()
            if item is _STOP:
                return
            if self._error is not None or self._cancelled:
                continue  # keep draining so that the producer never blocks
            try:
                if item is None:
                    file.seek(0)
                    file.truncate()
                    self._written = 0
                    if self._hash is not None:
                        self._hash = hashlib.sha256()
                    continue
                assert isinstance(item, bytes | bytearray | memoryview)
                file.write(item)
                self._written += len(item)
                if self._hash is not None:
                    self._hash.update(item)
            except BaseException as exc:
                self._error = exc

    def _stop_writer(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of what was written, when asked for (complete after :meth:`commit`)."""
        return self._hash.hexdigest() if self._hash is not None else None

    def commit(self, expected: int | None) -> None:
        """Wait for the writer, check the size against ``expected``, move the file into place."""
        self._stop_writer()
        self._raise_writer_error()
        assert self._file is not None
        self._file.close()
        self._file = None
        if self._written != self.size or (expected is not None and self._written != expected):
            raise IncompleteDownloadError(
                f"wrote {self._written} bytes, expected {expected if expected is not None else self.size}",
                received=self._written,
                expected=expected,
            )
        if self.overwrite:
            os.replace(self.tmp_path, self.path)
            return
        try:
            os.link(self.tmp_path, self.path)  # fails if the destination appeared meanwhile
        except FileExistsError:
            raise FileExistsError(
                f"destination exists (pass overwrite=True to replace it): {self.path}"
            ) from None
        except OSError:
            if self.path.exists():
                raise
            os.replace(self.tmp_path, self.path)  # no hard links on this filesystem
            return
        os.unlink(self.tmp_path)

    def abort(self) -> None:
        """Stop the writer, close and delete the temporary file."""
        self._cancelled = True
        self._stop_writer()
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        try:
            os.unlink(self.tmp_path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()  # after a successful commit there is nothing left to delete
