"""Clusters, smoothing, minimum mapping unit and polygons with geodesic areas on real rasters; the engine CLI."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from osgeo import gdal, ogr
from pyproj import Geod
from scipy.ndimage import label

from model_core.cli import main
from model_core.engine.cache import EmbeddingCache
from model_core.engine.classmap import class_names_of
from model_core.engine.cluster import cluster_raster
from model_core.engine.context import EngineContext
from model_core.engine.smoothing import apply_min_mapping_unit, smooth_classes
from model_core.engine.vectorize import vectorize_classes
from model_core.errors import CancelledError
from model_core.feedback import Feedback
from model_core.io import open_raster, write_geotiff
from tests.conftest import shared

CHIP = "terramesh_examples/S2L1C/433D_629L_3_1.tif"
EIGHT = np.ones((3, 3), dtype=int)


def read_polygons(path):
    """(class_id, class_name, area_ha, valid) of every feature of a GeoPackage."""
    source = ogr.Open(str(path))
    rows = [
        (f.GetField("class_id"), f.GetField("class_name"), f.GetField("area_ha"), f.GetGeometryRef().IsValid())
        for f in source.GetLayer(0)
    ]
    source = None
    return rows


def test_clusters_become_valid_polygons_whose_areas_sum_to_the_valid_area(geomeld_model, tmp_path):
    raster = open_raster(shared(CHIP))
    result = cluster_raster(
        raster, EngineContext(geomeld_model, EmbeddingCache(tmp_path / "c")), tmp_path / "clusters.tif", 4
    )
    assert result.k == 4 and result.class_names == ["cluster 1", "cluster 2", "cluster 3", "cluster 4"]
    counts = list(result.pixel_counts.values())
    assert counts == sorted(counts, reverse=True) and min(counts) > 0
    dataset = gdal.Open(str(result.path))
    assert class_names_of(dataset) == result.class_names
    classes = dataset.ReadAsArray()
    dataset = None
    assert set(np.unique(classes)) <= {0, 1, 2, 3, 4}
    vectors = vectorize_classes(result.path, tmp_path / "clusters.gpkg")
    polygons = read_polygons(vectors.path)
    assert len(polygons) == vectors.polygons and all(valid for *_, valid in polygons)
    assert {name for _, name, _, _ in polygons} == set(result.class_names)
    valid_ha = float((classes > 0).sum()) * abs(raster.geotransform[1] * raster.geotransform[5]) / 10_000
    total_ha = sum(area for _, _, area, _ in polygons)
    print(f"clusters: {len(polygons)} polygons, {total_ha:.2f} ha of {valid_ha:.2f} ha valid")
    assert total_ha == pytest.approx(valid_ha, rel=0.01)
    with open(vectors.csv_path, encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [row["class_name"] for row in table] == result.class_names
    assert sum(float(row["area_ha"]) for row in table) == pytest.approx(total_ha, rel=1e-4)
    per_class_px = {name: result.pixel_counts[name] for name in result.class_names}
    for row in table:
        assert float(row["area_ha"]) == pytest.approx(per_class_px[row["class_name"]] * 0.01, rel=0.01)


def test_automatic_k_uses_the_best_silhouette(geomeld_model, tmp_path):
    raster = open_raster(shared(CHIP))
    result = cluster_raster(raster, EngineContext(geomeld_model, EmbeddingCache(tmp_path / "c")), tmp_path / "auto.tif")
    assert set(result.silhouette) == set(range(2, 11))
    assert result.k == max(result.silhouette, key=result.silhouette.get)
    assert all(-1.0 <= score <= 1.0 for score in result.silhouette.values())


def test_smoothing_and_minimum_mapping_unit_on_a_land_cover_map():
    lulc = gdal.Open(str(shared("terramesh_examples/LULC/433D_629L_3_1.tif"))).ReadAsArray()
    lulc[:5, :5] = 0  # a nodata corner must stay nodata
    sieved = apply_min_mapping_unit(lulc, 20)
    assert (sieved[:5, :5] == 0).all()
    for value in np.unique(sieved[sieved > 0]):
        regions, count = label(sieved == value, structure=EIGHT)
        sizes = np.bincount(regions.ravel())[1:]
        assert sizes.min() >= 20
    small_before = sum((np.bincount(label(lulc == v, EIGHT)[0].ravel())[1:] < 20).sum() for v in np.unique(lulc))
    assert small_before > 0
    smoothed = smooth_classes(lulc, 5)
    assert (smoothed[:5, :5] == 0).all() and set(np.unique(smoothed)) <= set(np.unique(lulc))
    regions_before = sum(label(lulc == v, EIGHT)[1] for v in np.unique(lulc[lulc > 0]))
    regions_after = sum(label(smoothed == v, EIGHT)[1] for v in np.unique(smoothed[smoothed > 0]))
    assert regions_after < regions_before


def test_geographic_crs_areas_and_minimum_area(tmp_path):
    """Sen1Floods11's hand label is in EPSG:4326: areas must still come out in true hectares."""
    source = gdal.Open(str(shared("sen1floods11_sample/Labels/Spain_7370579_LabelHand.tif")))
    labels = source.ReadAsArray()
    classes = np.where(labels < 0, 0, labels + 1).astype(np.uint8)  # 1 dry, 2 water, 0 nodata
    geotransform, crs = source.GetGeoTransform(), source.GetProjection()
    source = None
    path = write_geotiff(
        tmp_path / "water.tif", classes, geotransform, crs, nodata=0, category_names=["no data", "dry", "water"]
    )
    result = vectorize_classes(path, tmp_path / "water.gpkg")
    x0, dx, _, y0, _, dy = geotransform
    lat = y0 + dy * classes.shape[0] / 2
    pixel_m2 = abs(
        Geod(ellps="WGS84").polygon_area_perimeter([x0, x0 + dx, x0 + dx, x0], [lat, lat, lat + dy, lat + dy])[0]
    )
    expected = {"dry": (classes == 1).sum() * pixel_m2 / 1e4, "water": (classes == 2).sum() * pixel_m2 / 1e4}
    print(f"Sen1Floods11 areas: {result.areas_ha}, from pixel counts: {expected}")
    for name, hectares in expected.items():
        assert result.areas_ha[name] == pytest.approx(hectares, rel=0.01)
    pruned = vectorize_classes(path, tmp_path / "pruned.gpkg", min_area_ha=1.0, simplify_tolerance=abs(dx))
    polygons = read_polygons(pruned.path)
    assert pruned.dropped > 0 and all(area >= 1.0 and valid for _, _, area, valid in polygons)
    assert len(polygons) == pruned.polygons < result.polygons


