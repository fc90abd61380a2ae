"""Embedding cache: one GeoTIFF + JSON sidecar per request key, least-recently-used eviction under a size cap.

The key hashes the raster's content fingerprint, the extent, band mapping, reflectance scaling, stride, encoding,
tiling and the model id, so a changed file, other weights or other options never reuse a stale embedding.
Writers create files under temporary names and rename them, so concurrent writers of one key are safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..atomic import copy_atomic, write_text_atomic
from ..errors import OutputWriteError
from ..io import SentinelRaster, Window
from ..paths import cache_dir

DEFAULT_MAX_BYTES = 5 * 1024**3
CACHE_FORMAT_VERSION = 1
_SAMPLE_BYTES = 1 << 16
# Query codebook of a cached raster (engine.codebook), stored beside it and deleted with it.
CODEBOOK_SUFFIX = ".codebook.npz"


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


class EmbeddingCache:
    """Embedding rasters stored as `<key>.tif` + `<key>.json` in a folder (default: <cache_dir>/embeddings)."""

    def __init__(self, folder: str | os.PathLike | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir() / "embeddings"
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

    def get(self, key: str) -> Path | None:
        """The cached raster of `key` (marked as recently used), or None."""
        tif, sidecar = self.path_for(key), self._sidecar(key)
        try:
            json.loads(sidecar.read_text(encoding="utf-8"))
            if not tif.is_file():
                return None
            os.utime(sidecar)
        except (OSError, ValueError):
            return None
        return tif

    def put(self, key: str, source: str | os.PathLike, metadata: dict | None = None) -> Path:
        """Store `source` under `key` (copied unless it already is the cache file), then evict old entries."""
        target = self.path_for(key)
        if Path(source).resolve() != target.resolve():
            copy_atomic(source, target, ".tmp.tif")
        record = dict(metadata or {}, key=key, bytes=target.stat().st_size, created=time.time())
        write_text_atomic(self._sidecar(key), json.dumps(record, indent=1), ".tmp.json")
        self.evict(keep=key)
        return target

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
        """Delete one entry (silently skipping files another process still holds open)."""
        tif = self.path_for(key)
        for path in (self._sidecar(key), tif, *_companions(tif)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue

    def evict(self, keep: str | None = None) -> int:
        """Remove least recently used entries until the cache fits `max_bytes`; returns how many were removed."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = 0
        for key, size, _ in entries:
            if total <= self.max_bytes:
                break
            if key == keep:
                continue
            self.remove(key)
            total -= size
            removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry and leftover temporary file; returns the number of entries removed."""
        entries = self.entries()
        for key, _, _ in entries:
            self.remove(key)
        for leftover in self.folder.glob(".*.tmp.*"):
            try:
                leftover.unlink()
            except OSError:
                continue
        return len(entries)

    def info(self) -> dict:
        """Folder, number of entries, bytes used and the size cap."""
        entries = self.entries()
        return {
            "folder": str(self.folder),
            "entries": len(entries),
            "bytes": sum(size for _, size, _ in entries),
            "max_bytes": self.max_bytes,
        }
