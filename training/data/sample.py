"""The training sample format shared by every reader: a torchgeo-style dict of numpy arrays.

```
{"image": float32 (15, H, W) in MODEL_BANDS order (S2 reflectance fraction, S1 dB in channels 13-14),
 "band_mask": float32 (15,) 1 = band present,
 "valid": bool (H, W),
 "dem": float32 (1, H, W) metres (only where the source has one),
 "lulc": int64 (H, W) TerraMesh classes 0..9, 0 = no data / ignore (only where present),
 "labels": list[str] class names, possibly empty,
 "meta": {"dataset", "id", "split", "lat", "lon", "date", "crs", "source_path", ...}}
```
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from osgeo import osr

from model_core.bands import MODEL_BANDS, S1_BANDS

Sample = dict[str, Any]
SPLITS: tuple[str, ...] = ("train", "val")
# TerraMind-remapped ESRI land cover classes of TerraMesh (index = class value).
LULC_CLASSES: tuple[str, ...] = (
    "no data",
    "water",
    "trees",
    "flooded vegetation",
    "crops",
    "built area",
    "bare ground",
    "snow/ice",
    "clouds",
    "rangeland",
)
S1_CHANNELS: tuple[int, ...] = tuple(MODEL_BANDS.index(b) for b in S1_BANDS)
META_KEYS: tuple[str, ...] = ("dataset", "id", "split", "lat", "lon", "date", "crs", "source_path")


def make_sample(
    image: np.ndarray,
    band_mask: np.ndarray,
    valid: np.ndarray,
    labels: list[str],
    meta: dict[str, Any],
    dem: Optional[np.ndarray] = None,
    lulc: Optional[np.ndarray] = None,
) -> Sample:
    """Assemble a sample dict with the exact dtypes of the format; dem/lulc keys only when given."""
    if meta.get("split") not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {meta.get('split')!r}")
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise ValueError(f"sample meta lacks {missing}")
    sample: Sample = {
        "image": np.ascontiguousarray(image, dtype=np.float32),
        "band_mask": np.asarray(band_mask, dtype=np.float32),
        "valid": np.asarray(valid, dtype=bool),
        "labels": list(labels),
        "meta": dict(meta),
    }
    if dem is not None:
        sample["dem"] = np.asarray(dem, dtype=np.float32).reshape(1, *sample["valid"].shape)
    if lulc is not None:
        sample["lulc"] = np.asarray(lulc, dtype=np.int64)
    return sample


def add_s1(sample_image: np.ndarray, band_mask: np.ndarray, vv_vh: np.ndarray) -> np.ndarray:
    """Put Sentinel-1 VV, VH (dB, shape (2, H, W)) into channels 13-14 in place; non-finite values become 0."""
    sample_image[list(S1_CHANNELS)] = np.nan_to_num(vv_vh.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    band_mask[list(S1_CHANNELS)] = 1.0
    return sample_image


def epsg_code(crs_wkt: str) -> str:
    """'EPSG:xxxx' for a WKT with an authority code, '' for no CRS."""
    if not crs_wkt:
        return ""
    srs = osr.SpatialReference(wkt=crs_wkt)
    srs.AutoIdentifyEPSG()
    code = srs.GetAuthorityCode(None)
    return f"EPSG:{code}" if code else srs.GetName()


def centre_lonlat(
    geotransform: tuple[float, ...], crs_wkt: str, width: int, height: int
) -> tuple[Optional[float], Optional[float]]:
    """Longitude and latitude (WGS84) of the centre of a georeferenced grid; (None, None) without a CRS."""
    if not crs_wkt or not geotransform:
        return None, None
    x0, dx, rx, y0, ry, dy = geotransform
    x = x0 + dx * width / 2 + rx * height / 2
    y = y0 + ry * width / 2 + dy * height / 2
    source = osr.SpatialReference(wkt=crs_wkt)
    target = osr.SpatialReference()
    target.ImportFromEPSG(4326)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(source, target).TransformPoint(x, y)
    return round(float(lon), 5), round(float(lat), 5)
