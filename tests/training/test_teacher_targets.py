"""Teacher targets of a real pack: computed once and cached, transformed with their sample, and the distillation
losses on real data (finite, and decreasing over a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import shared
from training.data.pack import SourcePlan, pack
from training.data.packed import PackedDataset, collate
from training.data.slovenia import SloveniaEOPatch
from training.data.transforms import flip_rotate, random_crop
from training.model import GeoMeldConfig, build_model
from training.objective import DISTILLATION, Batch, PretrainObjective
from training.teachers.galileo import default_teacher_dir
from training.teachers.store import MANIFEST, read_manifest, targets_folder
from training.teachers.targets import PATCH_SIZE, POINTS_PER_SAMPLE, compute_targets

TEACHERS = default_teacher_dir()
pytestmark = [
    pytest.mark.slow,  # teacher encoders over a pack
    pytest.mark.skipif(not (TEACHERS / "galileo_nano").exists(), reason=f"teacher encoders not available: {TEACHERS}"),
]


@pytest.fixture(scope="module")
def pack_with_targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64 px pack of the Slovenian EOPatch scenes (20 tiles) with its teacher targets."""
    shared("eolearn_testeopatch_slovenia")
    folder = tmp_path_factory.mktemp("pack")
    pack(folder, 64, 0, plan=(SourcePlan(lambda crop, scale: SloveniaEOPatch()),), log=lambda message: None)
    compute_targets(folder, TEACHERS, log=lambda message: None)
    return folder


def test_targets_have_the_documented_shapes(pack_with_targets: Path) -> None:
    dataset = PackedDataset(pack_with_targets, "train", teachers=True)
    sample = dataset[0]
    grid = 64 // PATCH_SIZE
    assert sample["teacher_tokens"].shape == (128, grid, grid)
    assert sample["teacher_token_weight"].shape == (grid, grid)
    assert 0 < sample["teacher_token_weight"].max() <= 1
    assert np.isfinite(sample["teacher_tokens"]).all() and np.isfinite(sample["presto"]).all()
    rows, cols = sample["presto_points"].T
    assert 0 < len(rows) <= POINTS_PER_SAMPLE
    assert sample["valid"][rows, cols].all()
    stats = dataset.teacher_stats
    assert len(stats["galileo"]["mean"]) == len(stats["presto"]["std"]) == 128


def test_targets_are_cached_until_something_changes(pack_with_targets: Path) -> None:
    folder = targets_folder(pack_with_targets)
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    messages: list[str] = []
    compute_targets(pack_with_targets, TEACHERS, log=messages.append)
    assert messages == [f"teacher targets in {folder} are up to date"]
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    manifest = read_manifest(pack_with_targets)
    (folder / MANIFEST).write_text(json.dumps({**manifest, "points_per_sample": 1}))  # stale settings
    compute_targets(pack_with_targets, TEACHERS, log=messages.append)
    assert read_manifest(pack_with_targets)["points_per_sample"] == POINTS_PER_SAMPLE
    assert (folder / MANIFEST).stat().st_mtime_ns != before[MANIFEST]


