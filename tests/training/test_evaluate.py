"""The evaluation harness on real data: a quick run's table (Markdown + JSON) and the baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.baselines import PooledPCA, band_statistics, random_forest
from training.data.eurosat import EuroSATMS
from training.evaluate import MODEL_NAME, RANDOM_NAME, Encoder, evaluate, image_set, random_encoder, write_report

from .test_pretrain import build_tiny_pack

TASKS = {
    "EuroSAT linear probe",
    "EuroSAT 5-shot",
    "BigEarthNet v2 multi-label",
    "EuroSAT zero-shot",
    "text-to-image retrieval",
    "Sen1Floods11 water",
    "Aberystwyth text query",
}


def test_quick_evaluation_writes_the_table(weights_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    captioned_pack = build_tiny_pack(tmp_path / "pack")
    results = evaluate(weights_dir, data_dir, captioned_pack, quick=True, log=lambda message: None)
    markdown, payload = write_report(results, tmp_path / "eval", {"weights": str(weights_dir), "quick": True})

    assert {r.task for r in results} == TASKS
    assert all(0.0 <= r.value <= 1.0 and r.n > 0 for r in results)
    methods = {r.method for r in results if r.task == "EuroSAT linear probe"}
    assert f"{MODEL_NAME} + logistic regression" in methods and f"{RANDOM_NAME} + logistic regression" in methods
    assert "band statistics + random forest (500 trees)" in methods and len(methods) == 5
    forest = next(r for r in results if r.method.startswith("band statistics + random forest") and "CV" in r.metric)
    assert forest.value > 0.4  # ten classes: chance is 0.1
    ndwi = next(r for r in results if r.method == "NDWI > 0")
    assert ndwi.value > 0.2

    table = [line for line in markdown.read_text().splitlines() if line.startswith("|")]
    assert table[0] == "| task | metric | method | value | n |" and len(table) == len(results) + 2
    written = json.loads(payload.read_text())
    assert {"weights", "quick", "results"} <= set(written)
    assert set(written["results"][0]) == {"task", "metric", "method", "value", "n", "note"}
    assert not list((tmp_path / "eval").glob("*.tmp"))


def test_baselines_band_statistics_and_pca(data_dir: Path) -> None:
    data = image_set(EuroSATMS(data_dir / EuroSATMS.folder), every=4)
    stats = band_statistics(data.images, data.valid)
    assert stats.shape == (len(data.ids), 75)
    first = data.images[0][:, data.valid[0]]
    np.testing.assert_allclose(stats[0, :15], first.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(stats[0, 60:], np.percentile(first, 90, axis=1), rtol=1e-5)
    pca = PooledPCA(components=4).fit(data.images, data.valid)
    assert pca.transform(data.images, data.valid).shape == (len(data.ids), 8)
    labels = np.array([labels[0] for labels in data.labels])
    forest = random_forest(0).fit(stats, labels)
    assert forest.n_estimators == 500 and (forest.predict(stats) == labels).mean() > 0.9


def test_random_encoder_baseline_is_the_same_model_in_every_run(weights_dir: Path, tmp_path: Path) -> None:
    texts = ["forest", "a river next to farmland", "flooded fields"]
    image = np.random.default_rng(0).uniform(0.0, 0.4, (15, 64, 64)).astype(np.float32)
    mask = np.ones(15, dtype=np.float32)
    encoders = [random_encoder(weights_dir, tmp_path / name) for name in ("first", "second")]
    assert encoders[0].model.tokenizer.vocab_size == Encoder(weights_dir).model.tokenizer.vocab_size
    np.testing.assert_array_equal(encoders[0].text(texts), encoders[1].text(texts))
    np.testing.assert_array_equal(encoders[0].dense(image, mask), encoders[1].dense(image, mask))
