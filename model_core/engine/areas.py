"""Geodesic areas (WGS84 ellipsoid) of polygons in any CRS, and the per-class area table as CSV.

Geometries are OGR's (GDAL's), which use the GEOS library that QGIS itself loads: a second GEOS (as bundled in the
shapely wheels) in the QGIS process gets its symbols bound to QGIS's copy and fails or crashes there.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from osgeo import ogr
from pyproj import CRS, Geod, Transformer

from ..atomic import write_text_atomic

ogr.UseExceptions()

SQUARE_METRES_PER_HECTARE = 10_000.0


def polygons_of(geometry: ogr.Geometry) -> list[ogr.Geometry]:
    """The non-empty polygons in a geometry: itself, or the polygon parts of a multi-part geometry or collection."""
    kind = ogr.GT_Flatten(geometry.GetGeometryType())
    if kind == ogr.wkbPolygon:
        return [] if geometry.IsEmpty() else [geometry]
    if kind in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        return [
            polygon
            for index in range(geometry.GetGeometryCount())
            for polygon in polygons_of(geometry.GetGeometryRef(index))
        ]
    return []


class GeodesicArea:
    """Areas in hectares of polygons given in `crs_wkt`, measured on the WGS84 ellipsoid."""

    def __init__(self, crs_wkt: str) -> None:
        self._to_lonlat = Transformer.from_crs(CRS.from_wkt(crs_wkt), CRS.from_epsg(4326), always_xy=True)
        self._geod = Geod(ellps="WGS84")

    def ring_hectares(self, x: np.ndarray, y: np.ndarray) -> float:
        """Area enclosed by a ring of CRS coordinates (closed or not), in hectares."""
        lons, lats = self._to_lonlat.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return abs(self._geod.polygon_area_perimeter(lons, lats)[0]) / SQUARE_METRES_PER_HECTARE

    def _ring(self, ring: ogr.Geometry) -> float:
        points = np.asarray(ring.GetPoints(), dtype=np.float64)
        return self.ring_hectares(points[:, 0], points[:, 1]) if len(points) >= 3 else 0.0

    def hectares(self, geometry: ogr.Geometry) -> float:
        """Area of an OGR (multi)polygon in hectares; holes are subtracted."""
        return sum(
            self._ring(polygon.GetGeometryRef(0))
            - sum(self._ring(polygon.GetGeometryRef(index)) for index in range(1, polygon.GetGeometryCount()))
            for polygon in polygons_of(geometry)
        )


def write_area_csv(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Write the per-class table (class_id, class_name, polygons, area_ha, percent) atomically."""
    path = Path(path)
    total = sum(row["area_ha"] for row in rows) or 1.0
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["class_id", "class_name", "polygons", "area_ha", "percent"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(dict(row, area_ha=f"{row['area_ha']:.4f}", percent=f"{100.0 * row['area_ha'] / total:.2f}"))
    return write_text_atomic(path, buffer.getvalue(), ".tmp.csv")
