"""Embedding cache: one GeoTIFF + JSON sidecar per request key, least-recently-used eviction under a size cap.

The key hashes the raster's content fingerprint, the extent, band mapping, reflectance scaling, stride, encoding,
tiling and the model id, so a changed file, other weights or other options never reuse a stale embedding.
Writers create files under temporary names and rename them, so concurrent writers of one key are safe; the engine
computes an entry while holding its lock (`<key>.lock`), so a second job waits for it instead of computing it again,
and `clear` and eviction skip entries that are locked. Temporary files carry their writer's process id: `info`
counts them and `sweep` removes those of processes that have ended (a killed job). An entry whose raster no longer
matches its sidecar (size, modification time) counts as damaged: `lookup` says so and the engine recomputes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..atomic import copy_atomic, sweep_stale, temporary_files, write_text_atomic
from ..errors import CancelledError, OutputWriteError
from ..io import SentinelRaster, Window
from ..locks import POLL_SECONDS, FileLock, is_locked
from ..paths import cache_dir

DEFAULT_MAX_BYTES = 5 * 1024**3
CACHE_FORMAT_VERSION = 1
_SAMPLE_BYTES = 1 << 16
# Query codebook of a cached raster (engine.codebook), stored beside it and deleted with it.
CODEBOOK_SUFFIX = ".codebook.npz"
LOCK_SUFFIX = ".lock"
# What follows `<key>.` in the names of an entry's files.
ENTRY_SUFFIXES = frozenset({"tif", "json", "lock", "tif.ovr", f"tif{CODEBOOK_SUFFIX}"})


# The entries the job running in this context uses, held with shared locks until it ends (see `holding_entries`).
_HELD: ContextVar[list[FileLock] | None] = ContextVar("geomeld_held_cache_entries", default=None)


@contextmanager
def holding_entries() -> Iterator[None]:
    """While the block (one job) runs, the cache entries it gets from `embed_raster` stay locked (shared), so that
    `clear` or eviction by other jobs skips them; the locks are released at the end."""
    held: list[FileLock] = []
    token = _HELD.set(held)
    try:
        yield
    finally:
        _HELD.reset(token)
        for lock in held:
            lock.release(delete=True)


def keep_for_job(lock: FileLock) -> bool:
    """Hand a lock held on an entry to the running job (shared from now on); False, leaving it alone, outside a job."""
    held = _HELD.get()
    if held is None:
        return False
    lock.share()
    held.append(lock)
    return True


def release_for_job(path: Path) -> None:
    """Release the running job's own locks on `path` (before it takes that entry's exclusive lock)."""
    held = _HELD.get() or []
    for lock in [lock for lock in held if lock.path == path]:
        lock.release()
        held.remove(lock)


@dataclass(frozen=True)
class ClearReport:
    """What `EmbeddingCache.clear_report` did: entries removed, entries kept because a running job holds them, and
    temporary files of ended jobs removed (those of running jobs are kept)."""

    removed: int
    in_use: int
    stale_removed: int


def _file_fingerprint(path: Path) -> list:
    """Size, modification time and a hash of three 64 KiB samples (start, middle, end) of a file."""
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for offset in (0, max(0, stat.st_size // 2 - _SAMPLE_BYTES // 2), max(0, stat.st_size - _SAMPLE_BYTES)):
            handle.seek(offset)
            digest.update(handle.read(_SAMPLE_BYTES))
    return [stat.st_size, stat.st_mtime_ns, digest.hexdigest()]


def raster_fingerprint(raster: SentinelRaster) -> list:
    """A cheap content fingerprint of a raster's source: file samples, every file of a folder, or decimated pixels."""
    path = Path(raster.path)
    if path.is_file():
        return _file_fingerprint(path)
    if path.is_dir():
        return [
            [str(item.relative_to(path)), item.stat().st_size, item.stat().st_mtime_ns]
            for item in sorted(path.rglob("*"))
            if item.is_file()
        ]
    dataset = gdal.Open(raster.path)  # /vsi... sources: hash a decimated read of all bands
    pixels = dataset.ReadAsArray(buf_xsize=min(raster.width, 64), buf_ysize=min(raster.height, 64))
    return [hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()]


def codebook_path(embedding_path: str | os.PathLike) -> Path:
    """Where the query codebook (engine.codebook) of an embedding raster lives: `<embedding>.codebook.npz`."""
    return Path(f"{embedding_path}{CODEBOOK_SUFFIX}")


