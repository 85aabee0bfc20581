"""Partial downloads kept across calls and processes: their names, state file, lock and sweep.

A download to ``dir/name.mp4`` keeps its bytes in ``dir/.name.mp4.part`` and a small JSON state file
``dir/.name.mp4.part.state`` (format version, source URL, validators, total, media type, digests,
bytes kept). The next download of the same source to the same destination continues from them.
While a download runs, its ``.part`` file is locked (``flock``; an ``O_EXCL`` ``.lock`` file where
``flock`` is missing), so two processes never write the same partial.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import DownloadLockedError

if TYPE_CHECKING:
    from ..engine.core import Resumable

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
#: Longest destination name kept whole in its partial's names (file names are at most 255 bytes).
_MAX_NAME = 200
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIGEST_LENGTHS = {"md5": 16, "sha256": 32, "sha512": 64}


def partial_paths(dest: Path) -> tuple[Path, Path]:
    """The partial file and the state file of the destination ``dest``."""
    name = dest.name
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f"{name[:100]}-{digest}"
    return dest.with_name(f".{name}{_PART}"), dest.with_name(f".{name}{_STATE}")


def read_state(path: Path, *, version: int = STATE_VERSION) -> dict[str, Any] | None:
    """The state file's content, validated, or ``None`` when it is missing, not a regular file (a
    symlink, a FIFO), unreadable, malformed or of another ``version`` (1: a single-stream partial,
    2: a segmented one). Its ``digests`` are converted to ``{hashlib name: raw digest}``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        state = json.loads(os.read(fd, 1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)
    if not isinstance(state, dict) or state.get("version") != version:
        return None
    total = state.get("total")
    texts = [state.get(name) for name in ("etag", "last_modified", "content_type", "origin")]
    if not isinstance(state.get("source"), str) or not (total is None or (type(total) is int and total >= 0)):
        return None
    if not all(text is None or isinstance(text, str) for text in texts):
        return None
    digests = state.get("digests") or {}
    try:  # a mapping of hex strings
        state["digests"] = {name: bytes.fromhex(value) for name, value in digests.items()}
    except (AttributeError, TypeError, ValueError):
        return None
    if any(len(value) != _DIGEST_LENGTHS.get(name) for name, value in state["digests"].items()):
        return None
    return state


def content_state(
    source: str, content: Resumable, *, version: int = STATE_VERSION, **extra: Any
) -> dict[str, Any]:
    """A state file's record of ``content`` downloaded from ``source`` (one stream's, version 1,
    with ``kept``; a segmented one's, version 2, with ``segments``): the one shape both write."""
    return {
        "version": version,
        "source": source,
        "etag": content.etag,
        "last_modified": content.last_modified,
        "total": content.total,
        "content_type": content.content_type,
        "digests": {name: value.hex() for name, value in content.digests.items()},
        "origin": content.origin,
        "created": time.time(),
        **extra,
    }


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (write beside it, then rename); never through a symlink."""
    tmp = path.with_name(path.name + _TMP)
    remove(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
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


def _stale_lock_file(lock_file: Path) -> bool:
    """Whether a ``.lock`` file (the ``O_EXCL`` fallback) was left by a process that is gone."""
    try:
        pid = int(lock_file.read_text(encoding="ascii").strip() or "0")
        if pid > 0:
            os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):  # unreadable, or its process is alive (another user's, say)
        pass
    return False


def _open_part(path: Path) -> int:
    """Open (create) the partial read-write, never through a symlink and never a file that has
    another name (a crash between the commit's link and unlink leaves the partial linked to the
    destination: writing into it would truncate the video)."""
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | getattr(os, "O_BINARY", 0)
    for _ in range(5):
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            if exc.errno != errno.ELOOP and not path.is_symlink():
                raise
            remove(path)  # a symlink: remove the link itself, never touch its target
            continue
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            return fd
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"the partial file's name is taken by a directory: {path}")
        remove(path)
    raise FileExistsError(f"cannot create the partial file {path}")


def lock_partial(path: Path, dest: Path) -> PartialLock:
    """Open (creating it if needed) and lock the partial file ``path`` of ``dest``; raises
    :class:`~openrouter_video.errors.DownloadLockedError` when another process holds it."""
    busy = DownloadLockedError(
        f"another download is writing to {dest} right now (its partial {path.name} is locked)"
    )
    if fcntl is None:  # pragma: no cover - Windows
        lock_file = path.with_name(path.name + _LOCK)
        for _ in range(2):
            try:
                lock_fd = os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
            except FileExistsError:
                if not _stale_lock_file(lock_file):
                    raise busy from None
                remove(lock_file)  # its process is gone (killed): the lock is stale
                continue
            with os.fdopen(lock_fd, "w", encoding="ascii") as file:
                file.write(str(os.getpid()))
            try:
                return PartialLock(path, _open_part(path), lock_file)
            except BaseException:
                remove(lock_file)
                raise
        raise busy
    for _ in range(20):
        fd = _open_part(path)
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
            same = os.path.samestat(os.fstat(fd), os.lstat(path))
        except FileNotFoundError:
            same = False
        if same and os.fstat(fd).st_nlink == 1:
            return PartialLock(path, fd)
        os.close(fd)
    raise busy


def _remove_if_unlocked(part: Path, companions: list[Path]) -> bool:
    """Remove ``part`` and ``companions`` while holding the partial's lock (so that a download
    that locks it meanwhile never loses it); False when it is in use."""
    if fcntl is None:  # pragma: no cover - Windows
        lock_file = part.with_name(part.name + _LOCK)
        if lock_file.exists() and not _stale_lock_file(lock_file):
            return False
        remove(part, *companions, lock_file)
        return True
    try:
        fd = os.open(part, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError:  # a symlink or unreadable: not ours to judge by its lock; remove the name
        remove(part, *companions)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not os.path.samestat(os.fstat(fd), os.lstat(part)):
            return False
        remove(part, *companions)
        return True
    except (BlockingIOError, FileNotFoundError):  # in use, or gone
        return False
    finally:
        os.close(fd)


def _stem(name: str, suffix: str) -> str:
    """``x`` for ``.x<suffix>``; empty when ``name`` is not of that form."""
    return name[1 : -len(suffix)] if name.startswith(".") and name.endswith(suffix) else ""


#: How often, at most, a download sweeps its directory (seconds, per directory and ``partial_ttl``,
#: per process). Listing costs about 2 microseconds per entry and partials go stale after days: a
#: sweep per call made a service saving thousands of videos into one directory pay milliseconds each.
SWEEP_INTERVAL: Final = 60.0
_sweep_clock = time.monotonic  # injectable in tests
_last_sweep: dict[tuple[str, float], float] = {}
_sweep_lock = threading.Lock()


def sweep_partials(directory: Path, older_than: float) -> list[Path]:
    """The automatic sweep of :class:`PartialFile`: :func:`cleanup_partials`, at most once every
    :data:`SWEEP_INTERVAL` seconds for the same directory and age; errors are ignored (a courtesy)."""
    key = (os.path.abspath(directory), older_than)
    now = _sweep_clock()
    with _sweep_lock:
        last = _last_sweep.get(key)
        if last is not None and now - last < SWEEP_INTERVAL:
            return []
        if len(_last_sweep) >= 4096:  # bounded: a process writing into very many directories
            _last_sweep.clear()
        _last_sweep[key] = now
    try:
        return cleanup_partials(directory, older_than=older_than)
    except OSError:
        return []


def cleanup_partials(
    directory: str | os.PathLike[str], older_than: float | timedelta = DEFAULT_PARTIAL_TTL
) -> list[Path]:
    """Remove the partial downloads in ``directory`` untouched for ``older_than`` (seconds or a
    :class:`~datetime.timedelta`) and not being downloaded right now: each ``.<name>.part`` that has
    a state file (or is empty), with its state file and leftovers, and state files whose partial is
    gone. ``older_than=0`` removes every partial not being downloaded. Other files, whatever their
    names, are never touched. Returns the files removed."""
    seconds = older_than.total_seconds() if isinstance(older_than, timedelta) else float(older_than)
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    names = {entry.name for entry in entries}

    def old(entry: os.DirEntry[str]) -> bool:
        try:
            return now - entry.stat(follow_symlinks=False).st_mtime >= seconds
        except FileNotFoundError:
            return False

    for entry in entries:
        name = entry.name
        if stem := _stem(name, _PART):
            part = Path(entry.path)
            state_name = f".{stem}{_STATE}"
            empty = entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size == 0
            if (state_name not in names and not empty) or not old(entry):
                continue
            companions = [part.with_name(state_name), part.with_name(state_name + _TMP)]
            if _remove_if_unlocked(part, companions):
                removed.append(part)
                removed.extend(p for p in companions if p.name in names)
        elif (
            (stem := _stem(name, _STATE) or _stem(name, _STATE + _TMP))
            and f".{stem}{_PART}" not in names
            and entry.is_file(follow_symlinks=False)
            and old(entry)
        ):  # a state file whose partial is gone
            remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed
