"""eo-learn TestEOPatch reader: 5 Sentinel-2 L1C scenes of one 1 x 1 km Slovenian site with DEM and a land-use map."""

from __future__ import annotations

from typing import Any

from model_core.io import open_raster

from .base import GeoDataset
from .rasters import read_array, read_s2
from .sample import Sample, make_sample

SCENES = 5
VAL_SCENES: tuple[int, ...] = (4,)
# eo-learn's Slovenian LULC classes (probable meaning, see the data README); not the TerraMesh classes.
LULC_EOLEARN_CLASSES: dict[int, str] = {
    0: "no data",
    1: "cultivated land",
    2: "forest",
    3: "grassland",
    4: "shrubland",
    8: "artificial surface",
}


class SloveniaEOPatch(GeoDataset):
    """The 5 scenes of `eolearn_testeopatch_slovenia/` (101x100 px, float reflectance 0..1) with `dem`.

    Data source: GitHub sentinel-hub/eo-learn example data (TestEOPatch, REFERENCE_SCENES), converted to GeoTIFF.
    Licence: MIT (Sinergise); contains modified Copernicus Sentinel data. Its land-use raster uses other classes than
    TerraMesh, so it is kept as `meta["lulc_eolearn"]` (uint8 (H, W), classes in LULC_EOLEARN_CLASSES), never as
    `lulc`. Split: the scenes show the same site on different dates; scene 4 is val, scenes 0-3 train.
    """

    name = "slovenia_eopatch"
    folder = "eolearn_testeopatch_slovenia"

    def list_items(self) -> list[dict[str, Any]]:
        """One item per scene."""
        return [{"id": f"scene_{i}", "scene": i, "split": "val" if i in VAL_SCENES else "train"} for i in range(SCENES)]

    def load(self, item: dict[str, Any]) -> Sample:
        """One scene with DEM and the eo-learn land-use map."""
        raster = open_raster(self.root / f"reference_scene_{item['scene']}_s2l1c.tif")
        image, band_mask, valid = read_s2(raster)
        meta = {
            **self.sample_meta(item, raster, None, raster.path),
            "lulc_eolearn": read_array(str(self.root / "lulc.tif"))[0].astype("uint8"),
        }
        return make_sample(image, band_mask, valid, [], meta, dem=read_array(str(self.root / "dem.tif")))
