"""Nearest-neighbour overviews of a GeoTIFF, written from its tiles while they are written.

GDAL builds overviews after the last tile: it decodes the whole raster again and encodes every level on one core
while the other cores idle (0.73 s of a 4.7 s embedding of 2048^2 px). `StreamedOverviews` takes each tile as it is
written instead, keeps the samples of overview blocks not yet complete, and writes every block once, when its last
sample arrives. Overview pixel i is full-resolution pixel i * factor: where the size is a multiple of the factor,
these are the pixels GDAL's NEAREST resampling takes.
"""

from __future__ import annotations

import numpy as np
from osgeo import gdal

# Overview factors GeoMeld writes, as far as the smallest level keeps this many pixels on its short side.
OVERVIEW_FACTORS: tuple[int, ...] = (2, 4, 8, 16, 32)
OVERVIEW_MIN_SIDE = 256
# A 2048^2 float32 heatmap (16 MiB) draws fast at every scale without overviews, which would double its write time;
# a 2048^2 embedding (256 MiB) or a 10980^2 class map (115 MiB) gets them.
OVERVIEW_MIN_BYTES = 32 * 1024 * 1024


def overview_factors(width: int, height: int, bands: int, itemsize: int, first: int = 2) -> list[int]:
    """The overview factors from `first` on that a raster of this size gets (none for small rasters)."""
    if width * height * bands * itemsize <= OVERVIEW_MIN_BYTES:
        return []
    return [
        factor for factor in OVERVIEW_FACTORS if factor >= first and min(width, height) // factor >= OVERVIEW_MIN_SIDE
    ]


class _Level:
    """One overview level: its dataset, its factor and the blocks still waiting for samples."""

    def __init__(self, dataset: gdal.Dataset, factor: int) -> None:
        self.dataset = dataset
        self.factor = factor
        self.block_width, self.block_height = dataset.GetRasterBand(1).GetBlockSize()
        self.width, self.height = dataset.RasterXSize, dataset.RasterYSize
        self.pending: dict[tuple[int, int], np.ndarray] = {}
        self.missing: dict[tuple[int, int], int] = {}

    def _block_shape(self, block_row: int, block_col: int) -> tuple[int, int]:
        top, left = block_row * self.block_height, block_col * self.block_width
        return min(self.block_height, self.height - top), min(self.block_width, self.width - left)

    def add(self, tile: np.ndarray, col: int, row: int) -> None:
        """Take the samples of a (bands, h, w) tile at (col, row) of the full-resolution raster."""
        factor = self.factor
        top, left = -(-row // factor), -(-col // factor)  # the first overview pixels sampled inside the tile
        samples = tile[:, top * factor - row :: factor, left * factor - col :: factor]
        bottom, right = top + samples.shape[1], left + samples.shape[2]
        if bottom == top or right == left:
            return
        for block_row in range(top // self.block_height, (bottom - 1) // self.block_height + 1):
            for block_col in range(left // self.block_width, (right - 1) // self.block_width + 1):
                self._fill(block_row, block_col, samples, top, left, bottom, right)

    def _fill(
        self, block_row: int, block_col: int, samples: np.ndarray, top: int, left: int, bottom: int, right: int
    ) -> None:
        """Copy the samples that fall into one block; write the block when it is complete."""
        key = (block_row, block_col)
        height, width = self._block_shape(block_row, block_col)
        block_top, block_left = block_row * self.block_height, block_col * self.block_width
        if key not in self.pending:
            self.pending[key] = np.empty((samples.shape[0], height, width), dtype=samples.dtype)
            self.missing[key] = height * width
        r0, r1 = max(top, block_top), min(bottom, block_top + height)
        c0, c1 = max(left, block_left), min(right, block_left + width)
        self.pending[key][:, r0 - block_top : r1 - block_top, c0 - block_left : c1 - block_left] = samples[
            :, r0 - top : r1 - top, c0 - left : c1 - left
        ]
        self.missing[key] -= (r1 - r0) * (c1 - c0)
        if self.missing[key] == 0:
            self.dataset.WriteArray(self.pending.pop(key), block_left, block_top)
            del self.missing[key]

    def finish(self) -> None:
        """Write out what is complete; a block still missing samples means a tile was never added."""
        self.dataset.FlushCache()
        if self.pending:
            raise RuntimeError(f"{len(self.pending)} overview blocks never received all their pixels")


class StreamedOverviews:
    """Overviews of `dataset` filled from the tiles written to it (any order, each pixel once).

    Creates the (empty) overview levels; `add` each tile after writing it, `flush` to encode the blocks completed so
    far, `finish` after the last tile.
    """

    def __init__(self, dataset: gdal.Dataset, factors: list[int]) -> None:
        self._levels: list[_Level] = []
        if factors:
            dataset.BuildOverviews("NONE", factors)
            band = dataset.GetRasterBand(1)
            for index, factor in enumerate(factors):
                self._levels.append(_Level(band.GetOverview(index).GetDataset(), factor))

    def add(self, tile: np.ndarray, col: int, row: int) -> None:
        """Take a written (bands, h, w) tile whose top-left pixel is (col, row); complete blocks are written."""
        for level in self._levels:
            level.add(tile, col, row)

    def flush(self) -> None:
        """Encode the overview blocks written so far, so GDAL's block cache holds none of them."""
        for level in self._levels:
            level.dataset.FlushCache()

    def finish(self) -> None:
        """Encode the last blocks; raises if some overview pixel never arrived."""
        for level in self._levels:
            level.finish()
