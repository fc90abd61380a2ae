"""Pretraining on a small real pack (TerraMesh: S2 + S1 + DEM + land cover): losses, steps, checkpoint/resume, log."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, shared
from training.data.pack import SourcePlan, pack
from training.data.packed import PackedDataset
from training.data.sample import LULC_CLASSES
from training.data.terramesh import TerraMesh
from training.losses import band_dropout, ema_momentum, info_nce
from training.objective import LOSS_NAMES
from training.plots import plot_losses
from training.pretrain import CHECKPOINT, LOG_NAME, PLOT_NAME, Pretraining, load_config, pretrain
from training.teachers.galileo import default_teacher_dir

pytestmark = pytest.mark.slow  # training steps


def land_cover_caption(lulc: np.ndarray) -> str:
    """A caption naming the two most frequent land-cover classes of a sample (real labels, no invented text)."""
    counts = np.bincount(lulc[lulc > 0].ravel(), minlength=len(LULC_CLASSES))
    first, second = np.argsort(counts)[::-1][:2]
    if counts[second] == 0:
        return f"a satellite image of {LULC_CLASSES[first]}"
    return f"a satellite image of {LULC_CLASSES[first]} and {LULC_CLASSES[second]}"


TEACHERS = default_teacher_dir()
HAVE_TEACHERS = (TEACHERS / "galileo_nano").exists()


def have_glove() -> bool:
    """Whether the GloVe word vectors package (a training dependency) is installed."""
    try:
        from training.glove import load_glove

        load_glove()
    except ImportError:
        return False
    return True


def build_tiny_pack(folder: Path) -> Path:
    """A 64 px pack of the TerraMesh chips, a captions.jsonl built from their land-cover labels and, where the
    teachers are available, their targets."""
    shared("terramesh_examples")
    pack(folder, 64, 0, plan=(SourcePlan(lambda crop, scale: TerraMesh()),), log=lambda message: None)
    if HAVE_TEACHERS:
        from training.teachers.targets import compute_targets

        compute_targets(folder, TEACHERS, log=lambda message: None)
    with open(folder / "captions.jsonl", "w") as handle:
        for split in ("train", "val"):
            for sample in PackedDataset(folder, split):
                record = {"id": sample["meta"]["id"], "split": split, "captions": [land_cover_caption(sample["lulc"])]}
                handle.write(json.dumps(record) + "\n")
    return folder


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TerraMesh pack with captions, built once per module."""
    return build_tiny_pack(tmp_path_factory.mktemp("pack"))


def tiny_config(folder: Path, steps: int) -> dict:
    """cpu_distil.json shrunk for a test: batch 4, a small vocabulary, checkpoints every 2 steps; without the
    teachers or GloVe (training inputs that a checkout may lack) their parts are switched off."""
    config = load_config(REPO_ROOT / "training" / "configs" / "cpu_distil.json", steps)
    config["data"].update(packed=str(folder), captions=str(folder / "captions.jsonl"), stats_samples=40)
    config["train"].update(batch_size=4, checkpoint_every=2, lr=2e-3)
    if have_glove():
        config["model"]["glove_words"] = 2000
    else:
        del config["model"]["glove_words"]
        config["model"]["vocab_size"] = 512
    if not HAVE_TEACHERS:
        config["loss_weights"] = {k: v for k, v in config["loss_weights"].items() if not k.startswith("distil")}
    return config


def test_every_loss_is_finite_and_total_decreases(tiny_pack: Path, tmp_path: Path) -> None:
    run = Pretraining(tiny_config(tiny_pack, steps=8), tmp_path)
    batch = next(run.batches())
    assert batch.tokens.shape[0] == 4 and bool(batch.lulc.gt(0).any()) and bool(batch.has_dem.all())
    first = run.train_step(batch)
    weighted = [name for name in LOSS_NAMES if run.objective.weights[name] > 0]
    assert HAVE_TEACHERS <= ("distil_tokens" in weighted)
    for name in (*weighted, "total"):
        assert math.isfinite(first[name]) and first[name] > 0, name
    totals = [first["total"]] + [run.train_step(batch)["total"] for _ in range(5)]
    assert totals[-1] < totals[0], totals


