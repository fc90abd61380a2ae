"""What a query writes and answers: its score map, hit mask and the polygons of its places (every file asked for, or
none), and the QueryResult that describes them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

from ..defaults import DEFAULT_TOP_K
from ..errors import QueryInputError
from ..io import write_geotiff
from ..outputs import check_outputs
from .context import EngineContext
from .scoremap import Grid, Place, find_places
from .vector_io import add_feature, atomic_gpkg

gdal.UseExceptions()
ogr.UseExceptions()

SCORE_NODATA = -1.0
MASK_NODATA = 255
# Mask colours: hits red, the rest transparent.
MASK_COLOURS = {0: (0, 0, 0, 0), 1: (230, 30, 30, 255), MASK_NODATA: (0, 0, 0, 0)}


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
    """What `QueryOutputs.write` produced."""

    threshold: float
    places: list[Place]
    hit_pixels: int
    mask: np.ndarray


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


@dataclass(frozen=True)
class QueryOutputs:
    """The files a query writes (a score map, optionally its hit mask and polygons) and how many places it lists."""

    heatmap: str | os.PathLike
    mask: str | os.PathLike | None = None
    polygons: str | os.PathLike | None = None
    top_k: int = DEFAULT_TOP_K

    def check(self, inputs: Sequence[object]) -> None:
        """Raise before any work when an output would overwrite an input or another output (`check_output_paths`)."""
        check_output_paths(self.heatmap, self.mask, self.polygons, inputs=inputs)

    def write(
        self,
        heat: np.ndarray,
        grid: Grid,
        threshold: float,
        metadata: dict[str, str] | None = None,
        keep: np.ndarray | None = None,
    ) -> ScoreOutputs:
        """Write the score map (float32), the hit mask (uint8) and the polygons asked for; return the top-k places.

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
                    self.heatmap,
                    np.where(valid, heat, np.float32(SCORE_NODATA)).astype(np.float32, copy=False),
                    grid.geotransform,
                    grid.crs_wkt,
                    nodata=SCORE_NODATA,
                    band_names=["score"],
                    metadata=meta,
                )
            )
            if self.mask is not None:
                mask_array = np.where(valid, mask.astype(np.uint8), MASK_NODATA).astype(np.uint8)
                written.append(
                    write_geotiff(
                        self.mask,
                        mask_array,
                        grid.geotransform,
                        grid.crs_wkt,
                        nodata=MASK_NODATA,
                        band_names=["hit"],
                        metadata=meta,
                        color_table=MASK_COLOURS,
                    )
                )
            if self.polygons is not None:
                written.append(write_polygons(ranks, places, grid, self.polygons))
        return ScoreOutputs(threshold, places[: max(0, int(self.top_k))], int(mask.sum()), mask)

    def finish(
        self,
        context: EngineContext,
        heat: np.ndarray,
        grid: Grid,
        threshold: float,
        details: dict[str, str],
        embedding_cached: bool,
        keep: np.ndarray | None = None,
    ) -> QueryResult:
        """The end of every query: write the score map with its mask and polygons, describe them as a QueryResult
        whose details also name the context's model, and report the job done."""
        details = dict(details, model_id=str(context.model.model_id))
        outputs = self.write(heat, grid, threshold, details, keep)
        candidates = np.isfinite(heat) if keep is None else np.isfinite(heat) & keep
        best = float(heat[candidates].max()) if candidates.any() else None
        context.feedback.set_progress(100)
        return QueryResult(
            Path(self.heatmap),
            None if self.mask is None else Path(self.mask),
            None if self.polygons is None else Path(self.polygons),
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
