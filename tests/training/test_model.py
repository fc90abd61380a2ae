"""GeoMeld-FM in torch: shapes, normalisation, band dropout, EMA teacher, heads, masking and one training step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from osgeo import gdal

from model_core.bands import MODEL_BANDS, S1_BANDS
from model_core.io import Window, open_raster
from model_core.tokenizer import GLOSSARY, TextTokenizer
from tests.conftest import shared
from training.model import (
    INPUT_MULTIPLE,
    GeoMeldConfig,
    build_model,
    ema_update,
    make_ema_teacher,
    random_patch_mask,
)

S1_CHANNELS = slice(len(MODEL_BANDS) - len(S1_BANDS), len(MODEL_BANDS))


@pytest.fixture(scope="module")
def model():
    """A seeded, randomly initialised GeoMeld-FM in eval mode."""
    torch.manual_seed(0)
    return build_model(GeoMeldConfig()).eval()


@pytest.fixture(scope="module")
def terramesh_chip() -> tuple[torch.Tensor, torch.Tensor]:
    """A 96 x 128 crop of a real TerraMesh S2 L1C chip with its aligned S1 backscatter in the VV/VH channels."""
    s2 = open_raster(shared("terramesh_examples/S2L1C/637U_59R_1_3.tif"))
    window = Window(32, 16, 128, 96)
    image = s2.read(window)
    s1 = gdal.Open(str(shared("terramesh_examples/S1RTC/637U_59R_1_3.tif")))
    image[S1_CHANNELS] = s1.ReadAsArray(window.col, window.row, window.width, window.height)
    mask = s2.band_mask.copy()
    mask[S1_CHANNELS] = 1.0
    return torch.from_numpy(image)[None], torch.from_numpy(mask)[None]


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(dim=1)


def test_config_round_trip_and_variants():
    config = GeoMeldConfig.for_variant("femto", embed_dim=32)
    assert config.dims == (48, 96, 192, 384)
    assert GeoMeldConfig.for_variant("zepto", depths=(1, 1, 4, 2)).depths == (1, 1, 4, 2)
    again = GeoMeldConfig.from_dict(config.to_dict())
    assert again == config
    with pytest.raises(ValueError):
        GeoMeldConfig.for_variant("giant")
    with pytest.raises(ValueError):
        GeoMeldConfig(mean=(0.1,) * 13)


def test_shapes_dense_per_pixel_and_pooled(model, terramesh_chip):
    image, mask = terramesh_chip
    image, mask = image.repeat(2, 1, 1, 1), mask.repeat(2, 1)
    with torch.no_grad():
        dense, pooled = model.image(image, mask)
        features = model.image.forward_features(image, mask)
    assert dense.shape == (2, 64, 96, 128)
    assert pooled.shape == (2, 64)
    assert torch.allclose(dense.norm(dim=1), torch.ones(2, 96, 128), atol=1e-5)
    assert torch.allclose(pooled.norm(dim=1), torch.ones(2), atol=1e-5)
    expected_pooled = dense.mean(dim=(2, 3))
    assert torch.allclose(pooled, expected_pooled / expected_pooled.norm(dim=1, keepdim=True), atol=1e-5)
    for level, (feature, dim) in enumerate(zip(features, model.config.dims)):
        stride = 4 * 2**level
        assert feature.shape == (2, dim, 96 // stride, 128 // stride)
    assert INPUT_MULTIPLE == 4 * 2**3
    with pytest.raises(ValueError, match="multiples of 32"):
        model.image(image[..., :100], mask)


def test_normalisation_maps_mean_to_zero_and_ignores_absent_bands(model, terramesh_chip):
    image, mask = terramesh_chip
    at_mean = model.image.mean.expand(1, -1, 32, 32)
    prepared = model.image.prepare(at_mean, torch.ones(1, 15))
    assert prepared[:, :15].abs().max() < 1e-6
    assert torch.equal(prepared[:, 15:], torch.ones(1, 15, 32, 32))
    # An absent band contributes nothing, whatever values the file holds there.
    b10 = MODEL_BANDS.index("B10")
    dropped = mask.clone()
    dropped[:, b10] = 0.0
    garbage = image.clone()
    garbage[:, b10] = torch.rand(image.shape[-2:]) * 5.0
    with torch.no_grad():
        clean, _ = model.image(image, dropped)
        noisy, _ = model.image(garbage, dropped)
        present, _ = model.image(garbage, mask)
    assert torch.allclose(clean, noisy, atol=1e-6)
    assert (present - clean).abs().max() > 1e-3


@pytest.mark.parametrize("absent", [("B10",), ("B01", "B09"), S1_BANDS])
def test_band_dropout_gives_finite_close_but_different_embeddings(model, terramesh_chip, absent):
    image, mask = terramesh_chip
    dropped = mask.clone()
    for band in absent:
        dropped[:, MODEL_BANDS.index(band)] = 0.0
    with torch.no_grad():
        full, full_pooled = model.image(image, mask)
        partial, partial_pooled = model.image(image, dropped)
    assert torch.isfinite(partial).all()
    assert (full - partial).abs().max() > 1e-4
    assert _cosine(full, partial).mean() > 0.8
    assert float(_cosine(full_pooled, partial_pooled)) > 0.8


def test_ema_update_moves_teacher_towards_student(model):
    student = build_model(GeoMeldConfig()).image
    teacher = make_ema_teacher(student)
    assert not any(p.requires_grad for p in teacher.parameters())
    with torch.no_grad():
        for parameter in student.parameters():
            parameter.add_(0.5)
    before = [p.clone() for p in teacher.parameters()]
    ema_update(teacher, student, momentum=0.9)
    for old, new, target in zip(before, teacher.parameters(), student.parameters()):
        assert torch.allclose(new, 0.9 * old + 0.1 * target, atol=1e-6)
    assert not torch.equal(before[0], next(teacher.parameters()))


def test_heads_produce_full_resolution_targets_and_jepa_predictions(model, terramesh_chip):
    image, mask = terramesh_chip
    with torch.no_grad():
        features = model.image.forward_features(image, mask)
        outputs = model.mae(features)
        masked = torch.zeros(1, *features[3].shape[-2:], dtype=torch.bool)
        masked[:, :, :2] = True
        predicted = model.jepa(features[3], masked)
    assert {name: tuple(t.shape) for name, t in outputs.items()} == {
        "s2": (1, 13, 96, 128),
        "s1": (1, 2, 96, 128),
        "dem": (1, 1, 96, 128),
        "lulc": (1, 10, 96, 128),
    }
    assert predicted.shape == features[3].shape


def test_random_patch_mask_masks_exact_ratio_of_aligned_patches():
    generator = torch.Generator().manual_seed(3)
    mask = random_patch_mask(4, 64, 96, patch=8, ratio=0.75, generator=generator)
    assert mask.shape == (4, 64, 96) and mask.dtype == torch.bool
    patches = mask.view(4, 8, 8, 12, 8).permute(0, 1, 3, 2, 4).reshape(4, 96, 64)
    assert torch.all(patches.all(dim=2) | ~patches.any(dim=2))  # each 8x8 square is all masked or all visible
    assert torch.all(patches[:, :, 0].sum(dim=1) == 72)  # 75 % of 96 squares
    again = random_patch_mask(4, 64, 96, patch=8, ratio=0.75, generator=torch.Generator().manual_seed(3))
    assert torch.equal(mask, again)
    assert not torch.equal(mask[0], mask[1])


def test_text_encoder_ignores_padding_and_is_normalised(model):
    tokenizer = TextTokenizer.train(GLOSSARY, vocab_size=512)
    short = torch.from_numpy(tokenizer.encode(["flooded river", "dense forest"], 16))
    long = torch.from_numpy(tokenizer.encode(["flooded river", "dense forest"], 32))
    with torch.no_grad():
        a, b = model.text(short), model.text(long)
    assert a.shape == (2, 64)
    assert torch.allclose(a.norm(dim=1), torch.ones(2), atol=1e-5)
    assert torch.allclose(a, b, atol=1e-5)
    assert float(_cosine(a[:1], a[1:])) < 0.9999


def test_one_training_step_is_finite(terramesh_chip):
    torch.manual_seed(1)
    fm = build_model(GeoMeldConfig()).train()
    image, mask = terramesh_chip
    tokenizer = TextTokenizer.train(GLOSSARY, vocab_size=512)
    tokens = torch.from_numpy(tokenizer.encode(["farmland near a town"], 32))
    features = fm.image.forward_features(image, mask)
    dense, pooled = fm.image(image, mask)
    outputs = fm.mae(features)
    masked = torch.ones(1, *features[3].shape[-2:], dtype=torch.bool)
    jepa = fm.jepa(features[3], masked)
    text = fm.text(tokens)
    loss = (
        sum(t.square().mean() for t in outputs.values())
        + (jepa - features[3].detach()).square().mean()
        + dense.mean()
        - fm.logit_scale.exp() * (pooled * text).sum()
    )
    loss.backward()
    grads = [p.grad for p in fm.parameters() if p.grad is not None]
    assert torch.isfinite(loss)
    assert all(torch.isfinite(g).all() for g in grads)
    assert fm.logit_scale.grad is not None and float(fm.logit_scale.grad.abs()) > 0
    assert np.isclose(float(fm.logit_scale.detach().exp()), 1 / 0.07, rtol=1e-5)
