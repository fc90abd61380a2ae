"""Change between two dates: per-pixel embedding distance on the first raster's grid, change mask and polygons."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from osgeo import gdal, osr
from scipy import ndimage

from ..defaults import DEFAULT_THRESHOLD, DEFAULT_TOP_K
from ..errors import QueryInputError
from ..io import SentinelRaster, open_raster
from .context import EngineContext
from .embedding import embed_raster, open_embedding
from .hits import QueryOutputs, QueryResult, check_threshold
from .prompts import text_scorer
from .query import as_raster
from .scoremap import Grid, otsu_threshold, score_embeddings

gdal.UseExceptions()

# The default threshold is Otsu's threshold of the Euclidean distance between the unit embeddings (sqrt(2 (1 - cos)),
# which separates a small changed area from the unchanged majority far better than Otsu on 1 - cos), expressed as
# 1 - cos, and never below this value, so that two dates without real change do not get their noise split in two.
MIN_CHANGE_DISTANCE = 0.05


# Embeddings see about this many pixels of context: near an edge of data only one date has, they differ between the
# dates even where nothing changed, so such pixels never count as change.
EDGE_MARGIN = 16


def footprint_edges(valid_a: np.ndarray, valid_b: np.ndarray, margin: int = EDGE_MARGIN) -> np.ndarray:
    """Bool map of pixels within `margin` px of a pixel that holds data on one date only."""
    one_date = valid_a ^ valid_b
    if not one_date.any():
        return one_date
    return ndimage.binary_dilation(one_date, structure=np.ones((3, 3), dtype=bool), iterations=margin)


def default_change_threshold(distance: np.ndarray) -> float:
    """Otsu's threshold of the Euclidean embedding distance, as a 1 - cosine value (at least MIN_CHANGE_DISTANCE)."""
    euclidean = otsu_threshold(np.sqrt(2.0 * np.clip(distance, 0.0, None)))
    return max(euclidean**2 / 2.0, MIN_CHANGE_DISTANCE)


def _bounds(raster: SentinelRaster) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a north-up raster in its own CRS."""
    x0, dx, _, y0, _, dy = raster.geotransform
    xs = (x0, x0 + dx * raster.width)
    ys = (y0, y0 + dy * raster.height)
    return min(xs), min(ys), max(xs), max(ys)


def overlap_fraction(raster_a: SentinelRaster, raster_b: SentinelRaster) -> float:
    """Fraction of A's extent covered by B's extent (B's bounds transformed into A's CRS)."""
    a = _bounds(raster_a)
    b = _bounds(raster_b)
    source = osr.SpatialReference(wkt=raster_b.crs_wkt)
    target = osr.SpatialReference(wkt=raster_a.crs_wkt)
    if not source.IsSame(target):
        for srs in (source, target):
            srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        b = osr.CoordinateTransformation(source, target).TransformBounds(*b, 21)
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / ((a[2] - a[0]) * (a[3] - a[1]))


def same_grid(raster_a: SentinelRaster, raster_b: SentinelRaster) -> bool:
    """True when both rasters have the same size, geotransform and CRS."""
    return (
        (raster_a.width, raster_a.height) == (raster_b.width, raster_b.height)
        and np.allclose(raster_a.geotransform, raster_b.geotransform)
        and osr.SpatialReference(wkt=raster_a.crs_wkt).IsSame(osr.SpatialReference(wkt=raster_b.crs_wkt))
    )


@contextmanager
def on_grid_of(raster_b: SentinelRaster, raster_a: SentinelRaster) -> Iterator[SentinelRaster]:
    """Raster B as it is when it shares A's grid, else B warped (bilinear) onto A's grid as an in-memory VRT."""
    if same_grid(raster_a, raster_b):
        yield raster_b
        return
    nodata = raster_b.nodata if raster_b.nodata is not None else 0
    vrt = f"/vsimem/geomeld_change_{uuid.uuid4().hex}.vrt"
    x0, dx, _, y0, _, dy = raster_a.geotransform
    try:
        gdal.Warp(
            vrt,
            raster_b.path,
            format="VRT",
            dstSRS=raster_a.crs_wkt,
            outputBounds=(x0, y0 + dy * raster_a.height, x0 + dx * raster_a.width, y0),
            width=raster_a.width,
            height=raster_a.height,
            resampleAlg="bilinear",
            srcNodata=raster_b.nodata,
            dstNodata=nodata,
        )
        yield open_raster(vrt, bands=raster_b.band_names, reflectance_scale=raster_b.reflectance_scale)
    finally:
        gdal.Unlink(vrt)


def change_map(
    raster_a: SentinelRaster | str | os.PathLike,
    raster_b: SentinelRaster | str | os.PathLike,
    context: EngineContext,
    out_path: str | os.PathLike,
    *,
    threshold: float | None = None,
    mask_out: str | os.PathLike | None = None,
    polygons_out: str | os.PathLike | None = None,
    text_filter: str | None = None,
    top_k: int = DEFAULT_TOP_K,
) -> QueryResult:
    """Map of embedding distance (1 - cosine, 0..2) between dates A and B on A's grid, with change mask/polygons.

    B is reprojected/resampled onto A's grid when the grids differ. Pixels within EDGE_MARGIN px of data that only
    one date has are never counted as change. The default threshold is Otsu's threshold of the Euclidean embedding
    distance (see default_change_threshold). With `text_filter` ("new buildings") only changed pixels whose date-B
    embedding matches the text (query score >= 0.5) count as change.
    """
    model, feedback = context.model, context.feedback
    outputs = QueryOutputs(out_path, mask_out, polygons_out, top_k)
    outputs.check([raster_a, raster_b])
    threshold = check_threshold(threshold, 0.0, 2.0)
    scorer = text_scorer(model, text_filter) if text_filter is not None else None
    raster_a, raster_b = as_raster(raster_a), as_raster(raster_b)
    if overlap_fraction(raster_a, raster_b) <= 0:
        raise QueryInputError(
            f"'{raster_a.path}' and '{raster_b.path}' do not overlap; change needs two images of the same place."
        )
    embedding_a = embed_raster(raster_a, context.scaled(0, 40))
    with tempfile.TemporaryDirectory(prefix="geomeld_change_") as scratch, on_grid_of(raster_b, raster_a) as aligned:
        # A warped B lives in memory: embed it to a scratch file rather than caching it under a weak fingerprint.
        step = context.scaled(40, 80)
        if aligned is raster_b:
            embedding_b = embed_raster(aligned, step)
        else:
            embedding_b = embed_raster(aligned, step.uncached(), Path(scratch) / "b.tif")
        paths = [embedding_a.path, embedding_b.path]
        distance = score_embeddings(paths, lambda a, b: 1.0 - np.sum(a * b, axis=1), feedback.scaled(80, 90))
        keep = ~footprint_edges(open_embedding(paths[0]).valid_mask(), open_embedding(paths[1]).valid_mask())
        if threshold is None:  # from all change, so a text filter only selects among the changed pixels
            threshold = default_change_threshold(np.where(keep, distance, np.nan))
        if scorer is not None:
            keep &= score_embeddings([embedding_b.path], scorer, feedback.scaled(90, 95)) >= DEFAULT_THRESHOLD
    details = {"date_a": raster_a.path, "date_b": raster_b.path, "text_filter": text_filter or ""}
    cached = embedding_a.cached and embedding_b.cached
    return outputs.finish(context, distance, Grid.of(embedding_a.path), threshold, details, cached, keep)
