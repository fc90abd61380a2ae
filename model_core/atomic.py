"""Atomic file output: write under a temporary name in the target's folder, then rename onto the target.

A failure or cancel while writing deletes the temporary file and leaves the target as it was. Temporary names hold
the writer's process id (`.<name>.<pid>.<random>.tmp...`), so the files a killed process left behind are recognised
and swept by the next run (`sweep_stale`), while those of running processes are left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path (`.<name>.<pid>.<random><suffix>`) beside `path`; rename it onto `path` when the body
    succeeds.

    The file exists (empty) when yielded; writers may replace or recreate it. On success it gets the usual
    permissions (0o666 less the umask; mkstemp creates 0600), on any exception it is deleted and the error re-raised.
    An OSError creating, writing or renaming it (unwritable or missing folder, full disk) is raised again naming
    `path`, not the temporary file.
    """
    path = Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        if exc.filename not in (None, name, str(path)):
            raise  # about another file (a source being copied)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def copy_atomic(source: str | os.PathLike, target: str | os.PathLike, suffix: str = ".tmp") -> Path:
    """Copy `source` onto `target` atomically; returns `target`."""
    with atomic_path(target, suffix) as temporary:
        shutil.copyfile(source, temporary)
    return Path(target)


def write_text_atomic(path: str | os.PathLike, text: str, suffix: str = ".tmp") -> Path:
    """Write `text` (UTF-8, newlines as given) to `path` atomically; returns `path`."""
    with atomic_path(path, suffix) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return Path(path)


# `.<name>.<pid>.<8 random characters>.tmp<suffix>`, with GDAL's and SQLite's companions (.ovr, .aux.xml, -wal...).
TEMPORARY_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp[\w.\-]*$")


def temporary_owner(name: str) -> int | None:
    """The id of the process that writes a GeoMeld temporary file of this name, or None for any other name."""
    match = TEMPORARY_NAME.match(name)
    return int(match["pid"]) if match else None


def process_alive(pid: int) -> bool:
    """True while a process with this id runs on this machine."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temporary_files(folder: str | os.PathLike) -> list[tuple[Path, bool]]:
    """GeoMeld's temporary files in a folder, each with True when the process writing it has ended (stale)."""
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        pid = temporary_owner(name)
        if pid is not None:
            found.append((Path(folder) / name, not process_alive(pid)))
    return found


def sweep_stale(folder: str | os.PathLike) -> int:
    """Delete the temporary files that killed GeoMeld processes left in a folder; returns how many were deleted."""
    removed = 0
    for path, stale in temporary_files(folder):
        if stale:
            try:
                path.unlink()
                removed += 1
            except OSError:
                continue
    return removed
