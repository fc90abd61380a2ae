"""Zero-shot classification from class names: EuroSAT patch accuracy, a class map of a TerraMesh chip, bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from osgeo import gdal

from model_core.cli import main
from model_core.engine.classmap import class_names_of
from model_core.engine.zeroshot import zeroshot_patches, zeroshot_segment
from model_core.errors import QueryInputError
from tests.conftest import REPO_ROOT, shared
from training.evaluate import EUROSAT_CLASS_WORDS

TRAINED = (REPO_ROOT / "resources" / "model" / "model_card.json").exists()
PER_CLASS = 8


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Embeddings of this module go to a cache folder of their own."""
    monkeypatch.setenv("GEOMELD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "zeroshot_cache"))


def test_eurosat_patches_from_class_names(engine, tmp_path):
    folder = shared("eurosat_ms")
    paths, truth = [], []
    for name, text in EUROSAT_CLASS_WORDS.items():
        files = sorted((folder / name).glob("*.tif"))[:PER_CLASS]
        paths += [str(path) for path in files]
        truth += [text] * len(files)
    out = tmp_path / "pred.csv"
    predictions = zeroshot_patches(paths, engine, list(EUROSAT_CLASS_WORDS.values()), out, bands="eurosat")
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["path"] for row in rows] == paths
    assert {row["label"] for row in rows} <= set(EUROSAT_CLASS_WORDS.values())
    assert all(0.0 < float(row["score"]) <= 1.0 for row in rows)
    accuracy = float(np.mean([p.label == t for p, t in zip(predictions, truth)]))
    print(f"\nzero-shot EuroSAT accuracy from class names: {accuracy:.3f} on {len(paths)} patches (chance 0.100)")
    assert 0.0 <= accuracy <= 1.0
    if TRAINED:
        assert accuracy >= 0.2


def test_class_map_of_a_chip(engine, tmp_path):
    chip = shared("terramesh_examples/S2L1C/433D_629L_3_1.tif")
    classes = ["water", "trees", "crops", "built area"]
    result = zeroshot_segment(
        chip,
        engine,
        "water, trees, crops, built area",
        tmp_path / "classes.tif",
        probabilities_out=tmp_path / "probabilities.tif",
    )
    assert result.classes == classes
    dataset = gdal.Open(str(result.path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray()
    assert class_names_of(dataset) == classes
    assert band.GetRasterColorTable() is not None and band.GetNoDataValue() == 0
    assert set(np.unique(values)) <= {0, 1, 2, 3, 4}
    valid = values != 0
    assert sum(result.pixels.values()) == int(valid.sum()) > 0
    probabilities = gdal.Open(str(result.probabilities)).ReadAsArray()
    assert probabilities.shape == (4, *values.shape)
    np.testing.assert_allclose(probabilities.sum(axis=0)[valid], 1.0, rtol=1e-4)
    np.testing.assert_array_equal(np.argmax(probabilities, axis=0)[valid] + 1, values[valid])


@pytest.mark.parametrize(("classes", "message"), [("water", "at least two"), ("water, 洪水", "cannot represent")])
def test_bad_class_lists_raise_and_write_nothing(engine, tmp_path, classes, message):
    chip = shared("terramesh_examples/S2L1C/433D_629L_3_1.tif")
    with pytest.raises(QueryInputError, match=message):
        zeroshot_segment(chip, engine, classes, tmp_path / "classes.tif")
    with pytest.raises(QueryInputError, match=message):
        zeroshot_patches([chip], engine, classes, tmp_path / "pred.csv")
    assert list(tmp_path.iterdir()) == []


def test_cli_zeroshot_patches_and_map(weights_dir, tmp_path, capsys):
    patches = [str(p) for p in sorted(shared("eurosat_ms/Forest").glob("*.tif"))[:2]]
    out = tmp_path / "pred.csv"
    code = main(
        ["zeroshot", *patches, "--bands", "eurosat", "--classes", "forest,sea or lake", "--out", str(out)]
        + ["--weights", str(weights_dir)]
    )
    assert code == 0
    with open(out, newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["path", "label", "score"]
        assert len(list(handle)) == 2
    chip = str(shared("terramesh_examples/S2L1C/433D_629L_3_1.tif"))
    code = main(
        ["zeroshot", chip, "--classes", "water,forest", "--out", str(tmp_path / "c.tif"), "--weights", str(weights_dir)]
    )
    assert code == 0 and (tmp_path / "c.tif").exists()
    code = main(
        [
            "zeroshot",
            chip,
            chip,
            "--classes",
            "water,forest",
            "--out",
            str(tmp_path / "d.tif"),
            "--weights",
            str(weights_dir),
        ]
    )
    assert code == 2 and "exactly one raster" in capsys.readouterr().err
    assert not (tmp_path / "d.tif").exists()
