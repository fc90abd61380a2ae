"""GeoMeld algorithms from the command line through qgis_process, with the plugin installed in a fresh profile."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from tests.conftest import PROBE_CHIP, lulc_label_points, qgis_host_env, shared

QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # Debian's qgis_process wrapper script is broken; the binary works
CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"

pytestmark = [
    pytest.mark.slow,  # qgis_process started per algorithm
    pytest.mark.skipif(not os.path.exists(QGIS_PROCESS), reason="qgis_process is not installed"),
]


@pytest.fixture(scope="module")
def qgis_process(tmp_path_factory, weights_dir):
    """Runs qgis_process with the plugin in a temporary plugins folder and profile, enabled there."""
    root = tmp_path_factory.mktemp("qgis_process")
    env = qgis_host_env(root, "offscreen", GEOMELD_WEIGHTS_DIR=str(weights_dir))

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [QGIS_PROCESS, *arguments], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    enabled = run("plugins", "enable", "geomeld")
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    ini = (root / "config" / "profiles" / "default" / "QGIS" / "QGIS3.ini").read_text()
    assert "geomeld=true" in ini
    return run


def run_json(qgis_process, algorithm: str, **parameters) -> dict:
    """Run an algorithm with --json and return its results."""
    arguments = [f"{name}={value}" for name, value in parameters.items()]
    done = qgis_process("--json", "run", f"geomeld:{algorithm}", "--", *arguments)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout[done.stdout.index("{") :])["results"]


def test_geomeld_algorithms_are_listed(qgis_process):
    listing = qgis_process("list")
    for name in ("embed", "train_probe", "apply_probe", "text_query", "change_detection", "vectorize"):
        assert f"geomeld:{name}" in listing.stdout


def test_embed_from_the_command_line(qgis_process, tmp_path):
    results = run_json(qgis_process, "embed", INPUT=shared(CHIP), STRIDE=2, OUTPUT=tmp_path / "embedding.tif")
    dataset = gdal.Open(results["OUTPUT"])
    assert (dataset.RasterXSize, dataset.RasterYSize) == (112, 112)


def test_text_query_from_the_command_line(qgis_process, tmp_path):
    results = run_json(
        qgis_process, "text_query", INPUT=shared(CHIP), TEXT="forest", OUTPUT=tmp_path / "heat.tif", TOP_K=5
    )
    dataset = gdal.Open(results["OUTPUT"])
    heat = dataset.GetRasterBand(1).ReadAsArray()
    assert heat.shape == (224, 224) and heat.max() <= 1.0
    assert results["HIT_PIXELS"] == int((heat >= float(dataset.GetMetadataItem("threshold"))).sum())


def test_zeroshot_from_the_command_line(qgis_process, tmp_path):
    results = run_json(
        qgis_process, "zeroshot_segmentation", INPUT=shared(CHIP), CLASSES="water,forest", OUTPUT=tmp_path / "z.tif"
    )
    dataset = gdal.Open(results["OUTPUT"])
    assert set(dataset.GetRasterBand(1).ReadAsArray().ravel()) <= {0, 1, 2}


def test_polygons_from_the_command_line(qgis_process, tmp_path):
    """Polygons and areas inside qgis_process, whose QGIS libraries (and their GEOS) are loaded before the plugin."""
    classes = run_json(
        qgis_process, "zeroshot_segmentation", INPUT=shared(CHIP), CLASSES="water,forest", OUTPUT=tmp_path / "z.tif"
    )["OUTPUT"]
    results = run_json(qgis_process, "vectorize", INPUT=classes, SIMPLIFY=15, OUTPUT=tmp_path / "polygons.gpkg")
    source = ogr.Open(results["OUTPUT"])
    areas = [feature.GetField("area_ha") for feature in source.GetLayer(0)]
    source = None
    assert areas and all(feature_area > 0 for feature_area in areas)
    dataset = gdal.Open(classes)
    valid = (dataset.GetRasterBand(1).ReadAsArray() > 0).sum() * 0.01  # 10 m pixels, in hectares
    assert sum(areas) == pytest.approx(valid, rel=0.05)  # simplified outlines move the area a little
    assert Path(results["AREAS"]).read_text().startswith("class_id,class_name,polygons,area_ha,percent")


def lulc_points_gpkg(path: Path) -> Path:
    """A GeoPackage of `lulc_label_points` with their class in field `class`."""
    points, crs_wkt = lulc_label_points()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("labels", osr.SpatialReference(wkt=crs_wkt), ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for x, y, name in points:
        feature = ogr.Feature(layer.GetLayerDefn())
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(x, y)
        feature.SetGeometry(point)
        feature.SetField("class", name)
        layer.CreateFeature(feature)
    layer = source = None
    return path


def test_probe_clusters_and_similar_places_from_the_command_line(qgis_process, tmp_path):
    """scikit-learn and pyproj inside qgis_process: a probe from a GeoPackage of points, clusters, query by example."""
    labels = lulc_points_gpkg(tmp_path / "labels.gpkg")
    trained = run_json(
        qgis_process, "train_probe", INPUT=shared(PROBE_CHIP), LABELS=labels, FIELD="class", OUTPUT=tmp_path / "p.json"
    )
    assert 0.5 <= trained["ACCURACY"] <= 1.0
    applied = run_json(
        qgis_process, "apply_probe", INPUT=shared(PROBE_CHIP), PROBE=trained["OUTPUT"], OUTPUT=tmp_path / "c.tif"
    )
    dataset = gdal.Open(applied["OUTPUT"])
    assert set(np.unique(dataset.GetRasterBand(1).ReadAsArray())) <= {0, 1, 2, 3, 4}
    clusters = run_json(qgis_process, "clusters", INPUT=shared(PROBE_CHIP), CLUSTERS=3, OUTPUT=tmp_path / "k.tif")
    dataset = gdal.Open(clusters["OUTPUT"])
    assert set(np.unique(dataset.GetRasterBand(1).ReadAsArray())) == {1, 2, 3}
    similar = run_json(
        qgis_process, "query_by_example", INPUT=shared(PROBE_CHIP), POINTS=labels, OUTPUT=tmp_path / "s.tif"
    )
    dataset = gdal.Open(similar["OUTPUT"])
    assert dataset.GetRasterBand(1).ReadAsArray().shape == (224, 224)
    dataset = None


def test_bad_raster_fails_with_one_sentence(qgis_process, tmp_path):
    done = qgis_process("run", "geomeld:embed", "--", f"INPUT={shared(RGB_CHIP)}", f"OUTPUT={tmp_path / 'e.tif'}")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "GeoMeld needs Sentinel-2 bands" in output and "Traceback" not in output
    assert not (tmp_path / "e.tif").exists()
