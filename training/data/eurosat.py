"""EuroSAT-MS reader (13-band 64x64 Sentinel-2 L1C patches with one land-use class each)."""

from __future__ import annotations

import csv
from typing import Any

from model_core.io import open_raster

from .base import GeoDataset
from .rasters import read_s2
from .sample import Sample, epsg_code, make_sample
from .splits import stratified_split

EXTRA_FOLDER = "eurosat_ms_extra"


class EuroSATMS(GeoDataset):
    """EuroSAT-MS patches from `eurosat_ms/` and `eurosat_ms_extra/`, labelled with their class name.

    Data source: EuroSAT (Helber et al. 2019, https://github.com/phelber/EuroSAT), a ~1 % subset taken from
    GitHub shrey160/EuroSAT_MS_Deep_Learning plus 3 patches from kai-tub/rico-hdl. Licence: MIT; contains modified
    Copernicus Sentinel data. Band order on disk has B8A LAST (read with the `eurosat` layout). Split: the
    official test split is held out elsewhere, so the available patches get a stratified 80/20 train/val split
    per class with seed 0. lat/lon come from the manifest; the acquisition date is unknown.
    """

    name = "eurosat_ms"
    folder = "eurosat_ms"

    def list_items(self) -> list[dict[str, Any]]:
        """Rows of both manifests, with the stratified split."""
        rows = []
        for folder in (self.root, self.root.parent / EXTRA_FOLDER):
            manifest = folder / "manifest.csv"
            if not manifest.exists():
                continue
            with open(manifest, newline="") as handle:
                for row in csv.DictReader(handle):
                    path = folder / row["file"]
                    rows.append(
                        {
                            "id": f"{folder.name}/{path.stem}",
                            "path": str(path),
                            "label": row["label"],
                            "lat": float(row["center_lat"]),
                            "lon": float(row["center_lon"]),
                        }
                    )
        splits = stratified_split([r["id"] for r in rows], [r["label"] for r in rows])
        for row in rows:
            row["split"] = splits[row["id"]]
        return sorted(rows, key=lambda r: r["id"])

    def load(self, item: dict[str, Any]) -> Sample:
        """One patch: 64x64 image, the class as its only label."""
        raster = open_raster(item["path"], bands="eurosat")
        image, band_mask, valid = read_s2(raster)
        meta = {
            "dataset": self.name,
            "id": item["id"],
            "split": item["split"],
            "lat": item["lat"],
            "lon": item["lon"],
            "date": None,
            "crs": epsg_code(raster.crs_wkt),
            "source_path": item["path"],
        }
        return make_sample(image, band_mask, valid, [item["label"]], meta)