def _companions(tif: Path) -> tuple[Path, Path]:
    """Files that belong to a cached embedding raster: external overviews and the query codebook."""
    return tif.with_suffix(".tif.ovr"), codebook_path(tif)


def _entry_bytes(tif: Path) -> int:
    """Disk space of a cached embedding raster with its companions (raises OSError when the raster is gone)."""
    return tif.stat().st_size + sum(path.stat().st_size for path in _companions(tif) if path.exists())


def embedding_key(
    raster: SentinelRaster, extent: Window, stride: int, encoding: str, model_id: str, tile: int, overlap: int
) -> str:
    """The sha256 cache key of one embedding request."""
    fields = {
        "version": CACHE_FORMAT_VERSION,
        "source": raster_fingerprint(raster),
        "grid": [raster.width, raster.height, list(raster.geotransform), raster.crs_wkt],
        "extent": [extent.col, extent.row, extent.width, extent.height],
        "bands": list(raster.band_names),
        "scale": raster.reflectance_scale,
        "offset": raster.reflectance_offset,
        "stride": stride,
        "encoding": encoding,
        "model_id": model_id,
        "tiling": [tile, overlap],
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def embeddings_folder(base: str | os.PathLike | None = None) -> Path:
    """The folder of the embedding cache inside a GeoMeld cache folder (default: `paths.cache_dir()`)."""
    return (Path(base) if base is not None else cache_dir()) / "embeddings"


class EmbeddingCache:
    """Embedding rasters stored as `<key>.tif` + `<key>.json` in a folder (default: `embeddings_folder()`)."""

    def __init__(self, folder: str | os.PathLike | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder) if folder is not None else embeddings_folder()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputWriteError(
                f"The embedding cache folder '{self.folder}' cannot be created ({exc.strerror}); choose a writable "
                "cache folder in the GeoMeld settings or set GEOMELD_CACHE_DIR."
            ) from None
        self.max_bytes = int(max_bytes)

    def path_for(self, key: str) -> Path:
        """Where the embedding raster of `key` lives (whether or not it exists yet)."""
        return self.folder / f"{key}.tif"

    def _sidecar(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def lock_path(self, key: str) -> Path:
        """The lock file of an entry (held while the entry is computed or removed)."""
        return self.folder / f"{key}{LOCK_SUFFIX}"

    def lookup(self, key: str) -> tuple[Path | None, str]:
        """(the cached raster of `key`, marked as recently used, or None; why the entry is damaged, or "").

        An entry is damaged when its sidecar cannot be read or its raster is missing or differs in size or
        modification time from what the sidecar recorded (changed or truncated from outside).
        """
        tif, sidecar = self.path_for(key), self._sidecar(key)
        if not sidecar.exists():
            return None, ""
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
            stat = tif.stat()
        except FileNotFoundError:
            return None, "its embedding raster is missing"
        except (OSError, ValueError) as exc:
            return None, f"its record cannot be read ({exc})"
        if not isinstance(record, dict) or record.get("bytes") != stat.st_size:
            return None, "its embedding raster has another size than when it was written"
        if record.get("mtime_ns", stat.st_mtime_ns) != stat.st_mtime_ns:
            return None, "its embedding raster was changed after it was written"
        try:
            os.utime(sidecar)
        except OSError:
            pass
        return tif, ""

    def get(self, key: str) -> Path | None:
        """The cached raster of `key` (marked as recently used), or None when it is missing or damaged."""
        return self.lookup(key)[0]

    def put(self, key: str, source: str | os.PathLike, metadata: dict | None = None, locked: bool = False) -> Path:
        """Store `source` under `key` (copied unless it already is the cache file), then evict old entries. The
        entry's lock is taken for it unless the caller holds it (`locked`)."""
        target = self.path_for(key)
        lock = None if locked else FileLock(self.lock_path(key))
        if lock is not None:
            lock.acquire()
        try:
            if Path(source).resolve() != target.resolve():
                copy_atomic(source, target, ".tmp.tif")
            stat = target.stat()
            record = dict(metadata or {}, key=key, bytes=stat.st_size, mtime_ns=stat.st_mtime_ns, created=time.time())
            write_text_atomic(self._sidecar(key), json.dumps(record, indent=1), ".tmp.json")
        finally:
            if lock is not None:
                lock.release(delete=True)
        self.evict(keep=key)
        return target

    def claim(
        self, key: str, cancelled: Callable[[], bool] | None = None, waiting: Callable[[], None] | None = None
    ) -> FileLock | None:
        """The exclusive lock of an entry, to compute it; or None as soon as another job has completed the entry
        (then held for the running job, see `hold`). While another job holds the entry, `waiting()` is called once.

        A job that waited for the exclusive lock of an entry others use would wait for their whole jobs; and two
        jobs using one entry each, each waiting for the other's, would wait for ever.
        """
        told = False
        while True:
            lock = FileLock(self.lock_path(key))
            if lock.acquire(wait=False):
                return lock
            if self.get(key) is not None and self.hold(key, wait=False):
                return None
            if cancelled is not None and cancelled():
                raise CancelledError("Cancelled by the user; no output was written.")
            if waiting is not None and not told:
                waiting()
                told = True
            time.sleep(POLL_SECONDS)

    def hold(self, key: str, wait: bool = True) -> bool:
        """Keep a complete entry for the running job (a shared lock, see `holding_entries`); False when it vanished
        meanwhile (or, without `wait`, when a job computes it). Outside a job there is nothing to hold: True."""
        if _HELD.get() is None:
            return True
        lock = FileLock(self.lock_path(key))
        if not lock.acquire(wait=wait, shared=True):
            return False
        if self.get(key) is None:
            lock.release(delete=True)
            return False
        return keep_for_job(lock)

    def forget(self, key: str) -> None:
        """Mark an entry as gone (its record is deleted) without taking its lock: the next request computes it again
        and overwrites its files. For a damaged entry a job may still hold."""
        try:
            self._sidecar(key).unlink()
        except OSError:
            pass

    def sweep(self) -> int:
        """Remove the temporary files that ended (killed) jobs left in the cache; returns how many."""
        return sweep_stale(self.folder)

    def entries(self) -> list[tuple[str, int, float]]:
        """(key, bytes, last used time) of every complete entry, least recently used first."""
        found = []
        for sidecar in self.folder.glob("*.json"):
            if sidecar.name.startswith("."):
                continue
            tif = sidecar.with_suffix(".tif")
            try:
                found.append((sidecar.stem, _entry_bytes(tif), sidecar.stat().st_mtime))
            except OSError:
                continue
        return sorted(found, key=lambda entry: entry[2])

    def remove(self, key: str) -> None:
        """Delete one entry (silently skipping files another process still holds open); the caller holds its lock
        or knows that no job uses it."""
        tif = self.path_for(key)
        for path in (self._sidecar(key), tif, *_companions(tif)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue

    def remove_unless_locked(self, key: str) -> bool:
        """Delete one entry unless a running job holds its lock; returns whether it was deleted."""
        lock = FileLock(self.lock_path(key))
        if not lock.acquire(wait=False):
            return False
        try:
            self.remove(key)
        finally:
            lock.release(delete=True)
        return True

    def evict(self, keep: str | None = None) -> int:
        """Remove least recently used entries until the cache fits `max_bytes`; returns how many were removed."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = 0
        for key, size, _ in entries:
            if total <= self.max_bytes:
                break
            if key == keep or not self.remove_unless_locked(key):
                continue
            total -= size
            removed += 1
        return removed

    def keys(self) -> set[str]:
        """The key of every file of the cache (entries, parts of entries and locks; not temporary files)."""
        parts = (name.split(".", 1) for name in os.listdir(self.folder) if not name.startswith("."))
        return {part[0] for part in parts if len(part) == 2 and part[1] in ENTRY_SUFFIXES}

    def clear_report(self) -> ClearReport:
        """Remove every entry no running job holds, and the temporary files of ended jobs."""
        removed = in_use = 0
        for key in sorted(self.keys()):
            complete = self._sidecar(key).exists()
            if self.remove_unless_locked(key):
                removed += complete
            else:
                in_use += 1
        return ClearReport(removed, in_use, self.sweep())

    def clear(self) -> int:
        """Remove every entry no running job holds, and the temporary files of ended jobs; returns entries removed."""
        return self.clear_report().removed

    def info(self) -> dict:
        """Folder, number of entries, bytes used, the size cap, and the temporary files of running and ended jobs."""
        entries = self.entries()
        temporary = temporary_files(self.folder)
        running = [path for path, stale in temporary if not stale]
        return {
            "folder": str(self.folder),
            "entries": len(entries),
            "bytes": sum(size for _, size, _ in entries),
            "max_bytes": self.max_bytes,
            "in_use": sum(1 for key in self.keys() if is_locked(self.lock_path(key))),
            "temporary_files": len(temporary),
            "temporary_bytes": sum(_size(path) for path, _ in temporary),
            "stale_temporary_files": len(temporary) - len(running),
        }


def _size(path: Path) -> int:
    """A file's size, 0 when it is gone."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
