"""Checks of a job's output paths before any work: no output overwrites an input or another output (files a writer
adds beside its output included), and every output folder exists and is writable. Killed jobs' temporary files in
those folders are swept on the way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Union

from .atomic import sweep_stale
from .errors import OutputPathError

PathLike = Union[str, os.PathLike]
# One output (or input): a path, or the path followed by the files its writer (reader) adds beside it; None: absent.
FileGroup = Union[PathLike, Sequence[PathLike], None]


def _files(group: FileGroup) -> list[Path]:
    """The paths of a group, the main one first."""
    if group is None:
        return []
    if isinstance(group, (str, os.PathLike)):
        return [Path(group)]
    return [Path(path) for path in group if path is not None]


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file: equal once resolved, or (both existing) the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_folder(folder: Path) -> None:
    """Raise OutputPathError unless `folder` exists and this process may create files in it."""
    if not folder.is_dir():
        raise OutputPathError(f"The output folder '{folder}' does not exist; create it or choose another folder.")
    try:  # a real file, not os.access: permission bits do not bind root, read-only mounts and quotas do
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"The output folder '{folder}' is not writable ({exc.strerror}); choose another folder."
        ) from None


def _describe(file: Path, main: Path) -> str:
    """How a message names an output file: itself, or as the file its writer adds beside `main`."""
    return f"'{file}'" if file == main else f"'{file}' (written beside '{main.name}')"


def check_outputs(outputs: Iterable[FileGroup], inputs: Iterable[FileGroup] = ()) -> None:
    """Raise OutputPathError (one sentence, before any work) when an output would overwrite an input or another
    output, is a folder, or lies in a folder that is missing or not writable."""
    sources = [path for group in inputs for path in _files(group)]
    seen: list[tuple[Path, Path, int]] = []  # (file, the output it belongs to, that output's number)
    folders: dict[str, Path] = {}
    for number, group in enumerate(outputs):
        files = _files(group)
        if not files:
            continue
        main = files[0]
        for file in files:
            if file.is_dir():
                raise OutputPathError(f"The output '{file}' is a folder; give a file name.")
            for source in sources:
                if same_file(file, source):
                    raise OutputPathError(
                        f"The output {_describe(file, main)} would overwrite the input '{source}'; choose another "
                        "output file (GeoMeld never writes over its inputs)."
                    )
            for other, owner, owner_number in seen:
                if same_file(file, other) and owner_number == number:
                    raise OutputPathError(
                        f"The output '{main}' has the name of the file written beside it; choose another name."
                    )
                if same_file(file, other) and file == main and other == owner:
                    raise OutputPathError(f"'{file}' is given as two outputs; give each output its own file.")
                if same_file(file, other):
                    raise OutputPathError(
                        f"The outputs {_describe(other, owner)} and {_describe(file, main)} are the same file; give "
                        "each output its own name."
                    )
            seen.append((file, main, number))
            folder = file.resolve().parent
            folders[str(folder)] = folder
    for folder in folders.values():
        check_folder(folder)
        sweep_stale(folder)
