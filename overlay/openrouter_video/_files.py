"""Destinations and the atomic temporary file a download is written to."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

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


class AtomicFile:
    """A temporary file beside ``path`` that replaces ``path`` only once complete.

    :meth:`commit` checks the size and renames; :meth:`abort` (also called on any exception when
    used as a context manager, KeyboardInterrupt included) deletes the temporary file and leaves
    ``path`` untouched. The temporary file is created with mode 0666 minus the umask, like any
    new file, and named ``.<name>.<random>.part``.
    """

    def __init__(self, path: Path, *, overwrite: bool, sha256: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        self.want_sha256 = sha256
        self.size = 0
        self._hash = hashlib.sha256() if sha256 else None
        self.tmp_path = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``."""
        assert self._file is not None
        self._file.write(chunk)
        self.size += len(chunk)
        if self._hash is not None:
            self._hash.update(chunk)

    def reset(self) -> None:
        """Discard everything written (the download restarts from byte 0)."""
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self.size = 0
        if self._hash is not None:
            self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of what was written, when asked for."""
        return self._hash.hexdigest() if self._hash is not None else None

    def commit(self, expected: int | None) -> None:
        """Check the size against ``expected`` and move the file into place."""
        assert self._file is not None
        self._file.close()
        self._file = None
        if expected is not None and self.size != expected:
            raise IncompleteDownloadError(
                f"wrote {self.size} bytes, expected {expected}",
                received=self.size,
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
        """Close and delete the temporary file."""
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
