"""Sentinel raster I/O on real rasters of every layout in ../shared/data."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr

from model_core.bands import EUROSAT_BANDS, MODEL_BANDS, S2_BANDS
from model_core.errors import BandMappingError, RasterInputError
from model_core.io import iter_windows, open_raster, parse_band_list, write_geotiff
from tests.conftest import shared

L2A_12 = tuple(b for b in S2_BANDS if b != "B10")


@pytest.mark.parametrize(
    ("relative", "bands", "expected"),
    [
        ("eurosat_ms/Forest/Forest_1031.tif", "eurosat", EUROSAT_BANDS),
        ("bigearthnet_v2_s2/patches", None, L2A_12),
        ("terramesh_examples/S2L1C/637U_59R_1_3.tif", None, S2_BANDS),
        ("terramesh_examples/S2L2A/637U_59R_1_3.tif", None, L2A_12),
        ("sen1floods11_sample/S2/Spain_7370579_S2Hand.tif", None, S2_BANDS),
    ],
)
def test_band_mapping_of_each_layout(relative, bands, expected):
    path = shared(relative)
    if path.is_dir():
        path = sorted(path.glob("*.tif"))[0]
    raster = open_raster(path, bands=bands)
    assert raster.band_names == expected
    data = raster.read()
    assert data.shape == (len(MODEL_BANDS), raster.height, raster.width)
    present = raster.band_mask.astype(bool)
    assert set(np.array(MODEL_BANDS)[present]) == set(expected)
    blue = data[MODEL_BANDS.index("B02")]
    assert 0.0 < float(np.median(blue)) < 0.5, "reflectance should be a fraction"


def test_eurosat_b8a_last_is_read_from_band_13():
    path = shared("eurosat_ms/Forest/Forest_1031.tif")
    raster = open_raster(path, bands="eurosat")
    dataset = gdal.Open(str(path))  # keep the dataset referenced while its band is used
    raw = dataset.GetRasterBand(13).ReadAsArray().astype(np.float32) / 10000
    np.testing.assert_allclose(raster.read()[MODEL_BANDS.index("B8A")], raw, rtol=1e-6)


def test_float_fraction_raster_is_not_rescaled():
    raster = open_raster(shared("eolearn_testeopatch_slovenia/reference_scene_1_s2l1c.tif"))
    assert raster.reflectance_scale == 1.0
    assert 0.0 < float(raster.read()[MODEL_BANDS.index("B04")].mean()) < 0.5


def test_rgb_only_raster_is_refused(tmp_path):
    source = gdal.Open(str(shared("terramesh_examples/S2RGB/637U_59R_1_3.tif")))
    with pytest.raises(BandMappingError, match="3 band.*B02, B03, B04, B08"):
        open_raster(source.GetDescription())


def test_not_a_raster_is_refused(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("not a raster")
    with pytest.raises(RasterInputError, match="notes.tif.*not a raster"):
        open_raster(path)


def test_no_georeference_is_refused(tmp_path):
    array = np.ones((13, 8, 8), dtype=np.uint16) * 500
    path = tmp_path / "nogeo.tif"
    gdal.GetDriverByName("GTiff").Create(str(path), 8, 8, 13, gdal.GDT_UInt16).WriteRaster(0, 0, 8, 8, array.tobytes())
    with pytest.raises(RasterInputError, match="no georeference"):
        open_raster(path)


def test_all_nodata_raster_is_refused(tmp_path):
    source = open_raster(shared("sen1floods11_sample/S2/Spain_7370579_S2Hand.tif"))
    path = tmp_path / "empty.tif"
    write_geotiff(path, np.zeros((13, 64, 64), dtype=np.int16), source.geotransform, source.crs_wkt, nodata=0)
    with pytest.raises(RasterInputError, match="only nodata"):
        open_raster(path)


def test_unknown_band_name_is_refused():
    with pytest.raises(BandMappingError, match="Unknown band name 'B13'"):
        parse_band_list("B02,B03,B13")


def test_band_count_must_match_explicit_list():
    with pytest.raises(BandMappingError, match="13 bands but the band list names 4"):
        open_raster(shared("sen1floods11_sample/S2/Spain_7370579_S2Hand.tif"), bands="B02,B03,B04,B08")


def test_windows_cover_raster_with_overlap():
    windows = list(iter_windows(1000, 600, tile=256, overlap=32))
    covered = np.zeros((600, 1000), dtype=int)
    for window in windows:
        assert window.width <= 256 and window.height <= 256
        covered[window.slices()] += 1
    assert covered.min() >= 1


def test_atomic_writer_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tif"
    with pytest.raises(ValueError):
        write_geotiff(target, np.zeros((2, 3, 4, 5), dtype=np.float32), (0, 1, 0, 0, 0, -1), "")
    assert list(tmp_path.iterdir()) == []


def test_overviews_only_for_rasters_too_large_to_draw_fast(tmp_path):
    geotransform, srs = (500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0), osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    heatmap = write_geotiff(tmp_path / "heat.tif", np.zeros((2048, 2048), np.float32), geotransform, srs.ExportToWkt())
    stack = write_geotiff(tmp_path / "stack.tif", np.ones((40, 1024, 1024), np.uint8), geotransform, srs.ExportToWkt())
    assert gdal.Open(str(heatmap)).GetRasterBand(1).GetOverviewCount() == 0  # 16 MiB
    assert gdal.Open(str(stack)).GetRasterBand(1).GetOverviewCount() == 2  # 40 MiB: levels 2 and 4
    assert gdal.Open(str(stack)).GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "ZSTD"