def cell_means(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (C, H/P, W/P) mean of each patch: a token map that follows the image exactly."""
    channels, height, width = image.shape
    cells = image.reshape(channels, height // PATCH_SIZE, PATCH_SIZE, width // PATCH_SIZE, PATCH_SIZE)
    return cells.mean(axis=(2, 4))


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_augmentations_move_targets_with_the_pixels(pack_with_targets: Path, flip: bool, turns: int) -> None:
    sample = PackedDataset(pack_with_targets, "train", teachers=True)[3]
    rows, cols = sample["presto_points"].T
    sample = {**sample, "teacher_tokens": cell_means(sample["image"]), "presto": sample["image"][:, rows, cols].T}
    moved = flip_rotate(sample, flip, turns)
    np.testing.assert_allclose(moved["teacher_tokens"], cell_means(moved["image"]), rtol=1e-6)
    rows, cols = moved["presto_points"].T
    np.testing.assert_array_equal(moved["presto"], moved["image"][:, rows, cols].T)


def test_random_crops_align_to_the_token_grid(pack_with_targets: Path) -> None:
    sample = PackedDataset(pack_with_targets, "train", teachers=True)[0]
    rows, cols = sample["presto_points"].T
    sample = {**sample, "teacher_tokens": cell_means(sample["image"]), "presto": sample["image"][:, rows, cols].T}
    for seed in range(6):
        cropped = random_crop(sample, 32, np.random.default_rng(seed))
        assert cropped["teacher_tokens"].shape[-2:] == (32 // PATCH_SIZE, 32 // PATCH_SIZE)
        np.testing.assert_allclose(cropped["teacher_tokens"], cell_means(cropped["image"]), rtol=1e-6)
        rows, cols = cropped["presto_points"].T
        np.testing.assert_array_equal(cropped["presto"], cropped["image"][:, rows, cols].T)


def teacher_batch(dataset: PackedDataset) -> Batch:
    """Eight augmented samples as a Batch with teacher targets (no captions, no MAE mask)."""
    collated = collate([dataset[index] for index in range(8)])
    batch, _, height, width = collated["image"].shape
    band_mask = torch.from_numpy(collated["band_mask"])
    keys = ("teacher_tokens", "teacher_token_weight", "presto_points", "presto", "presto_weight")
    return Batch(
        image=torch.from_numpy(collated["image"]),
        band_mask=band_mask,
        input_mask=band_mask,
        valid=torch.from_numpy(collated["valid"]),
        pixel_mask=torch.zeros(batch, height, width, dtype=torch.bool),
        dem=torch.from_numpy(collated["dem"]),
        has_dem=torch.from_numpy(collated["has_dem"].astype(np.float32)),
        lulc=torch.from_numpy(collated["lulc"]),
        tokens=torch.zeros(0, 8, dtype=torch.int64),
        captioned=torch.zeros(0, dtype=torch.int64),
        **{key: torch.from_numpy(collated[key]) for key in keys},
    )


def test_each_distillation_loss_decreases_on_real_data(pack_with_targets: Path) -> None:
    torch.manual_seed(0)
    dataset = PackedDataset(pack_with_targets, "train", crop=64, augment=True, teachers=True)
    batch = teacher_batch(dataset)
    config = GeoMeldConfig.for_variant("zepto", embed_dim=32, decoder_dim=32, vocab_size=64, text_layers=1)
    weights = {name: 1.0 for name in DISTILLATION}
    objective = PretrainObjective(
        build_model(config), weights, torch.zeros(9, 8, dtype=torch.int64), 1.0, dataset.teacher_stats
    )
    optimizer = torch.optim.AdamW(objective.model.parameters(), lr=3e-3)
    history = []
    for _ in range(8):
        losses = objective(batch)
        history.append({name: float(losses[name].detach()) for name in DISTILLATION})
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
    for name in DISTILLATION:
        values = [step[name] for step in history]
        assert all(np.isfinite(values)), name
        assert values[-1] < values[0], f"{name} did not decrease: {values}"


def test_batches_without_targets_have_zero_distillation_losses(pack_with_targets: Path) -> None:
    dataset = PackedDataset(pack_with_targets, "train", crop=64, teachers=True)
    batch = teacher_batch(dataset)
    batch.teacher_tokens = batch.teacher_token_weight = batch.presto_points = batch.presto = None
    batch.presto_weight = None
    config = GeoMeldConfig.for_variant("zepto", embed_dim=32, decoder_dim=32, vocab_size=64, text_layers=1)
    weights = {name: 1.0 for name in DISTILLATION}
    objective = PretrainObjective(build_model(config), weights, torch.zeros(9, 8, dtype=torch.int64), 1.0)
    losses = objective(batch)
    assert all(float(losses[name]) == 0.0 for name in DISTILLATION)
