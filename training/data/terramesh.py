"""TerraMesh reader: aligned Sentinel-2 (L1C and L2A views), Sentinel-1 RTC, Copernicus DEM and LULC, 224x224 chips."""

from __future__ import annotations

from typing import Any

from model_core.io import open_raster

from .base import GeoDataset
from .rasters import read_array, read_s2
from .sample import Sample, add_s1, make_sample
from .splits import row_band_window

# Acquisition dates of the 5 example locations (from the data README).
DATES: dict[str, str] = {
    "282D_485L_3_3": "2021-07-23",
    "38D_378R_2_3": "2023-06-10",
    "433D_629L_3_1": "2020-04-08",
    "609U_541L_3_0": "2020-01-11",
    "637U_59R_1_3": "2017-10-30",
}
VIEWS: tuple[str, ...] = ("S2L1C", "S2L2A")
VAL_ROWS = 64  # bottom 64 of 224 rows are validation


class TerraMesh(GeoDataset):
    """TerraMesh example chips of `terramesh_examples/`: S2 + S1 (VV, VH dB) + DEM (metres) + LULC (classes 0..9).

    Data source: TerraMesh (Blumenstiel et al. 2025), the public TerraMind examples (IBM/ESA) via GitHub
    tieshort/Map-Generation. Licence: CC-BY-SA-4.0 (share-alike; derived data keep it); contains modified
    Copernicus Sentinel data, Copernicus DEM GLO-30 and ESRI / Impact Observatory LULC.
    Each location gives one sample per S2 view (`views`: L1C 13 bands and L2A 12 bands, the second view of the
    same place). NDVI is not loaded: it is computed from B04/B08 of the image. Split: with 5 locations a split by
    location is impossible, so each chip is cut in spatial halves: rows 0-159 train, rows 160-223 val.
    """

    name = "terramesh"
    folder = "terramesh_examples"

    def __init__(self, root=None, split=None, views: tuple[str, ...] = VIEWS) -> None:
        self.views = tuple(views)
        super().__init__(root, split)

    def list_items(self) -> list[dict[str, Any]]:
        """(location, view, split) triples."""
        locations = sorted(path.stem for path in (self.root / "S2L1C").glob("*.tif"))
        return [
            {"id": f"{location}/{view}/{split}", "location": location, "view": view, "split": split}
            for location in locations
            for view in self.views
            for split in ("train", "val")
        ]

    def load(self, item: dict[str, Any]) -> Sample:
        """The train or val rows of one chip, with every modality."""
        raster = open_raster(self.root / item["view"] / f"{item['location']}.tif")
        window = row_band_window(raster.width, raster.height, item["split"], VAL_ROWS)
        image, band_mask, valid = read_s2(raster, window)
        add_s1(image, band_mask, read_array(self._path("S1RTC", item), window))
        dem = read_array(self._path("DEM", item), window)
        lulc = read_array(self._path("LULC", item), window)[0]
        meta = self.sample_meta(item, raster, DATES.get(item["location"]), raster.path, window)
        return make_sample(image, band_mask, valid, [], meta, dem=dem, lulc=lulc)

    def _path(self, modality: str, item: dict[str, Any]) -> str:
        return str(self.root / modality / f"{item['location']}.tif")
