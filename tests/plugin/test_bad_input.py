"""Bad input through Processing: each is refused with one clear sentence and no partial output is left behind."""

from __future__ import annotations

import pickle

import pytest

from tests.conftest import shared
from tests.model_core import test_bad_input as cases
from tests.model_core.test_bad_input import (
    CHIP,
    chip_points,
    chip_srs,
    digest,
    files_in,
    truncated_copy,
    write_points,
)

out = cases.out  # the CLI tests' fixtures
workspace = cases.workspace


def test_processing_band_list_with_the_wrong_count(processing, out):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="has 13 bands but the band list names 4"):
        processing.run(
            "geomeld:embed", {"INPUT": str(shared(CHIP)), "BANDS": "B02,B03,B04,B08", "OUTPUT": str(out / "e.tif")}
        )
    assert files_in(out) == []


def test_processing_empty_text_query(processing, out):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="empty"):
        processing.run("geomeld:text_query", {"INPUT": str(shared(CHIP)), "TEXT": "  ", "OUTPUT": str(out / "h.tif")})
    assert files_in(out) == []


def test_processing_single_class_labels(processing, tmp_path, out):
    from qgis.core import QgsProcessingException

    labels = write_points(tmp_path / "one.gpkg", [p for p in chip_points() if p[2] == "west"], chip_srs())
    parameters = {"INPUT": str(shared(CHIP)), "LABELS": str(labels), "FIELD": "class", "OUTPUT": str(out / "p.json")}
    with pytest.raises(QgsProcessingException, match="only one class"):
        processing.run("geomeld:train_probe", parameters)
    assert files_in(out) == []


def test_processing_pickle_offered_as_probe(processing, tmp_path, out):
    from qgis.core import QgsProcessingException

    probe = tmp_path / "probe.json"
    probe.write_bytes(pickle.dumps(["not", "a", "probe"]))
    parameters = {"INPUT": str(shared(CHIP)), "PROBE": str(probe), "OUTPUT": str(out / "classes.tif")}
    with pytest.raises(QgsProcessingException, match="Python pickle"):
        processing.run("geomeld:apply_probe", parameters)
    assert files_in(out) == []


def test_processing_output_over_its_input(processing, workspace, out):
    from qgis.core import QgsProcessingException

    before = digest(workspace)
    scene = str(workspace / "scene.tif")
    with pytest.raises(QgsProcessingException, match="would overwrite the input"):
        processing.run("geomeld:clusters", {"INPUT": scene, "CLUSTERS": 3, "OUTPUT": scene})
    labels = str(workspace / "labels.gpkg")
    with pytest.raises(QgsProcessingException, match="would overwrite the input"):
        processing.run(
            "geomeld:train_probe",
            {"INPUT": scene, "LABELS": labels, "FIELD": "class", "OUTPUT": str(out / "p.json"), "MATRIX": labels},
        )
    with pytest.raises(QgsProcessingException, match="would overwrite the input"):
        processing.run(
            "geomeld:apply_probe",
            {
                "INPUT": scene,
                "PROBE": str(workspace / "probe.json"),
                "OUTPUT": str(out / "c.tif"),
                "PROBABILITIES": str(workspace / "probe.npz"),
            },
        )
    assert digest(workspace) == before and files_in(out) == []


def test_processing_scale_and_damaged_raster(processing, tmp_path, out):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="reflectance scale must be a positive number"):
        processing.run("geomeld:embed", {"INPUT": str(shared(CHIP)), "SCALE": 0, "OUTPUT": str(out / "e.tif")})
    broken = truncated_copy(shared(CHIP), tmp_path / "broken.tif")
    with pytest.raises(QgsProcessingException, match="'.*broken.tif' cannot be read"):
        processing.run("geomeld:embed", {"INPUT": str(broken), "OUTPUT": str(out / "e.tif")})
    assert files_in(out) == []
