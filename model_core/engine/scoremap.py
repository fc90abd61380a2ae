"""Score maps over cached embeddings: streamed per-pixel scoring, thresholds and the ranked places of the hits.

Shared by text queries, query by example and change detection (what they write and answer: `hits`). The embedding
raster is read window by window (memory bounded by the tile size times the embedding width); only the 2-D score map
is held whole.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from osgeo import gdal
from scipy import ndimage

from ..errors import QueryInputError
from ..feedback import Feedback, ensure_feedback
from ..io import Window, iter_windows
from ..prefetch import prefetched
from .areas import GeodesicArea
from .embedding import EmbeddingFile, open_embedding

gdal.UseExceptions()

SCORE_TILE = 512
AREA_SAMPLES = 65


@dataclass(frozen=True)
class Grid:
    """Size and georeference of a raster grid."""

    width: int
    height: int
    geotransform: tuple[float, ...]
    crs_wkt: str

    @classmethod
    def of(cls, path: str | os.PathLike) -> Grid:
        """The grid of a raster file."""
        dataset = gdal.Open(str(path))
        return cls(dataset.RasterXSize, dataset.RasterYSize, tuple(dataset.GetGeoTransform()), dataset.GetProjection())

    def xy(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CRS coordinates of (fractional) pixel positions; pixel centres are at col + 0.5, row + 0.5."""
        x0, dx, rx, y0, ry, dy = self.geotransform
        return x0 + col * dx + row * rx, y0 + col * ry + row * dy

    def pixel(self, x: float, y: float) -> tuple[int, int]:
        """(col, row) of the pixel containing CRS point (x, y); may lie outside the grid."""
        inverse = gdal.InvGeoTransform(list(self.geotransform))
        col, row = gdal.ApplyGeoTransform(inverse, float(x), float(y))
        return int(np.floor(col)), int(np.floor(row))

    def row_areas_ha(self) -> np.ndarray:
        """(height,) geodesic area (WGS84) of one pixel of each row in hectares, as in the engine's area tables."""
        return _row_areas_ha(self)


@functools.lru_cache(maxsize=8)
def _row_areas_ha(grid: Grid) -> np.ndarray:
    """Grid.row_areas_ha, computed once per grid (queries over one raster repeat it); read-only."""
    area = GeodesicArea(grid.crs_wkt)
    corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], dtype=np.float64)
    # Pixel area varies smoothly down the rows: measure up to AREA_SAMPLES rows and interpolate the others.
    rows = np.unique(np.linspace(0, grid.height - 1, min(grid.height, AREA_SAMPLES)).round())
    sampled = [area.ring_hectares(*grid.xy(corners[:, 0], corners[:, 1] + row)) for row in rows]
    areas = np.interp(np.arange(grid.height), rows, sampled)
    areas.setflags(write=False)
    return areas


@dataclass(frozen=True)
class Place:
    """One connected region of the hit mask: rank (1 = best), centroid in the raster CRS, scores and area."""

    rank: int
    x: float
    y: float
    score: float
    mean_score: float
    area_ha: float
    pixels: int


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """(N, D) vectors scaled to unit length (zero vectors stay zero)."""
    norms = np.sqrt(np.einsum("nd,nd->n", vectors, vectors))
    return vectors / np.maximum(norms, 1e-12)[:, None]


