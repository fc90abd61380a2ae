"""Query by example: where else does the raster look like a few clicked places?"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from osgeo import ogr, osr

from ..defaults import DEFAULT_TOP_K
from ..errors import QueryInputError
from ..io import SentinelRaster, Window
from ..linalg import matmul
from .context import EngineContext
from .embedding import embed_raster
from .hits import QueryOutputs, QueryResult, check_threshold
from .query import EMBED_SHARE, after_embedding, as_raster
from .scoremap import Grid, otsu_threshold, pixel_embeddings, score_embeddings

ogr.UseExceptions()
osr.UseExceptions()


def read_points(path: str | os.PathLike, target_wkt: str) -> list[tuple[float, float]]:
    """(x, y) of every feature of a vector file in the target CRS (polygons and lines give their centroid)."""
    try:
        source = ogr.Open(str(path))
    except RuntimeError:
        source = None
    if source is None or source.GetLayerCount() == 0:
        raise QueryInputError(f"'{path}' is not a vector file with example points that OGR can read.")
    layer = source.GetLayer(0)
    transform = _transform(layer.GetSpatialRef(), target_wkt)
    points = []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is None or geometry.IsEmpty():
            continue
        point = geometry.Clone() if geometry.GetGeometryType() in (ogr.wkbPoint, ogr.wkbPoint25D) else None
        point = point or geometry.Centroid()
        if transform is not None:
            try:
                point.Transform(transform)
            except RuntimeError as exc:
                raise QueryInputError(
                    f"The example points of '{path}' do not fit the CRS of their layer ({exc}); set the right CRS."
                ) from None
        points.append((point.GetX(), point.GetY()))
    if not points:
        raise QueryInputError(f"'{path}' holds no example points.")
    return points


def points_to_raster_crs(
    points: Sequence[tuple[float, float]], points_crs: str | None, target_wkt: str
) -> list[tuple[float, float]]:
    """Points given in `points_crs` (e.g. 'EPSG:4326'; None = the raster CRS) expressed in the raster CRS."""
    if points_crs is None:
        return [(float(x), float(y)) for x, y in points]
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(points_crs)
    except RuntimeError:
        raise QueryInputError(f"'{points_crs}' is not a coordinate reference system GDAL knows.") from None
    transform = _transform(srs, target_wkt)
    if transform is None:  # the points are already in the raster CRS
        return [(float(x), float(y)) for x, y in points]
    converted = []
    for x, y in points:
        try:
            converted.append(tuple(transform.TransformPoint(float(x), float(y))[:2]))
        except RuntimeError as exc:
            raise QueryInputError(
                f"The example point ({x:.6g}, {y:.6g}) is not a place in {points_crs} ({exc}); check its coordinates."
            ) from None
    return converted


def _transform(source: osr.SpatialReference | None, target_wkt: str) -> osr.CoordinateTransformation | None:
    if source is None or not target_wkt:
        return None
    target = osr.SpatialReference(wkt=target_wkt)
    if source.IsSame(target):
        return None
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    try:
        return osr.CoordinateTransformation(source, target)
    except RuntimeError as exc:
        raise QueryInputError(
            f"The example points cannot be brought into the raster's CRS ({exc}); give them in a geographic or "
            "projected CRS."
        ) from None


def example_pixels(raster: SentinelRaster, points: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """(col, row) of each example; QueryInputError when one lies outside the raster or on nodata."""
    grid = Grid(raster.width, raster.height, raster.geotransform, raster.crs_wkt)
    pixels = []
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise QueryInputError(f"The example point ({x}, {y}) is not a place: give finite coordinates.")
        col, row = grid.pixel(x, y)
        if not (0 <= col < raster.width and 0 <= row < raster.height):
            raise QueryInputError(f"The example point ({x:.6g}, {y:.6g}) lies outside the raster '{raster.path}'.")
        if not raster.valid_mask(Window(col, row, 1, 1))[0, 0]:
            raise QueryInputError(f"The example point ({x:.6g}, {y:.6g}) lies on nodata; pick a point with image data.")
        pixels.append((col, row))
    return pixels


def similar_to_points(
    raster: SentinelRaster | str | os.PathLike,
    context: EngineContext,
    points: Sequence[tuple[float, float]] | str | os.PathLike,
    out_heatmap: str | os.PathLike,
    *,
    points_crs: str | None = None,
    mask_out: str | os.PathLike | None = None,
    polygons_out: str | os.PathLike | None = None,
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = None,
) -> QueryResult:
    """Heatmap of cosine similarity to the mean embedding of example points, rescaled 0..1 over the raster.

    `points` are (x, y) in the raster CRS (or in `points_crs`), or a vector file path. The default threshold is
    Otsu's threshold of the heatmap.
    """
    files = [points] if isinstance(points, (str, os.PathLike)) else []
    outputs = QueryOutputs(out_heatmap, mask_out, polygons_out, top_k)
    outputs.check([raster, *files])
    threshold = check_threshold(threshold)
    raster = as_raster(raster)
    if isinstance(points, (str, os.PathLike)):
        points = read_points(points, raster.crs_wkt)
    else:
        points = points_to_raster_crs(points, points_crs, raster.crs_wkt)
    if not points:
        raise QueryInputError("Query by example needs at least one example point.")
    example_pixels(raster, points)
    embedding = embed_raster(raster, context.scaled(0, EMBED_SHARE))
    grid = Grid.of(embedding.path)
    examples = pixel_embeddings(embedding.path, [grid.pixel(x, y) for x, y in points])
    centre = examples.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    cosine = score_embeddings(
        [embedding.path], lambda pixels: matmul(pixels, centre), after_embedding(context.feedback, embedding)
    )
    low, high = float(np.nanmin(cosine)), float(np.nanmax(cosine))
    heat = (cosine - low) / max(high - low, 1e-12)
    threshold = otsu_threshold(heat) if threshold is None else threshold
    details = {"examples": str(len(points)), "cosine_min": f"{low:.6g}", "cosine_max": f"{high:.6g}"}
    return outputs.finish(context, heat, grid, threshold, details, embedding.cached)