def test_cancelled_vectorize_leaves_no_file(tmp_path):
    lulc = gdal.Open(str(shared("terramesh_examples/LULC/433D_629L_3_1.tif")))
    path = write_geotiff(tmp_path / "lulc.tif", lulc.ReadAsArray(), lulc.GetGeoTransform(), lulc.GetProjection(), 0)
    lulc = None
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CancelledError):
        vectorize_classes(path, out / "lulc.gpkg", feedback=Feedback(is_cancelled=lambda: True))
    assert list(out.iterdir()) == []


def test_engine_commands(weights_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GEOMELD_CACHE_DIR", str(tmp_path / "cache"))
    chip = str(shared(CHIP))
    weights = ["--weights", str(weights_dir)]
    assert (
        main(
            ["embed", chip, "--out", str(tmp_path / "e.tif"), "--stride", "2", "--pca", str(tmp_path / "p.tif")]
            + weights
        )
        == 0
    )
    assert gdal.Open(str(tmp_path / "p.tif")).RasterCount == 3
    assert gdal.Open(str(tmp_path / "e.tif")).RasterXSize == 112
    assert main(["segment", chip, "--clusters", "3", "--out", str(tmp_path / "k.tif"), "--mmu", "8"] + weights) == 0
    assert "3 clusters" in capsys.readouterr().out
    assert main(["vectorize", str(tmp_path / "k.tif"), "--out", str(tmp_path / "k.gpkg"), "--min-area-ha", "0.5"]) == 0
    assert "cluster 1:" in capsys.readouterr().out and (tmp_path / "k.csv").exists()
    assert main(["cache", "--info"]) == 0
    assert "entries: 1" in capsys.readouterr().out
    assert main(["segment", chip, "--clusters", "many", "--out", str(tmp_path / "x.tif")] + weights) == 2
    assert main(["cache", "--clear"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert not (tmp_path / "x.tif").exists()
