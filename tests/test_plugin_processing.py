"""Every GeoMeld Processing algorithm through processing.run on a real TerraMesh chip, and bad inputs."""

from __future__ import annotations

import sys

import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

from tests.conftest import shared

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
CHIP_L1C = "terramesh_examples/S2L1C/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"


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
