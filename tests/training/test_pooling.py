"""Patch probe features on a real EuroSAT patch: mean, max and min of the dense embeddings over valid pixels only."""

from __future__ import annotations

import numpy as np

from model_core.io import open_raster
from tests.conftest import shared
from training.pooling import pooled_features


def test_pooled_features_use_only_valid_pixels(geomeld_model):
    raster = open_raster(shared("eurosat_ms/Forest/Forest_1031.tif"), bands="eurosat")
    dense = geomeld_model.embed_dense(raster.read(), raster.band_mask)
    dim = geomeld_model.embedding_dim
    left = np.zeros(dense.shape[2:], dtype=bool)
    left[:, : dense.shape[3] // 2] = True
    valid = np.stack([left, np.zeros_like(left)])
    features = pooled_features(np.concatenate([dense, dense]), valid)

    assert features.shape == (2, 3 * dim) and features.dtype == np.float32
    pixels = dense[0][:, left]
    np.testing.assert_allclose(features[0, :dim], pixels.mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(features[0, dim : 2 * dim], pixels.max(axis=1))
    np.testing.assert_allclose(features[0, 2 * dim :], pixels.min(axis=1))
    assert np.all(features[1] == 0.0), "a patch without valid pixels has zero features"
    everything = pooled_features(dense)
    assert np.abs(everything - features[:1]).max() > 1e-3, "the masked half must change the features"
    np.testing.assert_allclose(everything[0, :dim], dense[0].mean(axis=(1, 2)), atol=1e-6)
