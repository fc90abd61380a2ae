"""Base class of the readers: a list of lightweight items filtered by split, each loaded into a sample on access."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from model_core.io import SentinelRaster, Window

from .rasters import location_meta
from .sample import SPLITS, Sample

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The real-data folder: $GEOMELD_SHARED_DATA, else ../shared/data next to the repository."""
    return Path(os.environ.get("GEOMELD_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


class GeoDataset:
    """Indexable dataset of sample dicts; subclasses list items (dicts with 'id' and 'split') and load one item.

    Subclasses set `name` (the `meta["dataset"]` value) and `folder` (under the shared data folder).
    """

    name = ""
    folder = ""

    def __init__(self, root: Optional[os.PathLike] = None, split: Optional[str] = None) -> None:
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
        self.root = Path(root) if root is not None else shared_data_dir() / self.folder
        if not self.root.exists():
            raise FileNotFoundError(f"{self.name}: data folder {self.root} does not exist")
        self.split = split
        self.items = [item for item in self.list_items() if split is None or item["split"] == split]

    def list_items(self) -> list[dict[str, Any]]:
        """All items of the dataset (both splits), in a fixed order."""
        raise NotImplementedError

    def load(self, item: dict[str, Any]) -> Sample:
        """Read one item into a sample dict."""
        raise NotImplementedError

    def sample_meta(
        self,
        item: dict[str, Any],
        raster: SentinelRaster,
        date: Optional[str],
        source_path: str,
        window: Optional[Window] = None,
    ) -> dict[str, Any]:
        """The common `meta` of a sample read from `raster` (or a window): dataset, id, split, place, date, source."""
        return {
            "dataset": self.name,
            "id": item["id"],
            "split": item["split"],
            **location_meta(raster, window),
            "date": date,
            "source_path": source_path,
        }

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        return self.load(self.items[index])

    def __iter__(self) -> Iterator[Sample]:
        for item in self.items:
            yield self.load(item)
