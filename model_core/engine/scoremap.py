"""Score maps over cached embeddings: streamed per-pixel scoring, hit mask, ranked places and their polygons.

Shared by text queries, query by example and change detection, down to their QueryResult. The embedding raster is
read window by window (memory bounded by the tile size times the embedding width); only the 2-D score map is held
whole.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr
from scipy import ndimage

from ..defaults import DEFAULT_TOP_K
from ..errors import QueryInputError
from ..feedback import Feedback, ensure_feedback
from ..io import Window, iter_windows, write_geotiff
from ..outputs import check_outputs
from ..prefetch import prefetched
from .areas import GeodesicArea
from .embedding import EmbeddingFile, open_embedding
from .vector_io import add_feature, atomic_gpkg

gdal.UseExceptions()
ogr.UseExceptions()

SCORE_NODATA = -1.0
MASK_NODATA = 255
SCORE_TILE = 512
AREA_SAMPLES = 65
# Mask colours: hits red, the rest transparent.
MASK_COLOURS = {0: (0, 0, 0, 0), 1: (230, 30, 30, 255), MASK_NODATA: (0, 0, 0, 0)}


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


@contextmanager
def output_set() -> Iterator[list[Path]]:
    """Collects the outputs a job writes; if the job fails or is cancelled, the ones already written are removed."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            if path.exists():
                path.unlink()
        raise


def check_output_paths(*paths: str | os.PathLike | None, inputs: Sequence[object] = ()) -> None:
    """Raise before any work when an output would overwrite an input (a path or a raster with a `path`) or another
    output, or its folder is missing or not writable."""
    check_outputs(paths, [getattr(item, "path", item) for item in inputs])


PLACE_FIELDS: tuple[tuple[str, type], ...] = (
    ("rank", int),
    ("score", float),
    ("mean_score", float),
    ("area_ha", float),
    ("pixels", int),
)


def write_polygons(ranks: np.ndarray, places: Sequence[Place], grid: Grid, out_path: str | os.PathLike) -> Path:
    """Write the ranked regions as a GeoPackage (rank, score, mean_score, area_ha, pixels), atomically."""
    memory = f"/vsimem/geomeld_regions_{uuid.uuid4().hex}.tif"
    raster = gdal.GetDriverByName("GTiff").Create(memory, grid.width, grid.height, 1, gdal.GDT_Int32)
    regions = None
    try:
        raster.SetGeoTransform(list(grid.geotransform))
        band = raster.GetRasterBand(1)
        band.WriteArray(ranks.astype(np.int32))
        regions = ogr.GetDriverByName("Memory").CreateDataSource("regions")
        polygons = regions.CreateLayer("regions", geom_type=ogr.wkbPolygon)
        polygons.CreateField(ogr.FieldDefn("rank", ogr.OFTInteger))
        gdal.Polygonize(band, band, polygons, 0, ["8CONNECTED=8"])
        by_rank = {place.rank: place for place in places}
        with atomic_gpkg(out_path, "places", ogr.wkbPolygon, grid.crs_wkt, PLACE_FIELDS) as layer:
            for region in polygons:
                place = by_rank[region.GetField("rank")]
                add_feature(layer, region.GetGeometryRef(), {name: getattr(place, name) for name, _ in PLACE_FIELDS})
    finally:
        band = raster = regions = None
        gdal.Unlink(memory)
    return Path(out_path)


@dataclass
class ScoreOutputs:
    """What write_score_outputs produced."""

    threshold: float
    places: list[Place]
    hit_pixels: int
    mask: np.ndarray


