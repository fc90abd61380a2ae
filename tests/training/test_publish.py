"""Publishing exported weights as the bundled model: checksums verified, evaluation added to the card."""

from __future__ import annotations

import json
import shutil

import pytest

from model_core.errors import ModelWeightsError
from model_core.runtime import load_model
from training.credits import credits_for
from training.publish import publish


def test_publish_adds_evaluation_and_loads(weights_dir, tmp_path):
    report = tmp_path / "eval.json"
    rows = [{"task": "EuroSAT zero-shot", "metric": "accuracy", "method": "GeoMeld-FM", "value": 0.5, "n": 44}]
    report.write_text(json.dumps({"quick": True, "results": rows}))
    out = publish(weights_dir, report, tmp_path / "bundle")
    card = json.loads((out / "model_card.json").read_text())
    assert card["evaluation"]["results"] == rows
    assert load_model(out).embedding_dim == card["embedding_dim"]


def test_publish_refuses_a_changed_file(weights_dir, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(weights_dir, source)
    with open(source / "tokenizer.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(ModelWeightsError, match="tokenizer.json"):
        publish(source, None, tmp_path / "bundle")
    assert not (tmp_path / "bundle" / "model_card.json").exists()


def credited(card: dict) -> list[str]:
    return [entry["name"] for entry in credits_for(card)]


def test_credits_follow_the_runs_the_weights_started_from():
    distilled = {"loss_weights": {"distil_tokens": 2.0, "distil_pixels": 1.0, "dense_text": 1.0}}
    text_only = {"loss_weights": {"distil_tokens": 0.0, "distil_pixels": 0.0, "dense_text": 1.0}}
    assert credited({"training": text_only}) == []
    assert credited({"training": {**text_only, "started_from": distilled}}) == [
        "Galileo-Nano encoder (teacher)",
        "Presto encoder (teacher)",
    ]
