"""Advisory file locks between processes and threads (flock on POSIX, msvcrt on Windows).

The operating system releases a lock when its process ends, killed or not, so a lock never outlives its holder.
The holder may delete the lock file while it holds it: a waiter that then gets the lock of the deleted file notices
and locks the new one instead.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int, shared: bool = False) -> bool:  # Windows has no shared locks: every lock is exclusive
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int, shared: bool = False) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


POLL_SECONDS = 0.1


class FileLock:
    """A lock on `path` (created when missing), exclusive or shared (readers: many at once, but no exclusive holder);
    use `acquire`/`release` or `with`."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self, wait: bool = True, cancelled: Callable[[], bool] | None = None, shared: bool = False) -> bool:
        """Take the lock; without `wait`, return False at once when another holder has it. While waiting,
        `cancelled()` returning True stops the wait (False is returned)."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if _try_lock(fd, shared):
                if self._is_current(fd):
                    self._fd = fd
                    return True
                _unlock(fd)  # the previous holder deleted the file: lock the one now at the path
                os.close(fd)
                continue
            os.close(fd)
            if not wait or (cancelled is not None and cancelled()):
                return False
            time.sleep(POLL_SECONDS)

    def _is_current(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            return False

    def share(self) -> None:
        """Turn the exclusive lock held into a shared one (on Windows it stays exclusive)."""
        if self._fd is not None and sys.platform != "win32":
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self, delete: bool = False) -> None:
        """Give the lock back; with `delete`, remove the lock file first when no one else holds it (a shared lock is
        made exclusive for that, if it can be at once)."""
        if self._fd is None:
            return
        if delete and _try_lock(self._fd):
            try:
                self.path.unlink()
            except OSError:
                pass  # Windows keeps open files; the next holder reuses it
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def is_locked(path: str | os.PathLike) -> bool:
    """True when some process (or another FileLock of this one) holds the lock on `path`."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)
