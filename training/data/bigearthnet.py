"""BigEarthNet v2.0 (reBEN) Sentinel-2 L2A reader: 12-band 120x120 patches with 19-class multi-labels."""

from __future__ import annotations

import csv
import re
from typing import Any, Optional

from model_core.io import open_raster

from .base import GeoDataset
from .rasters import read_s2
from .sample import Sample, make_sample

# Official BigEarthNet split names -> ours. The official test split is held out and never read here.
OFFICIAL_SPLITS: dict[str, str] = {"train": "train", "validation": "val", "test": "val"}
_DATE = re.compile(r"_(\d{4})(\d{2})(\d{2})T\d+")


def date_from_name(name: str) -> Optional[str]:
    """ISO date from a Sentinel product-style name such as S2A_MSIL2A_20170613T101031_..., or None."""
    match = _DATE.search(name)
    return "-".join(match.groups()) if match else None


def split_labels(text: str) -> list[str]:
    """Labels stored '|'-separated in a CSV cell."""
    return [label for label in text.split("|") if label]


class BigEarthNetV2S2(GeoDataset):
    """BigEarthNet v2.0 patches of `bigearthnet_v2_s2/` with their 19-class labels and official split.

    Data source: BigEarthNet v2.0 (Clasen et al. 2024, https://bigearth.net), patches and official metadata collected
    from GitHub StaticRevo/FYP-Multi-Label-Classification-using-Deep-Learning. Licence: CDLA-Permissive-1.0; contains
    modified Copernicus Sentinel data. 12 bands (no B10: band_mask[B10] = 0), L2A reflectance x 10000, nodata 0.
    Split: official (train -> train, validation -> val).
    """

    name = "bigearthnet_v2_s2"
    folder = "bigearthnet_v2_s2"

    def list_items(self) -> list[dict[str, Any]]:
        """Rows of labels.csv."""
        with open(self.root / "labels.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            {
                "id": row["patch_id"],
                "path": str(self.root / row["file"]),
                "labels": split_labels(row["labels"]),
                "split": OFFICIAL_SPLITS[row["split"]],
            }
            for row in sorted(rows, key=lambda r: r["patch_id"])
        ]

    def load(self, item: dict[str, Any]) -> Sample:
        """One 120x120 patch."""
        raster = open_raster(item["path"])
        image, band_mask, valid = read_s2(raster)
        meta = self.sample_meta(item, raster, date_from_name(item["id"]), item["path"])
        return make_sample(image, band_mask, valid, item["labels"], meta)
