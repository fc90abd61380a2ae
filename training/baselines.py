"""Baselines GeoMeld-FM is compared against: band statistics + random forest / logistic regression, PCA of raw bands."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

STAT_PERCENTILES: tuple[int, ...] = (10, 50, 90)
FOREST_TREES = 500


def band_statistics(images: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-band mean, std, p10, p50 and p90 of each (C,H,W) image over its valid pixels: (N,C,H,W) -> (N, 5C)."""
    rows = []
    for image, mask in zip(images, valid):
        pixels = image[:, mask] if mask.any() else image.reshape(image.shape[0], -1)
        rows.append(
            np.concatenate([pixels.mean(axis=1), pixels.std(axis=1), *np.percentile(pixels, STAT_PERCENTILES, axis=1)])
        )
    return np.asarray(rows, dtype=np.float32)


def logistic_regression(seed: int = 0) -> Pipeline:
    """Standardised multinomial logistic regression with fixed, untuned settings (the linear probe)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, random_state=seed))


def random_forest(seed: int = 0) -> RandomForestClassifier:
    """Random forest of 500 trees, as QGIS classification plugins (SCP, dzetsaka) train on band statistics."""
    return RandomForestClassifier(n_estimators=FOREST_TREES, random_state=seed, n_jobs=2)


class PooledPCA:
    """PCA of raw per-pixel band values fitted on training images; an image becomes mean and std of its components."""

    def __init__(self, components: int = 8, max_pixels: int = 200_000, seed: int = 0) -> None:
        self.pca = PCA(n_components=components, random_state=seed)
        self.max_pixels = max_pixels
        self.seed = seed

    def fit(self, images: np.ndarray, valid: np.ndarray) -> PooledPCA:
        """Fit the components on a random sample of valid pixels of (N,C,H,W) training images."""
        pixels = np.moveaxis(images, 1, -1)[valid]
        rng = np.random.default_rng(self.seed)
        if len(pixels) > self.max_pixels:
            pixels = pixels[rng.choice(len(pixels), self.max_pixels, replace=False)]
        self.pca.fit(pixels)
        return self

    def transform(self, images: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(N,C,H,W) images -> (N, 2k) mean and std of each principal component over valid pixels."""
        rows = []
        for image, mask in zip(images, valid):
            pixels = image[:, mask].T if mask.any() else image.reshape(image.shape[0], -1).T
            projected = self.pca.transform(pixels)
            rows.append(np.concatenate([projected.mean(axis=0), projected.std(axis=0)]))
        return np.asarray(rows, dtype=np.float32)
