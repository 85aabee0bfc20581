"""Partial downloads kept across calls and processes: their names, state file, lock and sweep.

A download to ``dir/name.mp4`` keeps its bytes in ``dir/.name.mp4.part`` and a small JSON state file
``dir/.name.mp4.part.state`` (format version, source URL, validators, total, media type, digests,
bytes kept). The next download of the same source to the same destination continues from them.
While a download runs, its ``.part`` file is locked (``flock``; an ``O_EXCL`` ``.lock`` file where
``flock`` is missing), so two processes never write the same partial.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from .errors import DownloadLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Partials untouched for longer than this (seconds) are removed when a download starts beside them.
DEFAULT_PARTIAL_TTL: Final = 7 * 24 * 3600.0
#: The state file's format version; a partial with another version is started again.
STATE_VERSION: Final = 1
_PART = ".part"
_STATE = ".part.state"
_TMP = ".tmp"
_LOCK = ".lock"


def partial_paths(dest: Path) -> tuple[Path, Path]:
    """The partial file and the state file of the destination ``dest``."""
    return dest.with_name(f".{dest.name}{_PART}"), dest.with_name(f".{dest.name}{_STATE}")


def read_state(path: Path) -> dict[str, Any] | None:
    """The state file's content, or ``None`` when missing, unreadable or of another version."""
    try:
        with open(path, "rb") as file:
            state = json.loads(file.read(1024 * 1024))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return None
    return state


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (write beside it, then rename)."""
    tmp = path.with_name(path.name + _TMP)
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(state, file, sort_keys=True)
    os.replace(tmp, path)


def remove(*paths: Path) -> None:
    """Delete files that may not exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@dataclass
class PartialLock:
    """An open, exclusively locked partial file (``fd``, opened read-write)."""

    path: Path
    fd: int
    lock_file: Path | None = None

    def release(self) -> None:
        """Close the file (which releases ``flock``) and remove the ``.lock`` file, if any."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.lock_file is not None:
            remove(self.lock_file)
            self.lock_file = None


def lock_partial(path: Path, dest: Path) -> PartialLock:
    """Open (creating it if needed) and lock the partial file ``path`` of ``dest``.

    Raises :class:`~openrouter_video.errors.DownloadLockedError` when another process holds it.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    busy = DownloadLockedError(
        f"another download is writing to {dest} right now (its partial {path.name} is locked)"
    )
    if fcntl is None:  # pragma: no cover - Windows
        lock_file = path.with_name(path.name + _LOCK)
        try:
            os.close(os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise busy from None
        return PartialLock(path, os.open(path, flags, 0o666), lock_file)
    for _ in range(20):
        fd = os.open(path, flags, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        except BaseException:
            os.close(fd)
            raise
        # The holder may have committed (renamed the file away) between our open and our lock:
        # then the lock is on a file nobody will see again; open the name afresh.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return PartialLock(path, fd)
        os.close(fd)
    raise busy


def _is_locked(path: Path) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        return path.with_name(path.name + _LOCK).exists()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def cleanup_partials(
    directory: str | os.PathLike[str], older_than: float | timedelta = DEFAULT_PARTIAL_TTL
) -> list[Path]:
    """Remove the partial downloads in ``directory`` untouched for ``older_than`` (seconds or a
    :class:`~datetime.timedelta`) whose lock is free: their ``.part`` file, state file and
    leftovers. ``older_than=0`` removes every partial not being downloaded right now. Returns
    the files removed.
    """
    seconds = older_than.total_seconds() if isinstance(older_than, timedelta) else float(older_than)
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    names = {entry.name for entry in entries}
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        if name.endswith(_PART):
            part = Path(entry.path)
        elif name.endswith(_STATE) or name.endswith(_STATE + _TMP):
            part_name = name[: name.rindex(_STATE)] + _PART
            if part_name in names:
                continue  # goes with its partial
            part = None
        else:
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < seconds:
                continue
        except FileNotFoundError:
            continue
        if part is None:
            remove(Path(entry.path))
            removed.append(Path(entry.path))
            continue
        if _is_locked(part):
            continue
        base = part.name[: -len(_PART)]
        companions = [part.with_name(base + _STATE), part.with_name(base + _STATE + _TMP)]
        remove(part, *companions)
        removed.append(part)
        removed.extend(p for p in companions if p.name in names)
    return removed
