"""Overviews streamed from the tiles of a real Sentinel-2 window, against GDAL's own NEAREST overviews."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from model_core.demo import demo_scene_path
from model_core.io import CREATION_OPTIONS
from model_core.overviews import StreamedOverviews

FACTORS = [2, 4, 8]


def scene_window(width: int, height: int) -> np.ndarray:
    """Four real bands (uint16) of the demo scene's top-left corner."""
    dataset = gdal.Open(str(demo_scene_path()))
    return dataset.ReadAsArray(300, 300, width, height)[:4]


def write_tiles(path, data: np.ndarray, tile: int, factors: list[int], skip: int | None = None) -> None:
    """Write `data` tile by tile in a shuffled order with streamed overviews; optionally leave one tile out."""
    bands, height, width = data.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, gdal.GDT_UInt16, CREATION_OPTIONS)
    overviews = StreamedOverviews(dataset, factors)
    corners = [(col, row) for row in range(0, height, tile) for col in range(0, width, tile)]
    order = np.random.default_rng(0).permutation(len(corners))
    try:
        for number, index in enumerate(order):
            if number == skip:
                continue
            col, row = corners[index]
            part = data[:, row : row + tile, col : col + tile]
            dataset.WriteArray(part, col, row)
            overviews.add(part, col, row)
            overviews.flush()
        overviews.finish()
    finally:
        dataset = None


def read_overviews(path) -> list[np.ndarray]:
    """Every overview level of a file as (bands, h, w)."""
    dataset = gdal.Open(str(path))
    bands = [dataset.GetRasterBand(index) for index in range(1, dataset.RasterCount + 1)]
    return [
        np.stack([band.GetOverview(level).ReadAsArray() for band in bands])
        for level in range(bands[0].GetOverviewCount())
    ]


def test_streamed_overviews_equal_gdal_nearest_overviews(tmp_path):
    data = scene_window(1024, 896)
    write_tiles(tmp_path / "streamed.tif", data, 300, FACTORS)
    reference = gdal.GetDriverByName("GTiff").Create(
        str(tmp_path / "gdal.tif"), 1024, 896, 4, gdal.GDT_UInt16, CREATION_OPTIONS
    )
    reference.WriteArray(data)
    reference.BuildOverviews("NEAREST", FACTORS)
    reference = None
    streamed, built = read_overviews(tmp_path / "streamed.tif"), read_overviews(tmp_path / "gdal.tif")
    assert [level.shape for level in streamed] == [(4, 448, 512), (4, 224, 256), (4, 112, 128)]
    for ours, gdals in zip(streamed, built):
        np.testing.assert_array_equal(ours, gdals)


def test_streamed_overviews_sample_every_factor_th_pixel_of_odd_sizes(tmp_path):
    data = scene_window(1001, 899)
    write_tiles(tmp_path / "odd.tif", data, 256, FACTORS)
    for factor, level in zip(FACTORS, read_overviews(tmp_path / "odd.tif")):
        assert level.shape == (4, -(-899 // factor), -(-1001 // factor))
        np.testing.assert_array_equal(level, data[:, ::factor, ::factor])


def test_streamed_overviews_refuse_to_finish_with_a_tile_missing(tmp_path):
    with pytest.raises(RuntimeError, match="never received"):
        write_tiles(tmp_path / "gap.tif", scene_window(600, 600), 256, FACTORS, skip=4)
