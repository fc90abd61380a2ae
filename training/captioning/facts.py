"""Facts: the typed evidence about one sample that captions are written from and checked against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import numpy as np

from model_core.bands import MODEL_BANDS

from .themes import LABEL_THEMES, LULC_THEMES, THEMES

# Pixel rules (reflectance fractions, dB). Water: MNDWI > 0.3 with dark NIR (separates it from snow and shadow).
WATER_MNDWI, WATER_NDWI, WATER_MAX_NIR = 0.3, 0.2, 0.1
DENSE_NDVI, SPARSE_NDVI = 0.5, 0.2
SNOW_NDSI, SNOW_MIN_GREEN = 0.4, 0.2
CLOUD_MIN_VISIBLE = 0.3
BUILT_NDBI = 0.05
S1_WATER_VV_DB = -15.0
RADAR_ONLY_CLOUD = 0.5  # cloud fraction above which radar water evidence replaces the optical one
PIXEL_SIZE_M = 10.0
# Slope classes (mean slope, degrees): below each limit.
SLOPE_CLASSES: tuple[tuple[float, str], ...] = ((2.0, "flat"), (5.0, "gently rolling"), (15.0, "hilly"))
STEEP_CLASS = "mountainous"


@dataclass
class Facts:
    """Evidence about one sample: land-cover fractions, spectral indices, radar water, terrain, place and time."""

    dataset: str
    sample_id: str
    split: str
    valid_fraction: float
    landcover: dict[str, float] = field(default_factory=dict)  # theme -> fraction of valid pixels (or label share)
    landcover_source: str = "none"  # "lulc", "labels" or "none"
    labels: list[str] = field(default_factory=list)  # class labels (training split only)
    ndvi_mean: float = 0.0
    ndwi_mean: float = 0.0
    mndwi_mean: Optional[float] = None
    ndbi_mean: Optional[float] = None
    dense_vegetation_fraction: float = 0.0
    sparse_vegetation_fraction: float = 0.0
    water_fraction_optical: float = 0.0
    snow_fraction: float = 0.0
    cloud_fraction: float = 0.0
    bare_fraction: float = 0.0
    builtup_index_fraction: Optional[float] = None
    water_fraction_s1: Optional[float] = None
    elevation_mean: Optional[float] = None
    relief: Optional[float] = None
    slope_mean_deg: Optional[float] = None
    slope_class: Optional[str] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    region: Optional[str] = None
    latitude_band: Optional[str] = None
    date: Optional[str] = None
    season: Optional[str] = None

    @property
    def water_fraction(self) -> float:
        """Largest water evidence of the optical index and land cover; radar counts only under clouds.

        Low VV backscatter also comes from smooth dry soil, sand and snow, so radar alone is not trusted when
        the optical bands can see the ground.
        """
        radar = (self.water_fraction_s1 or 0.0) if self.cloud_fraction >= RADAR_ONLY_CLOUD else 0.0
        return max(self.water_fraction_optical, self.landcover.get("water", 0.0), radar)

    def dominant(self, minimum: float = 0.1) -> list[str]:
        """Land-cover themes with at least `minimum` share, largest first."""
        return [t for t, f in sorted(self.landcover.items(), key=lambda kv: -kv[1]) if f >= minimum]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, floats rounded to 4 decimals."""
        return {
            key: (round(value, 4) if isinstance(value, float) else value)
            for key, value in asdict(self).items()
            if key != "landcover"
        } | {"landcover": {k: round(v, 4) for k, v in self.landcover.items()}}


def _band(image: np.ndarray, name: str) -> np.ndarray:
    return image[MODEL_BANDS.index(name)]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (a + b)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else 0.0


def landcover_from_lulc(lulc: np.ndarray) -> dict[str, float]:
    """Theme fractions of the labelled (non-zero) LULC pixels."""
    labelled = lulc[lulc > 0]
    if labelled.size == 0:
        return {}
    values, counts = np.unique(labelled, return_counts=True)
    shares: dict[str, float] = {}
    for value, count in zip(values.tolist(), counts.tolist()):
        theme = LULC_THEMES.get(int(value))
        if theme:
            shares[theme] = shares.get(theme, 0.0) + count / labelled.size
    return shares


def landcover_from_labels(labels: list[str]) -> dict[str, float]:
    """Theme shares of a multi-label list (each label counts equally; fractions are only indicative)."""
    themes = [LABEL_THEMES[label] for label in labels if label in LABEL_THEMES]
    return {theme: themes.count(theme) / len(themes) for theme in THEMES if theme in themes}


def spectral_facts(image: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    """Index means and pixel fractions (water, vegetation, snow, cloud, bare, built-up) over valid pixels."""
    present = {name for name, flag in zip(MODEL_BANDS, band_mask) if flag}
    green, red, nir = _band(image, "B03"), _band(image, "B04"), _band(image, "B08")
    ndvi, ndwi = _ratio(nir, red), _ratio(green, nir)
    mndwi = _ratio(green, _band(image, "B11")) if "B11" in present else None
    ndbi = _ratio(_band(image, "B11"), nir) if "B11" in present else None
    water = (mndwi > WATER_MNDWI) if mndwi is not None else (ndwi > WATER_NDWI)
    water &= nir < WATER_MAX_NIR
    snow = (mndwi > SNOW_NDSI) & (green > SNOW_MIN_GREEN) & ~water if mndwi is not None else np.zeros_like(water)
    cloud = ((_band(image, "B02") + green + red) / 3 > CLOUD_MIN_VISIBLE) & ~snow
    bare = (ndvi < SPARSE_NDVI) & ~water & ~snow & ~cloud
    facts: dict[str, Any] = {
        "ndvi_mean": _mean(ndvi, valid),
        "ndwi_mean": _mean(ndwi, valid),
        "mndwi_mean": _mean(mndwi, valid) if mndwi is not None else None,
        "ndbi_mean": _mean(ndbi, valid) if ndbi is not None else None,
        "dense_vegetation_fraction": _mean(ndvi > DENSE_NDVI, valid),
        "sparse_vegetation_fraction": _mean((ndvi > SPARSE_NDVI) & (ndvi <= DENSE_NDVI), valid),
        "water_fraction_optical": _mean(water, valid),
        "snow_fraction": _mean(snow, valid),
        "cloud_fraction": _mean(cloud, valid),
        "bare_fraction": _mean(bare, valid),
        "builtup_index_fraction": _mean((ndbi > BUILT_NDBI) & bare, valid) if ndbi is not None else None,
    }
    if {"VV", "VH"} <= present:
        facts["water_fraction_s1"] = _mean(_band(image, "VV") < S1_WATER_VV_DB, valid)
    return facts


def terrain_facts(dem: np.ndarray) -> dict[str, Any]:
    """Mean elevation, relief (2nd-98th percentile range) and mean slope with its class, from a DEM in metres."""
    height = dem.reshape(dem.shape[-2:]).astype(np.float64)
    rows, cols = np.gradient(height, PIXEL_SIZE_M)
    slope = float(np.degrees(np.arctan(np.hypot(rows, cols))).mean())
    low, high = np.percentile(height, [2, 98])
    slope_class = next((name for limit, name in SLOPE_CLASSES if slope < limit), STEEP_CLASS)
    return {
        "elevation_mean": float(height.mean()),
        "relief": float(high - low),
        "slope_mean_deg": slope,
        "slope_class": slope_class,
    }
