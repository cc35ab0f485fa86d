"""One process owns a SQLite send record: an exclusive lock on ``<db>.lock``, held while open.

Why: a second ``serve`` on the same file (a deploy that starts the new process before the old
one exits) took the first one's send in progress for an interrupted one and resumed it, sending
every pending message twice. SQLite has no leases (PostgreSQL's are for replicas), so the file
is owned whole: ``flock`` on a file beside it, taken without waiting; a second process is
refused, told the file and the owner's pid (written in the lock file). The kernel drops the lock
when the owner exits, however it exits (even ``kill -9``): no stale lock to clean up.

The lock is the process's: stores of one process on one file (tests, a restart in place) share
it, counted, and it is let go when the last of them closes.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from pathlib import Path

from bot.store.base import StoreError

_MAX_PID_TEXT = 32


class StoreLocked(StoreError):
    """Another process holds the SQLite file; the message names it and that process's pid."""


_held: dict[str, list[int]] = {}  # lock file (real path) -> [fd, stores of this process]
_guard = threading.Lock()


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _owner(fd: int) -> str:
    """The pid the owner wrote in the lock file, as text ("" if unreadable or not yet written)."""
    try:
        text = os.pread(fd, _MAX_PID_TEXT, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


def _refusal(db: Path, owner: str) -> StoreLocked:
    who = f"pid {owner}" if owner else "a process that has not written its pid yet"
    return StoreLocked(
        f"the send record {str(db)!r} is in use by another bridge process ({who}; lock file "
        f"{str(lock_path(db))!r}): one process owns a SQLite file — stop that one first, or use "
        "PostgreSQL (BRIDGE_DB=postgresql://…) to run several"
    )


def acquire(db: Path) -> str:
    """Take (or share, within this process) the lock of ``db``; returns the key for ``release``.
    Raises ``StoreLocked`` at once if another process holds it. Blocking file I/O: call it off
    the event loop."""
    path = lock_path(db)
    key = os.path.realpath(path)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return key
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {str(path)!r} beside the send record: "
                f"{exc.strerror} — check that the directory is writable by this user"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = _owner(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise _refusal(db, owner) from None
            raise StoreError(f"cannot lock {str(path)!r}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = [fd, 1]
        return key


def release(key: str) -> None:
    """One store of this process is done with the file; the last one lets the lock go."""
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
        os.close(entry[0])  # closing the only descriptor drops the flock