def write_score_outputs(
    heat: np.ndarray,
    grid: Grid,
    threshold: float,
    out_heatmap: str | os.PathLike,
    *,
    mask_out: str | os.PathLike | None = None,
    polygons_out: str | os.PathLike | None = None,
    top_k: int = DEFAULT_TOP_K,
    metadata: dict[str, str] | None = None,
    keep: np.ndarray | None = None,
) -> ScoreOutputs:
    """Write the score map (float32), optional hit mask (uint8) and polygons; return the top-k places.

    Hits are valid pixels with score >= threshold (and `keep`, when given). Either every requested file is
    written or, on error or cancel, none is.
    """
    valid = np.isfinite(heat)
    mask = valid & (heat >= threshold)
    if keep is not None:
        mask &= keep
    ranks, places = find_places(heat, mask, grid)
    meta = dict(metadata or {}, threshold=f"{threshold:.6g}")
    with output_set() as written:
        written.append(
            write_geotiff(
                out_heatmap,
                np.where(valid, heat, np.float32(SCORE_NODATA)).astype(np.float32, copy=False),
                grid.geotransform,
                grid.crs_wkt,
                nodata=SCORE_NODATA,
                band_names=["score"],
                metadata=meta,
            )
        )
        if mask_out is not None:
            mask_array = np.where(valid, mask.astype(np.uint8), MASK_NODATA).astype(np.uint8)
            written.append(
                write_geotiff(
                    mask_out,
                    mask_array,
                    grid.geotransform,
                    grid.crs_wkt,
                    nodata=MASK_NODATA,
                    band_names=["hit"],
                    metadata=meta,
                    color_table=MASK_COLOURS,
                )
            )
        if polygons_out is not None:
            written.append(write_polygons(ranks, places, grid, polygons_out))
    return ScoreOutputs(threshold, places[: max(0, int(top_k))], int(mask.sum()), mask)


@dataclass
class QueryResult:
    """Outputs of a query: the score map, optional mask/polygons, the top-k places and the threshold used, with the
    best score found and, when nothing reached the threshold, a threshold to try (None otherwise)."""

    heatmap: Path
    mask: Path | None
    polygons: Path | None
    places: list[Place]
    threshold: float
    hit_pixels: int
    embedding_cached: bool
    details: dict[str, str] = field(default_factory=dict)
    best_score: float | None = None
    threshold_to_try: float | None = None


# Share of the valid pixels a suggested threshold lets through when nothing reached the chosen one.
TRY_SHARE = 0.01


def threshold_to_try(heat: np.ndarray, keep: np.ndarray | None = None) -> float | None:
    """A threshold that lets the best TRY_SHARE of the valid pixels (at least one) through, rounded down to 0.01; None
    without valid pixels."""
    valid = np.isfinite(heat) if keep is None else np.isfinite(heat) & keep
    if not valid.any():
        return None
    return float(np.floor(np.quantile(heat[valid], 1.0 - TRY_SHARE) * 100.0) / 100.0)


def check_threshold(threshold: float | None, low: float = 0.0, high: float = 1.0) -> float | None:
    """Raise QueryInputError for a threshold outside [low, high]."""
    if threshold is not None and not (low <= float(threshold) <= high):
        raise QueryInputError(f"The threshold {threshold} is outside {low:g}..{high:g}.")
    return None if threshold is None else float(threshold)


def finish_query(
    heat: np.ndarray,
    grid: Grid,
    threshold: float,
    out_heatmap: str | os.PathLike,
    *,
    mask_out: str | os.PathLike | None,
    polygons_out: str | os.PathLike | None,
    top_k: int,
    details: dict[str, str],
    embedding_cached: bool,
    keep: np.ndarray | None = None,
) -> QueryResult:
    """Write a score map with its mask and polygons, and describe them as a QueryResult."""
    outputs = write_score_outputs(
        heat,
        grid,
        threshold,
        out_heatmap,
        mask_out=mask_out,
        polygons_out=polygons_out,
        top_k=top_k,
        metadata=details,
        keep=keep,
    )
    candidates = np.isfinite(heat) if keep is None else np.isfinite(heat) & keep
    best = float(heat[candidates].max()) if candidates.any() else None
    return QueryResult(
        Path(out_heatmap),
        None if mask_out is None else Path(mask_out),
        None if polygons_out is None else Path(polygons_out),
        outputs.places,
        threshold,
        outputs.hit_pixels,
        bool(embedding_cached),
        details,
        best,
        None if outputs.hit_pixels else threshold_to_try(heat, keep),
    )


def format_places(places: Sequence[Place]) -> str:
    """The ranked places as a text table (rank, x, y, score, mean, area_ha)."""
    lines = [f"{'rank':>4} {'x':>14} {'y':>14} {'score':>6} {'mean':>6} {'area_ha':>10}"]
    lines += [
        f"{p.rank:>4} {p.x:>14.3f} {p.y:>14.3f} {p.score:>6.3f} {p.mean_score:>6.3f} {p.area_ha:>10.3f}" for p in places
    ]
    return "\n".join(lines)
