"""Geodesic areas (WGS84 ellipsoid) of polygons in any CRS, and the per-class area table as CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

from ..atomic import write_text_atomic

SQUARE_METRES_PER_HECTARE = 10_000.0


class GeodesicArea:
    """Areas in hectares of shapely polygons given in `crs_wkt`, measured on the WGS84 ellipsoid."""

    def __init__(self, crs_wkt: str) -> None:
        self._to_lonlat = Transformer.from_crs(CRS.from_wkt(crs_wkt), CRS.from_epsg(4326), always_xy=True)
        self._geod = Geod(ellps="WGS84")

    def _ring_m2(self, ring: shapely.LinearRing) -> float:
        coords = np.asarray(ring.coords)
        lons, lats = self._to_lonlat.transform(coords[:, 0], coords[:, 1])
        return abs(self._geod.polygon_area_perimeter(lons, lats)[0])

    def hectares(self, geometry: BaseGeometry) -> float:
        """Area of a (multi)polygon in hectares; holes are subtracted."""
        total = 0.0
        for polygon in shapely.get_parts(geometry):
            if polygon.geom_type != "Polygon" or polygon.is_empty:
                continue
            total += self._ring_m2(polygon.exterior) - sum(self._ring_m2(ring) for ring in polygon.interiors)
        return total / SQUARE_METRES_PER_HECTARE


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
