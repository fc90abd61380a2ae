"""Sentinel-2 products (.SAFE folder, its .zip, its metadata file) built from real band files, read like the demo
scene GeoTIFF that is stacked from the same bands."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from osgeo import gdal

from model_core.bands import MODEL_BANDS, S2_BANDS
from model_core.demo import demo_scene_path
from model_core.engine.context import EngineContext
from model_core.engine.embedding import embed_raster, read_embedding
from model_core.errors import RasterInputError
from model_core.io import Window, band_subdatasets, open_raster
from tests.sentinel2_product import build_l1c_product, build_l2a_product


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """The .SAFE folder and its .zip."""
    folder = tmp_path_factory.mktemp("s2_product")
    safe = build_l1c_product(folder)
    archive = shutil.make_archive(str(safe.with_suffix("")), "zip", folder, safe.name)
    return safe, archive


@pytest.mark.parametrize("form", ["folder", "zip", "metadata file", "subdataset of the zip"])
def test_product_reads_the_same_reflectance_as_the_demo_geotiff(product, form):
    safe, archive = product
    if form == "subdataset of the zip":  # what QGIS gives as the source of a layer added from the product
        path = next(name for name, _ in gdal.Open(archive).GetSubDatasets() if ":20m:" in name)
    else:
        path = {"folder": safe, "zip": archive, "metadata file": safe / "MTD_MSIL1C.xml"}[form]
    raster = open_raster(path)
    assert set(raster.band_names) == set(S2_BANDS) and raster.product_level == "L1C"
    assert raster.reflectance_scale == 10000 and raster.reflectance_offset == 0
    assert raster.nodata == 0  # the product's NODATA special value
    demo = open_raster(demo_scene_path())
    # The product grid starts 20 m higher and 10 m further west than B02 (the 60 and 20 m bands' corners).
    col = round((raster.geotransform[0] - demo.geotransform[0]) / 10) + 150
    row = round((demo.geotransform[3] - raster.geotransform[3]) / 10) + 120
    ours = raster.read(Window(150, 120, 400, 300))
    theirs = demo.read(Window(col, row, 400, 300))
    for band in S2_BANDS:
        index = MODEL_BANDS.index(band)
        np.testing.assert_array_equal(ours[index], theirs[index], err_msg=band)
    valid = raster.valid_mask()
    assert not valid[:2].any() and valid[2:].mean() > 0.99  # no 10 m data in the top 20 m strip


def test_numbers_of_a_baseline_05_product_lose_their_offset(tmp_path):
    raster = open_raster(build_l1c_product(tmp_path, baseline="05.09"))  # band files hold the numbers + 1000
    assert raster.reflectance_offset == -1000
    demo = open_raster(demo_scene_path())
    np.testing.assert_array_equal(raster.read(Window(150, 120, 400, 300)), demo.read(Window(149, 118, 400, 300)))


def test_a_geotiff_translated_from_a_baseline_05_product_keeps_its_offset(tmp_path):
    product = build_l1c_product(tmp_path, baseline="05.09")
    ten_metre = next(name for name, _ in gdal.Open(str(product / "MTD_MSIL1C.xml")).GetSubDatasets() if ":10m:" in name)
    gdal.Translate(str(tmp_path / "bands.tif"), ten_metre)  # copies the product metadata into the GeoTIFF
    raster = open_raster(tmp_path / "bands.tif")
    assert raster.product_level == "L1C" and raster.reflectance_offset == -1000
    demo = open_raster(demo_scene_path())
    band = MODEL_BANDS.index("B04")
    np.testing.assert_array_equal(
        raster.read(Window(150, 120, 400, 300))[band], demo.read(Window(150, 120, 400, 300))[band]
    )


def test_l2a_product_reads_each_band_once_from_its_finest_folder(tmp_path):
    raster = open_raster(build_l2a_product(tmp_path))  # R20m and R60m also hold averaged copies of finer bands
    assert sorted(raster.band_names) == sorted(band for band in S2_BANDS if band != "B10")
    assert raster.product_level == "L2A" and raster.reflectance_offset == 0
    demo = open_raster(demo_scene_path())
    ours, theirs = raster.read(Window(150, 120, 400, 300)), demo.read(Window(149, 118, 400, 300))
    for band in raster.band_names:  # each band as its own-resolution file holds it
        np.testing.assert_array_equal(ours[MODEL_BANDS.index(band)], theirs[MODEL_BANDS.index(band)], err_msg=band)


def test_product_embeds_like_the_demo_geotiff(product, geomeld_model, tmp_path):
    safe, _ = product
    raster, demo = open_raster(safe), open_raster(demo_scene_path())
    ours = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "safe.tif", extent=Window(301, 402, 256, 256))
    theirs = embed_raster(demo, EngineContext(geomeld_model), tmp_path / "demo.tif", extent=Window(300, 400, 256, 256))
    np.testing.assert_allclose(read_embedding(ours.path), read_embedding(theirs.path), atol=1.5 / 127)


def test_safe_folder_without_product_metadata_is_refused(tmp_path):
    empty = tmp_path / "S2A_MSIL1C_20200101T155000_N0208_R054_T18SVH_20200101T170000.SAFE"
    empty.mkdir()
    with pytest.raises(RasterInputError, match="MTD_MSIL1C.xml"):
        open_raster(empty)


def test_a_product_across_two_utm_zones_is_stacked_in_one_finest_first():
    names = [
        f"SENTINEL2_L1C:/data/S2A_OPER_PRD_MSIL1C.SAFE/S2A_OPER_MTD_SAFL1C.xml:{part}:{crs}"
        for crs in ("EPSG_32632", "EPSG_32633")
        for part in ("60m", "TCI", "20m", "10m")  # finest first, whatever the listed order
    ]
    assert [name.rsplit(":", 2)[1:] for name in band_subdatasets(names)] == [
        ["10m", "EPSG_32632"],
        ["20m", "EPSG_32632"],
        ["60m", "EPSG_32632"],
    ]
    assert all(name.endswith("EPSG_32633") for name in band_subdatasets(names, "EPSG_32633"))
    assert len(band_subdatasets(names, "EPSG_32633")) == 3
