"""Sen1Floods11 reader: one 512x512 chip of aligned Sentinel-2 L1C and Sentinel-1 (Spain), without its water label."""

from __future__ import annotations

from typing import Any

from model_core.io import open_raster

from .base import GeoDataset
from .rasters import read_array, read_s2
from .sample import Sample, add_s1, make_sample
from .splits import row_band_window

CHIP_DATES: dict[str, str] = {"Spain_7370579": "2019-09-18"}  # s2_date of Spain in Sen1Floods11_Metadata.geojson
VAL_ROWS = 128


class Sen1Floods11(GeoDataset):
    """The Sen1Floods11 sample chip of `sen1floods11_sample/`: S2 (13 bands) + S1 VV/VH (dB).

    Data source: Sen1Floods11 (Bonafilia et al., CVPRW 2020), GitHub cloudtostreet/Sen1Floods11 `sample/`. The repo
    states no licence; the dataset is commonly redistributed as CC BY 4.0 (cite the paper); contains modified
    Copernicus Sentinel data. The hand-labelled water mask is an evaluation target and is deliberately NOT read here.
    Split: spatial, rows 0-383 train, rows 384-511 val.
    """

    name = "sen1floods11"
    folder = "sen1floods11_sample"

    def list_items(self) -> list[dict[str, Any]]:
        """(chip, split) pairs."""
        chips = sorted(path.name[: -len("_S2Hand.tif")] for path in (self.root / "S2").glob("*_S2Hand.tif"))
        return [{"id": f"{chip}/{split}", "chip": chip, "split": split} for chip in chips for split in ("train", "val")]

    def load(self, item: dict[str, Any]) -> Sample:
        """The train or val rows of the chip."""
        raster = open_raster(self.root / "S2" / f"{item['chip']}_S2Hand.tif")
        window = row_band_window(raster.width, raster.height, item["split"], VAL_ROWS)
        image, band_mask, valid = read_s2(raster, window)
        add_s1(image, band_mask, read_array(str(self.root / "S1" / f"{item['chip']}_S1Hand.tif"), window))
        meta = self.sample_meta(item, raster, CHIP_DATES.get(item["chip"]), raster.path, window)
        return make_sample(image, band_mask, valid, [], meta)