def test_checkpoint_resume_continues_with_identical_parameters(tiny_pack: Path, tmp_path: Path) -> None:
    config = tiny_config(tiny_pack, steps=2)
    config["train"]["keep_steps"] = [1]
    pretrain(config, tmp_path, command="test")
    saved = torch.load(tmp_path / CHECKPOINT, map_location="cpu", weights_only=True)
    assert saved["step"] == 2
    assert torch.load(tmp_path / "step_1.pt", map_location="cpu", weights_only=True)["step"] == 1
    resumed = Pretraining(tiny_config(tiny_pack, steps=3), tmp_path, resume=True)
    assert resumed.step == 2
    for name, value in resumed.objective.model.state_dict().items():
        assert torch.equal(value, saved["model"][name]), name
    for name, value in resumed.objective.teacher.state_dict().items():
        assert torch.equal(value, saved["teacher"][name]), name
    assert torch.equal(resumed.generator.get_state(), saved["rng"]["generator"])
    model_dir = resumed.run("test resume")
    with open(tmp_path / LOG_NAME, newline="") as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == [1, 2, 3]
    assert (tmp_path / PLOT_NAME).stat().st_size > 10_000
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["training"]["steps"] == 3 and card["training"]["data"]["train_samples"] > 0
    assert torch.load(tmp_path / CHECKPOINT, map_location="cpu", weights_only=True)["step"] == 3


@pytest.mark.parametrize(
    ("lock", "locked", "learning"), [("lock_image", "image.", "text."), ("lock_text", "text.", "image.")]
)
def test_a_locked_run_from_a_checkpoint_trains_only_the_other_tower(
    tiny_pack: Path, tmp_path: Path, lock: str, locked: str, learning: str
) -> None:
    pretrain(tiny_config(tiny_pack, steps=2), tmp_path / "first", command="test")
    start = torch.load(tmp_path / "first" / CHECKPOINT, map_location="cpu", weights_only=True)
    config = tiny_config(tiny_pack, steps=10)
    config["train"].update({lock: True, "lr": 5e-4})
    with pytest.raises(ValueError, match="needs trained weights"):
        Pretraining(config, tmp_path / "nothing")
    config["init"] = str(tmp_path / "first" / CHECKPOINT)
    config["loss_weights"] = {"infonce": 1.0, "dense_text": 1.0}
    run = Pretraining(config, tmp_path / "run")
    assert run.step == 0 and run.tokenizer.to_str() == start["tokenizer"]
    for name, value in run.objective.model.state_dict().items():
        assert torch.equal(value, start["model"][name]), name
    batch = next(run.batches())
    losses = [run.train_step(batch) for _ in range(6)]
    assert losses[0]["mae_s2"] == losses[0]["distil_tokens"] == 0.0  # weight 0: not computed
    assert losses[-1]["total"] < losses[0]["total"]
    after = run.objective.model.state_dict()
    fixed = [name for name in after if name.startswith(locked)]
    trained = [name for name in after if name.startswith(learning) and after[name].is_floating_point()]
    if lock == "lock_text":  # the temperature is the text side's calibration
        fixed.append("logit_scale")
    assert fixed and all(torch.equal(after[name], start["model"][name]) for name in fixed)
    assert any(not torch.equal(after[name], start["model"][name]) for name in trained)
    card = json.loads((run.run("test") / "model_card.json").read_text())  # exports with a frozen tower
    assert card["training"]["started_from"]["checkpoint"] == config["init"]
    assert card["training"]["started_from"]["steps"] == 2 and "started_from" not in card["training"]["started_from"]


def test_locking_both_towers_is_refused(tiny_pack: Path, tmp_path: Path) -> None:
    config = tiny_config(tiny_pack, steps=2)
    config["train"].update(lock_image=True, lock_text=True)
    config["init"] = str(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="nothing to train"):
        Pretraining(config, tmp_path / "run")


def test_band_dropout_keeps_the_required_bands() -> None:
    generator = torch.Generator().manual_seed(0)
    dropped = band_dropout(torch.ones(256, 15), 0.9, generator)
    assert dropped[:, [1, 2, 3, 7]].eq(1).all()  # B02, B03, B04, B08
    assert 0.02 < dropped.mean() < 0.5


def test_ema_schedule_and_infonce_prefer_matching_pairs() -> None:
    assert ema_momentum(0.0, 0.99, 0.999) == pytest.approx(0.99)
    assert ema_momentum(0.5, 0.99, 0.999) == pytest.approx(0.9945)
    assert ema_momentum(1.0, 0.99, 0.999) == pytest.approx(0.999)
    embeddings = torch.nn.functional.normalize(torch.randn(8, 16, generator=torch.Generator().manual_seed(1)), dim=1)
    scale = torch.tensor(math.log(10.0))
    assert info_nce(embeddings, embeddings, scale) < info_nce(embeddings, embeddings.roll(1, dims=0), scale)


def test_losses_plot_accepts_a_loss_added_on_resume(tmp_path: Path) -> None:
    log = tmp_path / LOG_NAME
    log.write_text("step,seconds,lr,total,text_anchor\n1,1.0,0.1,3.0,\n2,2.0,0.1,2.5,\n3,3.0,0.1,2.0,4.1\n")
    plot_losses(log, tmp_path / PLOT_NAME)
    assert (tmp_path / PLOT_NAME).stat().st_size > 1000
