"""Per-pixel embedding rasters: tiled, seam-free model runs over a Sentinel raster, written as a GeoTIFF.

An embedding raster has one band per embedding dimension on the input grid (or a grid `stride` times coarser).
`int8` encoding stores round(value * 127) + 128 as bytes (0 = nodata) with the band scale 1/127 and offset -128/127,
so GDAL and QGIS decode it; `float32` stores the values as they are (nodata NaN). GDAL 3.6 has no Float16.
At stride 1 the model's own byte codes are written (`GeoMeldModel.embed_codes`, the same rounding).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..atomic import copy_atomic
from ..defaults import DEFAULT_OVERLAP, ENCODINGS, MAX_STRIDE
from ..errors import DamagedCacheEntryError, DamagedFileError, GeoMeldError, OptionError, RasterInputError
from ..feedback import Feedback
from ..gdal_cache import gdal_cache_at_most
from ..io import SentinelRaster, Window, atomic_geotiff
from ..outputs import check_outputs
from ..overviews import StreamedOverviews, overview_factors
from ..prefetch import prefetched
from ..runtime import CODE_SCALE, CODE_ZERO_POINT, GeoMeldModel
from .cache import EmbeddingCache, embedding_key, keep_for_job, release_for_job
from .context import EngineContext
from .grid import Tile, aligned_tiles

gdal.UseExceptions()

INT8_SCALE = CODE_SCALE
INT8_OFFSET = -CODE_ZERO_POINT * CODE_SCALE
MARKER = "GEOMELD_EMBEDDING"
# Seams: a tile's kept part needs wide context, as the encoder's receptive field is wide. Measured against a
# whole-image run on the demo scene (0..1 score maps): 896 px tiles with overlap 128 (64 px of context each side) left
# lines at tile edges, 0.03 off in query-by-example heatmaps and 0.17 in text queries; 1024/256 (128 px) 0.009 and
# 0.05; 1408/384 (192 px) 0.003 and 0.015. 1408 px tiles with overlap 384 step by 1024 px, whole blocks of the file,
# cost about as much per pixel as 1024/256 (1.9 times an untiled run; 896/128: 1.4) and ONNX Runtime needs about
# 2.1 GB for one (896 px: 1.1 GB). Hence model_core.defaults.DEFAULT_TILE and DEFAULT_OVERLAP.
# Smaller tiles get an overlap of the same share of the tile (less context, so small seams), at least 128 px.
OVERLAP_SHARE = 0.28
MIN_OVERLAP = 128
# Embedding rasters are read at full resolution or as decimated samples, and drawn only when a user adds one: their
# overviews start at 1/4, since a 1/2 level would add a quarter of the raster's bytes and about a tenth of its
# embedding time (measured on 2048^2 px: 0.57 -> 0.63 Mpx/s, 114 -> 89 MB).
FIRST_OVERVIEW = 4
WAITING = "Another GeoMeld job is computing the embedding of this raster; waiting for it to finish."
# GDAL's block cache defaults to 5 % of the RAM and would keep that much of blocks already read and written: while an
# embedding raster is written it is held to this size (and restored after), so a 10980^2 px tile needs under 2 GB.
EMBED_GDAL_CACHE = 128 * 1024 * 1024


@dataclass(frozen=True)
class EmbeddingResult:
    """Where an embedding raster is, whether it came from the cache, and its grid."""

    path: Path
    cached: bool
    seconds: float
    width: int
    height: int
    dim: int
    stride: int
    model_id: str


class EmbeddingFile:
    """An embedding raster opened for reading: metadata, decoded windows and the valid-pixel mask."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._dataset = gdal.Open(str(self.path))
        except RuntimeError as exc:
            raise RasterInputError(f"'{self.path}' is not a raster GDAL can read ({exc}).") from None
        metadata = self._dataset.GetMetadata() or {}
        if metadata.get(MARKER) != "1":
            raise RasterInputError(f"'{self.path}' is not a GeoMeld embedding raster.")
        self.metadata: dict[str, str] = metadata
        self.width: int = self._dataset.RasterXSize
        self.height: int = self._dataset.RasterYSize
        self.dim: int = self._dataset.RasterCount
        self.geotransform: tuple[float, ...] = tuple(self._dataset.GetGeoTransform())
        self.crs_wkt: str = self._dataset.GetProjection()
        self.model_id: str = metadata.get("MODEL_ID", "")
        self.stride: int = int(metadata.get("STRIDE", "1"))
        self.encoding: str = metadata.get("ENCODING", "float32")
        self.band_names: tuple[str, ...] = tuple(filter(None, metadata.get("BANDS", "").split(",")))

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turns a failed read of this raster into one sentence (a damaged cache entry is dropped on the way)."""
        try:
            yield
        except RuntimeError as exc:
            self._damaged(exc)

    def _damaged(self, exc: BaseException) -> None:
        """Raise the error of a raster that cannot be read; a cache entry is removed first, so it is recomputed."""
        key = _cache_entry_key(self.path)
        if key:
            EmbeddingCache(self.path.parent).forget(key)
            raise DamagedCacheEntryError(
                f"The cached embedding '{self.path.name}' cannot be read ({exc}); it was removed from the cache and "
                "is computed again."
            ) from None
        raise DamagedFileError(
            f"The embedding raster '{self.path}' cannot be read ({exc}); it is damaged or incomplete: compute it again."
        ) from None

    def full_window(self) -> Window:
        """The window covering the whole embedding raster."""
        return Window(0, 0, self.width, self.height)

    def windows(self, tile: int = 512) -> Iterator[Window]:
        """Windows of at most tile x tile px that cover the raster without overlapping (the last of a row or column
        is cut short), so sums over them count every pixel once."""
        for row in range(0, self.height, tile):
            for col in range(0, self.width, tile):
                yield Window(col, row, min(tile, self.width - col), min(tile, self.height - row))

    def _raw(self, window: Window) -> np.ndarray:
        with self._reading():
            raw = self._dataset.ReadAsArray(window.col, window.row, window.width, window.height)
        return raw.reshape(self.dim, window.height, window.width)

    def read(self, window: Window | None = None) -> np.ndarray:
        """Decoded embeddings (D, h, w) float32; nodata pixels are all-zero vectors."""
        return self.read_with_mask(window)[0]

    def read_with_mask(self, window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Decoded embeddings (D, h, w) and the bool (h, w) mask of valid pixels."""
        raw = self._raw(window or self.full_window())
        valid = self.valid_of(raw[0])
        values = self._decode(raw)
        if not valid.all():
            values[:, ~valid] = 0.0
        return values, valid

    def valid_of(self, first_band: np.ndarray) -> np.ndarray:
        """Bool mask of the pixels holding data, from stored values of the first band (0 or NaN mark nodata)."""
        return first_band != 0 if self.encoding == "int8" else np.isfinite(first_band)

    def _decode(self, raw: np.ndarray) -> np.ndarray:
        """Stored values as float32 embeddings (a new array for int8; float32 arrays are used as they are)."""
        if self.encoding != "int8":
            return raw.astype(np.float32, copy=False)
        values = raw.astype(np.float32)
        values *= np.float32(INT8_SCALE)
        values += np.float32(INT8_OFFSET)
        return values

    def valid_mask(self, window: Window | None = None) -> np.ndarray:
        """Bool (h, w): True where the embedding holds data."""
        window = window or self.full_window()
        with self._reading():
            first = self._dataset.GetRasterBand(1).ReadAsArray(window.col, window.row, window.width, window.height)
        return self.valid_of(first)

    def sample(self, count: int) -> np.ndarray:
        """About `count` valid embeddings (N, D) on a regular grid over the raster (one decimated read)."""
        factor = max(1.0, (self.width * self.height / max(count, 1)) ** 0.5)
        xsize, ysize = max(1, int(self.width / factor)), max(1, int(self.height / factor))
        with self._reading():
            raw = self._dataset.ReadAsArray(buf_xsize=xsize, buf_ysize=ysize, resample_alg=gdal.GRIORA_NearestNeighbour)
        raw = raw.reshape(self.dim, -1)
        return np.ascontiguousarray(self._decode(raw[:, self.valid_of(raw[0])]).T)

    def pixel_to_map(self, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of pixel centres."""
        x0, dx, rx, y0, ry, dy = self.geotransform
        c, r = np.asarray(cols, dtype=np.float64) + 0.5, np.asarray(rows, dtype=np.float64) + 0.5
        return x0 + c * dx + r * rx, y0 + c * ry + r * dy


def _cache_entry_key(path: Path) -> str:
    """The key of an embedding raster that is an entry of an embedding cache (its record beside it), else ""."""
    return path.stem if path.suffix == ".tif" and path.with_suffix(".json").is_file() else ""


def default_overlap(tile: int) -> int:
    """The overlap of tiles of `tile` px when none is given: OVERLAP_SHARE of the tile in steps of 64 px, between
    MIN_OVERLAP and DEFAULT_OVERLAP (DEFAULT_OVERLAP for DEFAULT_TILE)."""
    return min(DEFAULT_OVERLAP, max(MIN_OVERLAP, int(tile * OVERLAP_SHARE) // 64 * 64))


def open_embedding(path: str | os.PathLike) -> EmbeddingFile:
    """Open an embedding raster written by `embed_raster` (metadata: model_id, stride, grid, encoding)."""
    return EmbeddingFile(path)


def read_embedding(path: str | os.PathLike, window: Window | None = None) -> np.ndarray:
    """Decoded embeddings (D, h, w) float32 of a window (default: everything); nodata pixels are zero vectors."""
    return EmbeddingFile(path).read(window)


def _pool(values: np.ndarray, valid: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the valid embeddings in each stride x stride block, re-normalised to unit length."""
    if stride == 1:
        return values, valid
    dim, height, width = values.shape
    out_h, out_w = -(-height // stride), -(-width // stride)
    padding = ((0, out_h * stride - height), (0, out_w * stride - width))
    weighted = values if valid.all() else values * valid
    if padding[0][1] or padding[1][1]:
        weighted = np.pad(weighted, ((0, 0), *padding))
    # Block sums as `stride` strided additions per axis: numpy reduces tiny inner axes slowly.
    across = sum(weighted[:, :, offset::stride] for offset in range(stride))
    sums = sum(across[:, offset::stride, :] for offset in range(stride))
    count = np.pad(valid, padding).reshape(out_h, stride, out_w, stride).sum(axis=(1, 3))
    norms = np.sqrt(np.einsum("dhw,dhw->hw", sums, sums))
    sums /= np.maximum(norms, 1e-12)
    return sums.astype(np.float32, copy=False), count > 0


def _encode(values: np.ndarray, valid: np.ndarray, encoding: str) -> np.ndarray:
    """Encode unit embeddings for the file; may overwrite `values` (the model output, which is not used again)."""
    if encoding == "int8":
        # |v| <= 1, so v * 127 + 128.5 lies in [1.5, 255.5]: truncation rounds it to 1..255 and 0 stays nodata.
        np.multiply(values, np.float32(1.0 / CODE_SCALE), out=values)
        values += np.float32(CODE_ZERO_POINT + 0.5)
        return _blank_nodata(values.astype(np.uint8), valid)
    coded = values.astype(np.float32, copy=True)
    coded[:, ~valid] = np.nan
    return coded


def _blank_nodata(codes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Byte codes with the pixels outside `valid` set to 0 (nodata), in place."""
    if not valid.all():
        codes[:, ~valid] = 0
    return codes


def _check_extent(raster: SentinelRaster, extent: Window) -> None:
    if (
        extent.width < 1
        or extent.height < 1
        or extent.col < 0
        or extent.row < 0
        or extent.col + extent.width > raster.width
        or extent.row + extent.height > raster.height
    ):
        raise RasterInputError(
            f"The extent {extent.col},{extent.row} {extent.width}x{extent.height} px is not inside "
            f"'{raster.path}' ({raster.width}x{raster.height} px)."
        )


def _read_tile(raster: SentinelRaster, extent: Window, item: Tile) -> tuple[np.ndarray, np.ndarray]:
    """The image (15, h, w) and valid mask of a tile's read window."""
    read = Window(extent.col + item.read.col, extent.row + item.read.row, item.read.width, item.read.height)
    return raster.read_with_mask(read)


def _store_tile(
    dataset: gdal.Dataset,
    overviews: StreamedOverviews,
    output: np.ndarray,
    valid: np.ndarray,
    item: Tile,
    stride: int,
    encoding: str,
) -> None:
    """Pool and encode a tile's kept embeddings (or take the model's byte codes as they are), write them and their
    overview samples, and flush them to the file.

    Kept parts start on multiples of the tile step, which are whole blocks of the file at stride 1: each block is
    compressed once, here, and the block cache holds no unwritten data another thread would have to flush.
    """
    row, col, height, width = item.kept_in_read()
    kept_valid = valid[row : row + height, col : col + width]
    if output.dtype == np.uint8:
        coded = _blank_nodata(output, kept_valid)
    else:
        values, mask = _pool(output, kept_valid, stride)
        coded = _encode(values, mask, encoding)
    dataset.WriteArray(coded, item.keep.col // stride, item.keep.row // stride)
    overviews.add(coded, item.keep.col // stride, item.keep.row // stride)
    dataset.FlushCache()
    overviews.flush()


def _write_embedding(
    raster: SentinelRaster,
    model: GeoMeldModel,
    path: Path,
    extent: Window,
    stride: int,
    tile: int,
    overlap: int,
    encoding: str,
    feedback: Feedback,
    started: float,
) -> EmbeddingResult:
    """Embed `extent` tile by tile and write the embedding raster atomically (`started`: when the request began)."""
    out_w, out_h = -(-extent.width // stride), -(-extent.height // stride)
    x0, dx, rx, y0, ry, dy = raster.window_geotransform(extent)
    geotransform = (x0, dx * stride, rx * stride, y0, ry * stride, dy * stride)
    tiles = aligned_tiles(extent.width, extent.height, tile, overlap, int(model.input_multiple), stride)
    dtype, nodata = (np.uint8, 0) if encoding == "int8" else (np.float32, float("nan"))
    dim = int(model.embedding_dim)
    with (
        gdal_cache_at_most(EMBED_GDAL_CACHE),
        atomic_geotiff(
            path, out_w, out_h, dim, dtype, geotransform, raster.crs_wkt, nodata, overviews=False
        ) as dataset,
    ):
        dataset.SetMetadata(
            {
                MARKER: "1",
                "MODEL_ID": str(model.model_id),
                "STRIDE": str(stride),
                "ENCODING": encoding,
                "SOURCE": raster.path,
                "EXTENT": f"{extent.col},{extent.row},{extent.width},{extent.height}",
                "BANDS": ",".join(raster.band_names),
            }
        )
        for index in range(1, dim + 1):
            band = dataset.GetRasterBand(index)
            band.SetDescription(f"emb_{index - 1:03d}")
            if encoding == "int8":
                band.SetScale(INT8_SCALE)
                band.SetOffset(INT8_OFFSET)
        levels = overview_factors(out_w, out_h, dim, np.dtype(dtype).itemsize, FIRST_OVERVIEW)
        overviews = StreamedOverviews(dataset, levels)
        # One thread reads the next tile and another encodes and writes the last one while the model runs (ONNX
        # Runtime, numpy and GDAL release the GIL); each GDAL dataset is only ever used by one of them.
        embed = model.embed_codes if encoding == "int8" and stride == 1 else model.embed_dense
        with ThreadPoolExecutor(max_workers=1) as writer:
            last_write: Future | None = None
            read = functools.partial(_read_tile, raster, extent)
            for number, (item, (image, valid)) in enumerate(prefetched(read, tiles)):
                feedback.check_cancelled()
                output = np.asarray(embed(image[np.newaxis], raster.band_mask, item.kept_in_read()))[0]
                if last_write is not None:
                    last_write.result()  # at most one tile waits to be written: memory stays bounded
                last_write = writer.submit(_store_tile, dataset, overviews, output, valid, item, stride, encoding)
                feedback.set_progress(100.0 * (number + 1) / len(tiles))
            if last_write is not None:
                last_write.result()
        overviews.finish()
    seconds = time.perf_counter() - started
    return EmbeddingResult(path, False, seconds, out_w, out_h, dim, stride, str(model.model_id))


def embed_raster(
    raster: SentinelRaster,
    context: EngineContext,
    out_path: str | os.PathLike | None = None,
    *,
    extent: Window | None = None,
    stride: int = 1,
    overlap: int | None = None,
    encoding: str = ENCODINGS[0],
) -> EmbeddingResult:
    """Compute (or fetch from the context's cache) the per-pixel embedding raster of `raster` with its model.

    Tiles of `context.tile_size` px start on the model's input multiple, overlap by `overlap` px and each keeps only
    its centre, so no tile edge reaches the output and memory is bounded by the tile size. The encoder's receptive
    field is wide: a tiled result equals one whole-image run within 1e-3 only about 256 px from a tile edge (overlap
    512); the default overlap (`default_overlap(tile)`: 384 px for the default 1408 px tiles) keeps score maps within
    0.02 of an untiled run (no seams) at about 1.9 times the work of an untiled run. Every job of one context shares
    one tiling, and so one cache entry.
    With `out_path` None the result lives in the cache; with `out_path` it is also copied there, or, in a context
    without a cache, only written there. A cancel leaves no file.
    """
    model, cache, feedback = context.model, context.cache, context.feedback
    started = time.perf_counter()
    tile = context.tile_size
    overlap = default_overlap(tile) if overlap is None else overlap
    extent = extent or raster.full_window()
    _check_extent(raster, extent)
    if encoding not in ENCODINGS:
        raise OptionError(f"The embedding encoding must be one of {', '.join(ENCODINGS)}, not '{encoding}'.")
    if not 1 <= stride <= MAX_STRIDE:
        raise OptionError(f"The embedding stride must be a whole number from 1 to {MAX_STRIDE}, not {stride}.")
    if out_path is not None:
        check_outputs([out_path], [raster.path])
    target = Path(out_path) if out_path is not None else None
    if cache is None:
        if target is None:
            raise ValueError("embed_raster needs an output path or a context with a cache")
        return _write_embedding(raster, model, target, extent, stride, tile, overlap, encoding, feedback, started)
    key = embedding_key(raster, extent, stride, encoding, str(model.model_id), tile, overlap)
    shape = (-(-extent.width // stride), -(-extent.height // stride), int(model.embedding_dim))
    hit = _cached(cache, key, shape, target, started, stride, None)
    if hit is not None and (target is not None or cache.hold(key)):
        return hit
    release_for_job(cache.lock_path(key))
    lock = cache.claim(key, feedback.cancelled, lambda: feedback.info(WAITING))
    if lock is None:  # another job completed it meanwhile
        hit = _cached(cache, key, shape, target, started, stride, None)
        if hit is None:
            cache.forget(key)
            raise DamagedCacheEntryError("A cached embedding of this raster is damaged; it is computed again.")
        return hit
    try:
        result = _cached(cache, key, shape, target, started, stride, feedback)  # another job may have just written it
        if result is None:
            cache.sweep()
            result = _write_embedding(
                raster, model, target or cache.path_for(key), extent, stride, tile, overlap, encoding, feedback, started
            )
            metadata = {"source": raster.path, "stride": stride, "encoding": encoding}
            cache.put(key, result.path, metadata, locked=True)
    except BaseException:
        lock.release(delete=True)
        raise
    if target is not None or not keep_for_job(lock):  # the job keeps the entry it uses until it ends
        lock.release(delete=True)
    return result


def _entry_problem(path: Path, shape: tuple[int, int, int]) -> str:
    """Why a cached embedding raster cannot be used ("" when it can): unreadable, or not of the expected size."""
    try:
        info = EmbeddingFile(path)
    except GeoMeldError as exc:
        return str(exc)
    if (info.width, info.height, info.dim) != shape:
        return f"it holds {info.width} x {info.height} x {info.dim} values instead of {' x '.join(map(str, shape))}"
    return ""


def _cached(
    cache: EmbeddingCache,
    key: str,
    shape: tuple[int, int, int],
    target: Path | None,
    started: float,
    stride: int,
    locked: Feedback | None,
) -> EmbeddingResult | None:
    """The result of a usable cache entry (copied to `target` when given), or None. With `locked` (the feedback of
    a caller holding the entry's lock) a damaged entry is removed and the user told that it is computed again."""
    path, problem = cache.lookup(key)
    if path is not None:
        problem = _entry_problem(path, shape)
    if problem:
        if locked is not None:
            cache.remove(key)  # the caller holds the entry's lock
            locked.info(f"The cached embedding of this raster was damaged ({problem}); computing it again.")
        return None
    if path is None:
        return None
    if target is not None:
        copy_atomic(path, target, ".tmp.tif")
    info = EmbeddingFile(target or path)
    return EmbeddingResult(
        info.path, True, time.perf_counter() - started, info.width, info.height, info.dim, stride, info.model_id
    )
