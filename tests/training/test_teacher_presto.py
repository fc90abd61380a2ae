"""Presto teacher: the project's encoder reproduces the reference's golden embeddings of 256 EuroSAT pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import teacher_golden
from training.teachers.galileo import default_teacher_dir
from training.teachers.presto import PRESTO_CHANNELS, PRESTO_S2_BANDS, Presto, s2_pixel_inputs

TEACHERS = default_teacher_dir()
GOLDEN = TEACHERS / "golden" / "presto_golden.npz"
if not (TEACHERS / "presto" / "default_model.pt").exists() or not GOLDEN.exists():
    pytest.skip(f"pretrained teachers not available: {TEACHERS}", allow_module_level=True)

ATOL = 1e-5  # measured: 3.1e-6


@pytest.fixture(scope="module")
def presto() -> Presto:
    return Presto.load(TEACHERS / "presto")


@pytest.fixture(scope="module")
def golden() -> dict[str, torch.Tensor]:
    return {key: torch.from_numpy(value) for key, value in teacher_golden("presto").items() if key != "s2_bands"}


def test_loaded_frozen_in_eval_mode(presto: Presto):
    assert not presto.training
    assert not any(parameter.requires_grad for parameter in presto.parameters())


def test_forward_reproduces_golden(presto: Presto, golden: dict[str, torch.Tensor]):
    with torch.inference_mode():
        embedding = presto(
            golden["x"], golden["mask"], golden["dynamic_world"], golden["latlons"], int(golden["month0"])
        )
    assert embedding.shape == (256, 128)
    torch.testing.assert_close(embedding, golden["embedding"], atol=ATOL, rtol=0)


def test_s2_inputs_match_golden(golden: dict[str, torch.Tensor]):
    with np.load(GOLDEN) as data:
        assert tuple(data["s2_bands"]) == PRESTO_S2_BANDS
    x, mask = s2_pixel_inputs(golden["raw_dn"])
    assert torch.equal(x, golden["x"])
    assert torch.equal(mask, golden["mask"])


def test_embed_s2_pixels_reproduces_golden(presto: Presto, golden: dict[str, torch.Tensor]):
    # batches of 100 leave a short last batch
    embedding = presto.embed_s2_pixels(golden["raw_dn"], golden["latlons"], int(golden["month0"]), batch=100)
    torch.testing.assert_close(embedding, golden["embedding"], atol=ATOL, rtol=0)


def test_missing_band_changes_embedding_but_stays_finite(presto: Presto, golden: dict[str, torch.Tensor]):
    raw_dn = golden["raw_dn"].clone()
    missing = torch.zeros(raw_dn.shape, dtype=torch.bool)
    missing[::2, PRESTO_S2_BANDS.index("B05")] = True  # drops the whole red-edge token
    missing[1::4, PRESTO_S2_BANDS.index("B04")] = True  # drops RGB and NDVI
    raw_dn[missing] = float("nan")  # an absent band's value must not matter
    embedding = presto.embed_s2_pixels(raw_dn, golden["latlons"], int(golden["month0"]), missing=missing)
    assert torch.isfinite(embedding).all()
    hit = missing.any(dim=1)
    change = (embedding - golden["embedding"]).abs().amax(dim=1)
    assert (change[hit] > 1e-2).all()
    # the pixels missing nothing are unchanged although their batch needs an attention mask
    torch.testing.assert_close(embedding[~hit], golden["embedding"][~hit], atol=ATOL, rtol=0)
    # and each pixel is embedded as it would be alone (masked tokens removed instead of masked out)
    alone = torch.cat(
        [
            presto.embed_s2_pixels(raw_dn[i : i + 1], golden["latlons"][i : i + 1], 6, missing[i : i + 1])
            for i in range(4)
        ]
    )
    torch.testing.assert_close(embedding[:4], alone, atol=ATOL, rtol=0)


def test_missing_red_masks_ndvi(golden: dict[str, torch.Tensor]):
    missing = torch.zeros(2, len(PRESTO_S2_BANDS), dtype=torch.bool)
    missing[0, PRESTO_S2_BANDS.index("B04")] = True
    x, mask = s2_pixel_inputs(golden["raw_dn"][:2], missing)
    ndvi = PRESTO_CHANNELS.index("NDVI")
    assert mask[0, 0, ndvi] == 1 and x[0, 0, ndvi] == 0
    assert mask[1, 0, ndvi] == 0
