"""Atomic file output: write under a temporary name in the target's folder, then rename onto the target.

A failure or cancel while writing deletes the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import os
import shutil
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
    """Yield a temporary path (`.<name>.<random><suffix>`) beside `path`; rename it onto `path` when the body succeeds.

    The file exists (empty) when yielded; writers may replace or recreate it. On success it gets the usual
    permissions (0o666 less the umask; mkstemp creates 0600), on any exception it is deleted and the error re-raised.
    An OSError creating it (unwritable or missing folder) propagates unchanged.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
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
