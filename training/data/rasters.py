"""GDAL helpers of the readers: Sentinel-2 through model_core.io, plain arrays for S1/DEM/labels, band-file stacks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
from osgeo import gdal

from model_core.io import SentinelRaster, Window, open_raster

from .sample import centre_lonlat, epsg_code

gdal.UseExceptions()


def read_array(path: str, window: Optional[Window] = None) -> np.ndarray:
    """All bands of a raster (or a window of it) as an array (bands, h, w), with GDAL's native dtype."""
    dataset = gdal.Open(str(path))
    if window is None:
        data = dataset.ReadAsArray()
    else:
        data = dataset.ReadAsArray(window.col, window.row, window.width, window.height)
    return data[np.newaxis] if data.ndim == 2 else data


def read_s2(raster: SentinelRaster, window: Optional[Window] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image (15, h, w) float32, a writable copy of the band mask, and the valid mask of a Sentinel raster."""
    return raster.read(window), raster.band_mask.copy(), raster.valid_mask(window)


def location_meta(raster: SentinelRaster, window: Optional[Window] = None) -> dict[str, Any]:
    """`lat`, `lon` (centre, WGS84; None without a CRS) and `crs` ('EPSG:xxxx' or '') of a raster or window."""
    window = window or raster.full_window()
    geotransform = raster.window_geotransform(window) if raster.geotransform else ()
    lon, lat = centre_lonlat(geotransform, raster.crs_wkt, window.width, window.height)
    return {"lat": lat, "lon": lon, "crs": epsg_code(raster.crs_wkt)}


def open_stacked(files: Sequence[str], band_names: Sequence[str]) -> SentinelRaster:
    """Open single-band files at 10/20/60 m as one Sentinel raster on the finest grid (nearest neighbour)."""
    path = f"/vsimem/geomeld_stack_{uuid.uuid4().hex}.vrt"
    vrt = gdal.BuildVRT(path, list(files), separate=True, resolution="highest", resampleAlg="nearest")
    for index, name in enumerate(band_names, start=1):
        vrt.GetRasterBand(index).SetDescription(name)
    vrt.FlushCache()
    vrt = None
    try:
        return open_raster(path)
    finally:
        gdal.Unlink(path)  # the open dataset keeps the parsed VRT
