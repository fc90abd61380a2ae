"""Embedding rasters on real Sentinel-2 data: grid, seams between tiles, stride, cache, cancel and PCA preview."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from osgeo import gdal

from model_core.demo import demo_scene_path
from model_core.engine.cache import EmbeddingCache
from model_core.engine.context import EngineContext
from model_core.engine.embedding import embed_raster, open_embedding, read_embedding
from model_core.engine.pca import pca_preview
from model_core.errors import CancelledError
from model_core.feedback import Feedback
from model_core.io import Window, open_raster
from tests.conftest import shared

CHIP = "terramesh_examples/S2L1C/433D_629L_3_1.tif"


def open_chip():
    """The TerraMesh chip (opened per test: GDAL objects must not outlive a test, QGIS closes GDAL at exit)."""
    return open_raster(shared(CHIP))


def test_embedding_raster_keeps_the_input_grid(geomeld_model, tmp_path):
    chip = open_chip()
    result = embed_raster(chip, EngineContext(geomeld_model), tmp_path / "emb.tif")
    assert not result.cached
    dataset = gdal.Open(str(result.path))
    assert (dataset.RasterXSize, dataset.RasterYSize) == (chip.width, chip.height)
    assert dataset.RasterCount == geomeld_model.embedding_dim
    assert dataset.GetGeoTransform() == pytest.approx(chip.geotransform)
    assert dataset.GetProjection() == chip.crs_wkt
    assert dataset.GetRasterBand(1).GetScale() == pytest.approx(1 / 127)
    info = open_embedding(result.path)
    assert info.model_id == geomeld_model.model_id and info.stride == 1 and info.encoding == "int8"
    decoded = read_embedding(result.path)
    direct = geomeld_model.embed_dense(chip.read(), chip.band_mask)[0]
    # int8 storage: within half a quantisation step of the model output (tiles keep no seams for a 224 px chip)
    assert np.abs(decoded - direct).max() <= 0.5 / 127 + 1e-6
    norms = np.linalg.norm(decoded, axis=0)
    assert np.allclose(norms, 1.0, atol=0.05)


def test_tiled_embedding_matches_one_whole_image_run(geomeld_model, tmp_path):
    raster = open_raster(demo_scene_path())
    extent = Window(700, 700, 640, 640)
    # Overlap 512 px: each tile keeps only pixels at least 256 px from its inner edges (beyond the receptive field).
    result = embed_raster(
        raster,
        EngineContext(geomeld_model, tile_size=576),
        tmp_path / "tiled.tif",
        extent=extent,
        overlap=512,
        encoding="float32",
    )
    tiled = read_embedding(result.path)
    whole = geomeld_model.embed_dense(raster.read(extent), raster.band_mask)[0]
    difference = np.abs(tiled - whole)[:, 4:-4, 4:-4]
    assert difference.max() <= 1e-3


def test_large_embedding_rasters_get_overviews_sampled_from_their_pixels(geomeld_model, tmp_path):
    result = embed_raster(
        open_raster(demo_scene_path()),
        EngineContext(geomeld_model),
        tmp_path / "emb.tif",
        extent=Window(0, 0, 1030, 1024),
    )
    dataset = gdal.Open(str(result.path))
    band = dataset.GetRasterBand(7)
    assert band.GetOverviewCount() == 1  # from 1/4 on, as long as the level keeps 256 px: 1/8 would not
    overview = band.GetOverview(0).ReadAsArray()
    assert overview.shape == (256, 258)
    np.testing.assert_array_equal(overview, band.ReadAsArray()[::4, ::4])


def test_stride_two_halves_the_grid(geomeld_model, tmp_path):
    chip = open_chip()
    result = embed_raster(chip, EngineContext(geomeld_model), tmp_path / "s2.tif", stride=2, encoding="float32")
    info = open_embedding(result.path)
    assert (info.width, info.height) == (chip.width // 2, chip.height // 2)
    assert info.geotransform[1] == pytest.approx(2 * chip.geotransform[1])
    assert info.geotransform[5] == pytest.approx(2 * chip.geotransform[5])
    assert info.geotransform[0] == pytest.approx(chip.geotransform[0])
    pooled = info.read()
    full = geomeld_model.embed_dense(chip.read(), chip.band_mask)[0]
    block = full[:, :2, :2].mean(axis=(1, 2))
    np.testing.assert_allclose(pooled[:, 0, 0], block / np.linalg.norm(block), atol=1e-4)


def test_cache_hit_returns_the_same_file_without_recomputing(geomeld_model, tmp_path):
    source = tmp_path / "chip.tif"
    shutil.copyfile(shared(CHIP), source)
    cache = EmbeddingCache(tmp_path / "cache")
    context = EngineContext(geomeld_model, cache)
    first = embed_raster(open_raster(source), context)
    modified = os.stat(first.path).st_mtime_ns
    second = embed_raster(open_raster(source), context)
    assert not first.cached and second.cached
    assert second.path == first.path and os.stat(second.path).st_mtime_ns == modified
    other = embed_raster(open_raster(source), context, stride=2)
    assert not other.cached and other.path != first.path
    copied = embed_raster(open_raster(source), context, tmp_path / "copy.tif")
    assert copied.cached and copied.path == tmp_path / "copy.tif"
    np.testing.assert_array_equal(read_embedding(copied.path), read_embedding(first.path))
    # a changed source file is a different key
    dataset = gdal.Open(str(source), gdal.GA_Update)
    dataset.GetRasterBand(4).WriteArray(dataset.GetRasterBand(4).ReadAsArray()[::-1].copy())
    dataset = None
    assert not embed_raster(open_raster(source), context).cached
    assert cache.info()["entries"] == 3


def test_cache_evicts_least_recently_used_and_clears(geomeld_model, tmp_path):
    chip = open_chip()
    cache = EmbeddingCache(tmp_path / "cache")
    context = EngineContext(geomeld_model, cache)
    first = embed_raster(chip, context, stride=2)
    cache.max_bytes = os.path.getsize(first.path) + 1
    second = embed_raster(chip, context, stride=4)
    assert not first.path.exists() and second.path.exists()
    assert cache.clear() == 1
    assert not any(cache.folder.iterdir())


def test_cancel_leaves_no_file(geomeld_model, tmp_path):
    raster = open_raster(demo_scene_path())
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CancelledError):
        embed_raster(
            raster,
            EngineContext(geomeld_model, tile_size=128, feedback=Feedback(is_cancelled=cancelled)),
            tmp_path / "cancel.tif",
            extent=Window(0, 0, 512, 512),
            overlap=32,
        )
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


def test_pca_preview_is_rgb_with_spread(geomeld_model, tmp_path):
    chip = open_chip()
    embedding = embed_raster(chip, EngineContext(geomeld_model), tmp_path / "emb.tif")
    preview = pca_preview(embedding.path, tmp_path / "pca.tif", sample=5000)
    dataset = gdal.Open(str(preview))
    assert dataset.RasterCount == 3
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Byte
    assert dataset.GetGeoTransform() == pytest.approx(chip.geotransform)
    rgb = dataset.ReadAsArray()
    assert (rgb > 0).all()
    assert all(float(band.std()) > 20 for band in rgb)


def test_gdal_cache_is_bounded_while_embedding_and_restored_after(geomeld_model, tmp_path):
    from model_core.engine.embedding import EMBED_GDAL_CACHE
    from model_core.gdal_cache import gdal_cache_at_most

    before = gdal.GetCacheMax()
    seen = []
    feedback = Feedback(progress=lambda _: seen.append(gdal.GetCacheMax()))
    embed_raster(open_chip(), EngineContext(geomeld_model, feedback=feedback), tmp_path / "emb.tif")
    assert seen and max(seen) <= EMBED_GDAL_CACHE
    assert gdal.GetCacheMax() == before
    with gdal_cache_at_most(before + 1):  # never raises the cache
        assert gdal.GetCacheMax() == before
    with gdal_cache_at_most(EMBED_GDAL_CACHE), gdal_cache_at_most(EMBED_GDAL_CACHE // 2):
        assert gdal.GetCacheMax() == min(before, EMBED_GDAL_CACHE // 2)
    assert gdal.GetCacheMax() == before
