"""Every GeoMeld Processing algorithm through processing.run on a real TerraMesh chip, and bad inputs."""

from __future__ import annotations

import json
import sys

import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from tests.conftest import shared

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
CHIP_L1C = "terramesh_examples/S2L1C/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"


def read_band(path: str):
    """Band 1 of a raster as an array."""
    dataset = gdal.Open(path)
    return dataset.GetRasterBand(1).ReadAsArray()


@pytest.fixture(scope="module")
def processing(loaded_plugin, weights_dir, monkeypatch_module, tmp_path_factory):
    """Processing initialised, with GeoMeld's weights and cache pointed at test folders."""
    if QGIS_PLUGINS not in sys.path:
        sys.path.append(QGIS_PLUGINS)
    from processing.core.Processing import Processing

    monkeypatch_module.setenv("GEOMELD_WEIGHTS_DIR", str(weights_dir))
    monkeypatch_module.setenv("GEOMELD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    Processing.initialize()
    import processing as processing_module

    return processing_module


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch that lasts for the module."""
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def test_provider_lists_every_capability(processing):
    provider = QgsApplication.processingRegistry().providerById("geomeld")
    names = {algorithm.name() for algorithm in provider.algorithms()}
    assert {"embed", "pca_preview", "zeroshot_segmentation", "text_query", "query_by_example"} <= names
    for algorithm in provider.algorithms():
        assert len(algorithm.shortHelpString()) > 80, algorithm.name()


def test_embed_writes_embedding_raster(processing, tmp_path):
    out = tmp_path / "embedding.tif"
    result = processing.run("geomeld:embed", {"INPUT": str(shared(CHIP)), "STRIDE": 4, "OUTPUT": str(out)})
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.RasterXSize == 56 and dataset.RasterCount >= 8


def test_non_sentinel_raster_gives_one_sentence(processing, tmp_path):
    out = tmp_path / "embedding.tif"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run("geomeld:embed", {"INPUT": str(shared(RGB_CHIP)), "OUTPUT": str(out)})
    message = str(raised.value)
    assert "B02" in message and "Traceback" not in message
    assert not out.exists()


def test_cancel_leaves_no_output(processing, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    out = tmp_path / "embedding.tif"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        processing.run("geomeld:embed", {"INPUT": str(shared(CHIP_L1C)), "OUTPUT": str(out)}, feedback=feedback)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_pca_preview_is_rgb(processing, tmp_path):
    result = processing.run("geomeld:pca_preview", {"INPUT": str(shared(CHIP)), "OUTPUT": str(tmp_path / "pca.tif")})
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.RasterCount == 3 and dataset.RasterXSize == 224
    assert dataset.GetRasterBand(1).ReadAsArray().std() > 0


def test_zeroshot_segmentation_names_classes(processing, tmp_path):
    result = processing.run(
        "geomeld:zeroshot_segmentation",
        {"INPUT": str(shared(CHIP)), "CLASSES": "water, forest, farmland", "OUTPUT": str(tmp_path / "classes.tif")},
    )
    dataset = gdal.Open(result["OUTPUT"])
    band = dataset.GetRasterBand(1)
    assert json.loads(dataset.GetMetadataItem("CATEGORY_NAMES")) == ["water", "forest", "farmland"]
    assert set(band.ReadAsArray().ravel()) <= {0, 1, 2, 255}


def test_text_query_writes_heatmap_mask_and_places(processing, tmp_path):
    result = processing.run(
        "geomeld:text_query",
        {
            "INPUT": str(shared(CHIP)),
            "TEXT": "water",
            "THRESHOLD": 0.0,
            "OUTPUT": str(tmp_path / "heat.tif"),
            "MASK": str(tmp_path / "mask.tif"),
            "POLYGONS": str(tmp_path / "places.gpkg"),
        },
    )
    heat = read_band(result["OUTPUT"])
    assert heat.shape == (224, 224) and 0.0 <= heat[heat >= 0].min() and heat.max() <= 1.0
    assert result["HIT_PIXELS"] == int((heat >= 0).sum())
    assert (tmp_path / "mask.tif").exists() and (tmp_path / "places.gpkg").exists()


def test_query_by_example_from_a_point_layer(processing, tmp_path):
    raster = QgsRasterLayer(str(shared(CHIP)), "chip")
    centre = raster.extent().center()
    points = QgsVectorLayer("Point?crs=EPSG:4326", "examples", "memory")
    feature = QgsFeature()
    to_wgs84 = QgsCoordinateTransform(raster.crs(), points.crs(), QgsProject.instance())
    feature.setGeometry(QgsGeometry.fromPointXY(to_wgs84.transform(centre)))
    points.dataProvider().addFeatures([feature])
    result = processing.run(
        "geomeld:query_by_example",
        {"INPUT": raster.source(), "POINTS": points, "OUTPUT": str(tmp_path / "similar.tif")},
    )
    heat = read_band(result["OUTPUT"])
    assert heat[112, 112] == pytest.approx(heat.max(), abs=0.05)
    del raster, points


def test_change_detection_between_two_dates(processing, tmp_path):
    slovenia = "eolearn_testeopatch_slovenia/reference_scene_{}_s2l1c.tif"
    result = processing.run(
        "geomeld:change_detection",
        {
            "INPUT": str(shared(slovenia.format(1))),
            "INPUT_B": str(shared(slovenia.format(4))),
            "OUTPUT": str(tmp_path / "change.tif"),
        },
    )
    change = read_band(result["OUTPUT"])
    assert change.shape == (101, 100) and 0.0 <= change.min() and change.max() <= 2.0


def test_layer_without_crs_is_refused(processing, tmp_path):
    source = gdal.Open(str(shared(CHIP)))
    bare = tmp_path / "no_crs.tif"
    gdal.Translate(str(bare), source)
    dataset = gdal.Open(str(bare), gdal.GA_Update)
    dataset.SetProjection("")
    dataset = None
    assert gdal.Open(str(bare)).GetProjection() == ""
    with pytest.raises(QgsProcessingException, match="no georeference"):
        processing.run("geomeld:embed", {"INPUT": str(bare), "OUTPUT": str(tmp_path / "out.tif")})
    assert not (tmp_path / "out.tif").exists()
