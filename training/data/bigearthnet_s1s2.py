"""BigEarthNet readers with aligned Sentinel-1 (VV, VH) and Sentinel-2: the v1 example pairs and the ConfigILM set."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from model_core.bands import S2_BANDS
from model_core.io import open_raster

from .base import GeoDataset
from .bigearthnet import OFFICIAL_SPLITS, date_from_name, split_labels
from .rasters import open_stacked, read_array, read_s2
from .sample import Sample, add_s1, make_sample
from .splits import seeded_split

# CORINE level-3 (BigEarthNet v1, 43 classes) -> BigEarthNet 19-class nomenclature; absent keys have no 19-class label.
CLC43_TO_19: dict[str, str] = {
    "Continuous urban fabric": "Urban fabric",
    "Discontinuous urban fabric": "Urban fabric",
    "Industrial or commercial units": "Industrial or commercial units",
    "Non-irrigated arable land": "Arable land",
    "Permanently irrigated land": "Arable land",
    "Rice fields": "Arable land",
    "Vineyards": "Permanent crops",
    "Fruit trees and berry plantations": "Permanent crops",
    "Olive groves": "Permanent crops",
    "Annual crops associated with permanent crops": "Permanent crops",
    "Pastures": "Pastures",
    "Complex cultivation patterns": "Complex cultivation patterns",
    "Land principally occupied by agriculture, with significant areas of natural vegetation": (
        "Land principally occupied by agriculture, with significant areas of natural vegetation"
    ),
    "Agro-forestry areas": "Agro-forestry areas",
    "Broad-leaved forest": "Broad-leaved forest",
    "Coniferous forest": "Coniferous forest",
    "Mixed forest": "Mixed forest",
    "Natural grassland": "Natural grassland and sparsely vegetated areas",
    "Sparsely vegetated areas": "Natural grassland and sparsely vegetated areas",
    "Moors and heathland": "Moors, heathland and sclerophyllous vegetation",
    "Sclerophyllous vegetation": "Moors, heathland and sclerophyllous vegetation",
    "Transitional woodland/shrub": "Transitional woodland, shrub",
    "Beaches, dunes, sands": "Beaches, dunes, sands",
    "Inland marshes": "Inland wetlands",
    "Peatbogs": "Inland wetlands",
    "Salt marshes": "Coastal wetlands",
    "Salines": "Coastal wetlands",
    "Water courses": "Inland waters",
    "Water bodies": "Inland waters",
    "Coastal lagoons": "Marine waters",
    "Estuaries": "Marine waters",
    "Sea and ocean": "Marine waters",
}
# Bands of the BigEarthNet v1 S2 folders (no B10).
V1_S2_BANDS: tuple[str, ...] = tuple(b for b in S2_BANDS if b != "B10")


def clc43_to_19(labels: list[str]) -> list[str]:
    """19-class labels of a list of CLC-43 labels (sorted, without duplicates)."""
    return sorted({CLC43_TO_19[label] for label in labels if label in CLC43_TO_19})


class BigEarthNetS1S2Examples(GeoDataset):
    """The 6 BigEarthNet v1 S1+S2 example pairs of `bigearthnet_v1_s1s2_examples/`.

    Data source: BigEarthNet-S1/S2 v1.0 (BigEarthNet-MM), example archives of the PyPI package bigearthnet-common
    2.8.0 (Apache-2.0, K. N. Clasen). Data licence: CDLA-Permissive-1.0; contains modified Copernicus Sentinel data.
    S2 bands are separate files at 10/20/60 m, stacked on the 120x120 10 m grid with nearest neighbour; S1 VV/VH in dB
    go to channels 13-14. CLC-43 labels are mapped to the 19-class nomenclature. No official split is shipped with
    the examples: seeded 80/20 split of the patch names (seed 0).
    """

    name = "bigearthnet_v1_s1s2"
    folder = "bigearthnet_v1_s1s2_examples"

    def list_items(self) -> list[dict[str, Any]]:
        """S1 folders paired with their S2 folder through `corresponding_s2_patch`."""
        items = []
        for s1_json in sorted((self.root / "BigEarthNet-S1-Example").glob("*/*_labels_metadata.json")):
            s1_meta = json.loads(s1_json.read_text())
            s2_name = s1_meta["corresponding_s2_patch"]
            s2_folder = self.root / "BigEarthNet-S2-Example" / s2_name
            s2_meta = json.loads((s2_folder / f"{s2_name}_labels_metadata.json").read_text())
            stem = s1_json.parent / s1_json.parent.name
            items.append(
                {
                    "id": s2_name,
                    "s2_files": [str(s2_folder / f"{s2_name}_{band}.tif") for band in V1_S2_BANDS],
                    "s1_files": [f"{stem}_VV.tif", f"{stem}_VH.tif"],
                    "labels": clc43_to_19(s2_meta["labels"]),
                    "date": s2_meta["acquisition_date"][:10],
                }
            )
        splits = seeded_split([item["id"] for item in items])
        for item in items:
            item["split"] = splits[item["id"]]
        return items

    def load(self, item: dict[str, Any]) -> Sample:
        """One 120x120 S1+S2 pair."""
        raster = open_stacked(item["s2_files"], V1_S2_BANDS)
        image, band_mask, valid = read_s2(raster)
        vv_vh = [read_array(path)[0] for path in item["s1_files"]]
        add_s1(image, band_mask, np.stack(vv_vh))
        meta = self.sample_meta(item, raster, item["date"], str(Path(item["s2_files"][0]).parent))
        return make_sample(image, band_mask, valid, item["labels"], meta)


class BigEarthNetS1S2ConfigILM(GeoDataset):
    """45 BigEarthNet v1/v2 S1+S2 patches of `bigearthnet_s1s2_configilm/` (12-band S2 + VV/VH), 19-class labels.

    Data source: mock data of the PyPI package configilm 0.7.1 (MIT, L. Hackel, TU Berlin), which are real
    BigEarthNet v1.0 / v2.0 patches. Data licence: CDLA-Permissive-1.0; contains modified Copernicus Sentinel data.
    v1 patches carry no CRS/transform (read with require_georeference=False; lat/lon None). Split: official split of
    the patch's BigEarthNet version (train -> train; validation and v1 test -> val, never trained on).
    """

    name = "bigearthnet_s1s2_configilm"
    folder = "bigearthnet_s1s2_configilm"

    def list_items(self) -> list[dict[str, Any]]:
        """Rows of labels.csv."""
        with open(self.root / "labels.csv", newline="") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda r: r["patch_id"])
        return [
            {
                "id": row["patch_id"],
                "s2": str(self.root / row["s2_file"]),
                "s1": str(self.root / row["s1_file"]),
                "labels": split_labels(row["labels"]),
                "split": OFFICIAL_SPLITS[row["split"]],
                "georeferenced": bool(row["crs"]),
            }
            for row in rows
        ]

    def load(self, item: dict[str, Any]) -> Sample:
        """One 120x120 S1+S2 patch."""
        raster = open_raster(item["s2"], require_georeference=item["georeferenced"])
        image, band_mask, valid = read_s2(raster)
        add_s1(image, band_mask, read_array(item["s1"]))
        meta = self.sample_meta(item, raster, date_from_name(item["id"]), item["s2"])
        return make_sample(image, band_mask, valid, item["labels"], meta)
