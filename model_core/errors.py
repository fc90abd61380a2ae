"""Exceptions with messages a GIS user can act on, and the one-sentence explanation of any error that is not a bug."""

from __future__ import annotations

import errno
import json
import os
import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager


class GeoMeldError(Exception):
    """Base class of every error GeoMeld raises on purpose."""


class RasterInputError(GeoMeldError, ValueError):
    """A raster cannot be used: not a raster, unknown band layout, no georeference, all nodata..."""


class BandMappingError(RasterInputError):
    """The bands of a raster cannot be mapped to Sentinel-2 band names."""


class ModelWeightsError(GeoMeldError):
    """Bundled or user weights are missing, changed or unreadable."""


class LabelInputError(GeoMeldError, ValueError):
    """Training labels (points/polygons) cannot be used."""


class ProbeFileError(GeoMeldError, ValueError):
    """A probe file is not a GeoMeld probe or belongs to other weights."""


class QueryInputError(GeoMeldError, ValueError):
    """A text or example query cannot be answered (empty text, point outside the raster...)."""


class OutputWriteError(GeoMeldError):
    """An output or cache file cannot be written: read-only folder, disk full, file size limit..."""


class CancelledError(GeoMeldError):
    """The user cancelled a long-running operation; no output was written."""


class OptionError(GeoMeldError, ValueError):
    """An option is out of range: a stride, a number of classes or clusters, a reflectance scale..."""


class OutputPathError(GeoMeldError, ValueError):
    """An output would overwrite an input or another output, or its folder is missing or not writable."""


class DamagedFileError(GeoMeldError, ValueError):
    """A file exists but cannot be read: truncated, damaged, or a virtual raster whose source is gone."""


class DamagedCacheEntryError(DamagedFileError):
    """A cached embedding could not be read; it has been dropped, so running the job again recomputes it."""


# Errors of files that exist but whose content cannot be decoded (a truncated .npz, a damaged .json...).
DECODING_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    EOFError,
    json.JSONDecodeError,
    UnicodeDecodeError,
    pickle.UnpicklingError,
)


def is_gdal_error(exc: BaseException) -> bool:
    """True for an error GDAL, OGR or OSR raised (with exceptions on: a RuntimeError from the osgeo bindings)."""
    if type(exc) is not RuntimeError:
        return False
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and f"{os.sep}osgeo{os.sep}" in frame.tb_frame.f_code.co_filename


def os_error_sentence(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """One sentence for a failed file operation: which file, what went wrong and what to do."""
    name = path or exc.filename
    target = f"'{name}'" if name else "a file"
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"Writing {target} failed ({reason}): free some disk space or choose another folder."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"GeoMeld may not write or read {target} ({reason}); choose a writable folder or check its permissions."
    if exc.errno == errno.ENOENT:
        return f"{target[0].upper()}{target[1:]} does not exist ({reason}); check the path."
    return f"GeoMeld cannot access {target} ({reason}); check the path, the disk and its permissions."


def explain(exc: BaseException) -> str | None:
    """The one sentence a user sees for an error that is not a bug in GeoMeld, or None for a bug (a traceback then)."""
    if isinstance(exc, GeoMeldError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        package = exc.name.split(".")[0]
        return f"GeoMeld needs the Python package '{package}', which is not installed; install requirements.txt."
    if isinstance(exc, MemoryError):
        return "GeoMeld ran out of memory; close other programs, or choose a smaller tile size in the settings."
    if isinstance(exc, OSError):
        return os_error_sentence(exc)
    if isinstance(exc, DECODING_ERRORS):
        return f"A file GeoMeld read is damaged or incomplete ({type(exc).__name__}: {exc}); write it again."
    if is_gdal_error(exc):
        return f"GDAL failed on a file ({exc}); check that the file is complete and readable and the disk has space."
    return None


@contextmanager
def reading(path: str | os.PathLike, advice: str = "open or write it again") -> Iterator[None]:
    """Inside the block, an OS, decoding or GDAL error reading `path` becomes a DamagedFileError naming it."""
    try:
        yield
    except GeoMeldError:
        raise
    except (OSError, *DECODING_ERRORS, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and not is_gdal_error(exc):
            raise
        if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
            raise DamagedFileError(f"'{path}' does not exist; check the path.") from None
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise DamagedFileError(f"'{path}' cannot be read ({detail}): it is damaged or incomplete; {advice}.") from None
