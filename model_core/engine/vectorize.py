"""Class raster -> polygons: GDAL polygonize (8-connected), optional topology-preserving simplification, valid
geometries, slivers below a minimum area dropped, geodesic areas; a GeoPackage plus a per-class area CSV."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from osgeo import gdal, ogr, osr

from ..errors import RasterInputError, reading
from ..feedback import Feedback, ensure_feedback
from ..outputs import check_outputs
from .areas import GeodesicArea, polygons_of, write_area_csv
from .classmap import class_names_of
from .vector_io import add_feature, atomic_gpkg

gdal.UseExceptions()
ogr.UseExceptions()


@dataclass
class VectorizeResult:
    """The GeoPackage and CSV written, polygon counts and hectares per class name."""

    path: Path
    csv_path: Path
    polygons: int
    dropped: int
    areas_ha: dict[str, float]
    seconds: float


def _polygonize(band: gdal.Band, crs_wkt: str, feedback: Feedback) -> ogr.DataSource:
    """In-memory layer of 8-connected regions with their class value in field 'class_id'."""
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = memory.CreateLayer("regions", osr.SpatialReference(wkt=crs_wkt) if crs_wkt else None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))

    def progress(fraction: float, _message: str, _data: object) -> int:
        feedback.set_progress(50.0 * fraction)
        return 0 if feedback.cancelled() else 1

    try:
        gdal.Polygonize(band, band.GetMaskBand(), layer, 0, ["8CONNECTED=8"], callback=progress)
    except RuntimeError:
        feedback.check_cancelled()
        raise
    return memory


def _polygonal(geometry: ogr.Geometry) -> ogr.Geometry:
    """The polygon parts of a geometry (MakeValid may return a collection) as one MultiPolygon."""
    multipolygon = ogr.Geometry(ogr.wkbMultiPolygon)
    for polygon in polygons_of(geometry):
        multipolygon.AddGeometry(polygon)
    return multipolygon


def area_table_path(out_gpkg: str | os.PathLike) -> Path:
    """The per-class area CSV written beside a GeoPackage of class polygons."""
    return Path(out_gpkg).with_suffix(".csv")


def vectorize_classes(
    class_raster_path: str | os.PathLike,
    out_gpkg: str | os.PathLike,
    *,
    simplify_tolerance: float | None = None,
    min_area_ha: float = 0.0,
    feedback: Feedback | None = None,
) -> VectorizeResult:
    """Polygons of a class raster (0 = nodata) with class_id, class_name and geodesic area_ha, written atomically
    to a GeoPackage, and `<name>.csv` beside it with the area per class."""
    feedback = ensure_feedback(feedback)
    started = time.perf_counter()
    out_gpkg = Path(out_gpkg)
    check_outputs([[out_gpkg, area_table_path(out_gpkg)]], [class_raster_path])
    try:
        dataset = gdal.Open(str(class_raster_path))
    except RuntimeError as exc:
        raise RasterInputError(f"'{class_raster_path}' is not a raster GDAL can read ({exc}).") from None
    band = dataset.GetRasterBand(1)
    if gdal.GetDataTypeName(band.DataType) not in ("Byte", "UInt16", "Int16", "UInt32", "Int32"):
        raise RasterInputError(f"'{class_raster_path}' is not a class raster (its values are not integers).")
    crs_wkt = dataset.GetProjection()
    if not crs_wkt:
        raise RasterInputError(f"'{class_raster_path}' has no CRS, so areas cannot be measured.")
    names = class_names_of(dataset)
    with reading(class_raster_path, "write the class raster again"):
        memory = _polygonize(band, crs_wkt, feedback)
    regions = memory.GetLayer(0)
    area = GeodesicArea(crs_wkt)
    totals: dict[int, list] = {}
    dropped = kept = 0
    fields = [("class_id", int), ("class_name", str), ("area_ha", float)]
    count = max(regions.GetFeatureCount(), 1)
    with atomic_gpkg(out_gpkg, out_gpkg.stem, ogr.wkbMultiPolygon, crs_wkt, fields) as layer:
        for number, region in enumerate(regions):
            if number % 1000 == 0:
                feedback.check_cancelled()
                feedback.set_progress(50.0 + 50.0 * number / count)
            class_id = int(region.GetField("class_id"))
            if class_id == 0:
                continue
            geometry = region.GetGeometryRef()
            if simplify_tolerance:
                geometry = geometry.SimplifyPreserveTopology(simplify_tolerance)
            geometry = _polygonal(geometry.MakeValid())
            hectares = area.hectares(geometry)
            if geometry.IsEmpty() or hectares < min_area_ha:
                dropped += 1
                continue
            name = names[class_id - 1] if 0 < class_id <= len(names) else f"class {class_id}"
            values = {"class_id": class_id, "class_name": name, "area_ha": round(hectares, 6)}
            add_feature(layer, geometry, values)
            entry = totals.setdefault(class_id, [name, 0, 0.0])
            entry[1] += 1
            entry[2] += hectares
            kept += 1
    rows = [
        {"class_id": class_id, "class_name": name, "polygons": polygons, "area_ha": hectares}
        for class_id, (name, polygons, hectares) in sorted(totals.items())
    ]
    try:
        csv_path = write_area_csv(area_table_path(out_gpkg), rows)
    except BaseException:
        os.remove(out_gpkg)
        raise
    feedback.set_progress(100.0)
    return VectorizeResult(
        out_gpkg,
        csv_path,
        kept,
        dropped,
        {row["class_name"]: row["area_ha"] for row in rows},
        time.perf_counter() - started,
    )