def _unit_pixels(embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, h, w) -> ((N, D) L2-normalised embeddings of the valid pixels, (h*w,) validity); may modify the input."""
    flat = embedding.reshape(embedding.shape[0], -1)
    norms = np.sqrt(np.einsum("dn,dn->n", flat, flat))
    valid = np.isfinite(norms) & (norms > 0)
    if valid.all():
        flat /= norms  # in place: the decoded window is ours, and a second D x N array would cost as much again
        return flat.T, valid
    return (flat[:, valid] / norms[valid]).T, valid


def score_embeddings(
    embedding_paths: Sequence[str | os.PathLike],
    score: Callable[..., np.ndarray],
    feedback: Feedback | None = None,
    *,
    channels: int = 1,
    tile: int = SCORE_TILE,
) -> np.ndarray:
    """Apply score(pixels_a, pixels_b, ...) window by window to one or more embedding rasters of the same grid.

    Each argument is an (N, D) array of L2-normalised embeddings of the pixels valid in every raster and the
    score returns (N,) values, or (N, channels). The result is the (H, W) or (channels, H, W) float32 map, NaN
    where a pixel is not valid.
    """
    feedback = ensure_feedback(feedback)
    files = [open_embedding(path) for path in embedding_paths]
    grid = Grid.of(embedding_paths[0])
    out = np.full((channels, grid.height, grid.width), np.nan, dtype=np.float32)
    windows = list(iter_windows(grid.width, grid.height, tile))
    read = functools.partial(_read_windows, files)
    for index, (window, embeddings) in enumerate(prefetched(read, windows)):
        feedback.check_cancelled()
        units = [_unit_pixels(embedding) for embedding in embeddings]
        valid = np.logical_and.reduce([v for _, v in units])
        values = np.full((window.width * window.height, channels), np.nan, dtype=np.float32)
        if valid.all():
            values[:] = np.asarray(score(*[p for p, _ in units])).reshape(-1, channels)
        elif valid.any():
            values[valid] = np.asarray(score(*[p[valid[v]] for p, v in units])).reshape(-1, channels)
        rows, cols = window.slices()
        out[:, rows, cols] = values.T.reshape(channels, window.height, window.width)
        feedback.set_progress(100.0 * (index + 1) / len(windows))
    return out[0] if channels == 1 else out


def _read_windows(files: Sequence[EmbeddingFile], window: Window) -> list[np.ndarray]:
    return [file.read(window) for file in files]


def pixel_embeddings(embedding_path: str | os.PathLike, pixels: Sequence[tuple[int, int]]) -> np.ndarray:
    """(N, D) L2-normalised embeddings at (col, row) pixels; QueryInputError where a pixel has no embedding."""
    file = open_embedding(embedding_path)
    vectors = []
    for col, row in pixels:
        unit, valid = _unit_pixels(file.read(Window(col, row, 1, 1)))
        if not valid.any():
            raise QueryInputError(f"The example at pixel ({col}, {row}) lies on nodata; pick a point with image data.")
        vectors.append(unit[0])
    return np.stack(vectors).astype(np.float32)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of the finite values (maximises the between-class variance)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or float(finite.min()) == float(finite.max()):
        return float(finite.max()) if finite.size else 0.0
    counts, edges = np.histogram(finite, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between)) + 1])


def find_places(heat: np.ndarray, mask: np.ndarray, grid: Grid) -> tuple[np.ndarray, list[Place]]:
    """Connected regions (8-neighbour) of the mask, ranked by max then mean score; label raster value = rank."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return labels.astype(np.int32), []
    # Region statistics from the hit pixels alone (labels are 0 elsewhere): bincounts, not ndimage's whole-grid passes.
    hits = np.flatnonzero(mask)
    rows, cols = np.divmod(hits, mask.shape[1])
    region = labels.ravel()[hits]
    scores = np.nan_to_num(heat.ravel()[hits], nan=0.0).astype(np.float64)
    sizes = np.bincount(region, minlength=count + 1)[1:]
    mean = np.bincount(region, weights=scores, minlength=count + 1)[1:] / sizes
    areas = np.bincount(region, weights=grid.row_areas_ha()[rows], minlength=count + 1)[1:]
    best = np.full(count + 1, -np.inf)
    np.maximum.at(best, region, scores)
    best = best[1:]
    centre_rows = np.bincount(region, weights=rows, minlength=count + 1)[1:] / sizes
    centre_cols = np.bincount(region, weights=cols, minlength=count + 1)[1:] / sizes
    xs, ys = grid.xy(centre_cols + 0.5, centre_rows + 0.5)
    order = np.lexsort((-mean, -best))
    rank_of_label = np.zeros(count + 1, dtype=np.int32)
    rank_of_label[order + 1] = np.arange(1, count + 1)
    places = [
        Place(int(rank), float(xs[i]), float(ys[i]), float(best[i]), float(mean[i]), float(areas[i]), int(sizes[i]))
        for rank, i in enumerate(order, start=1)
    ]
    np.put(labels, hits, rank_of_label[region])  # region id -> rank in place, hit pixels only (0 stays 0)
    return labels, places
