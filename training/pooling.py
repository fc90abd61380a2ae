"""Whole-patch probe features from per-pixel embeddings: per-dimension mean, maximum and minimum over valid pixels.

Chosen for probes on patches (EuroSAT): the mean alone (the normalised pooled embedding that zero-shot and retrieval
compare with text) loses what the extremes keep, such as a road or river crossing a field.
"""

from __future__ import annotations

import numpy as np

POOLING_STATISTICS: tuple[str, ...] = ("mean", "max", "min")


def pooled_features(dense: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """(N, 3D) float32 features of (N, D, H, W) dense embeddings over valid (N, H, W) pixels; zeros where none."""
    dense = np.asarray(dense, dtype=np.float32)
    if dense.ndim != 4:
        raise ValueError(f"dense embeddings must be (N, D, H, W), not {dense.shape}")
    count, dim = dense.shape[:2]
    pixels = dense.reshape(count, dim, -1)
    if valid is None:
        mask = np.ones((count, 1, pixels.shape[2]), dtype=bool)
    else:
        mask = np.broadcast_to(np.asarray(valid, dtype=bool), (count, *dense.shape[2:])).reshape(count, 1, -1)
    counts = mask.sum(axis=2)
    mean = np.where(mask, pixels, 0.0).sum(axis=2) / np.maximum(counts, 1)
    highest = np.where(mask, pixels, -np.inf).max(axis=2)
    lowest = np.where(mask, pixels, np.inf).min(axis=2)
    features = np.concatenate([mean, highest, lowest], axis=1)
    features[counts[:, 0] == 0] = 0.0
    return features.astype(np.float32)
