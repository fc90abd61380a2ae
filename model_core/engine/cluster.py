"""Unsupervised segmentation: k-means on embedding pixels, k given or chosen by silhouette score."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import silhouette_score

from ..defaults import AUTO_K_RANGE, MAX_CLASSES
from ..errors import OptionError, RasterInputError
from ..io import SentinelRaster
from ..outputs import check_outputs
from .classmap import write_class_map
from .context import EngineContext
from .embedding import EmbeddingFile, EmbeddingResult, embed_raster
from .palette import default_colours

SILHOUETTE_SAMPLE = 4000


@dataclass
class ClusterResult:
    """The cluster raster, the number of clusters, silhouette score per k tried, and pixels per cluster."""

    path: Path
    k: int
    silhouette: dict[int, float]
    class_names: list[str]
    pixel_counts: dict[str, int]
    embedding: EmbeddingResult
    seconds: float


def fit_kmeans(pixels: np.ndarray, k: int, seed: int = 0) -> MiniBatchKMeans:
    """Mini-batch k-means whose cluster 0 is the largest, 1 the next largest, and so on."""
    kmeans = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048).fit(pixels)
    order = np.argsort(-np.bincount(kmeans.labels_, minlength=k), kind="stable")
    kmeans.cluster_centers_ = kmeans.cluster_centers_[order]
    return kmeans


def choose_k(pixels: np.ndarray, k_range: tuple[int, int] = AUTO_K_RANGE, seed: int = 0) -> dict[int, float]:
    """Silhouette score of k-means for each k in k_range (inclusive), on a sample of the pixels."""
    rng = np.random.default_rng(seed)
    subset = pixels[rng.choice(len(pixels), min(len(pixels), SILHOUETTE_SAMPLE), replace=False)]
    scores = {}
    for k in range(k_range[0], min(k_range[1], len(subset) - 1) + 1):
        labels = fit_kmeans(pixels, k, seed).predict(subset)
        if len(np.unique(labels)) > 1:
            scores[k] = float(silhouette_score(subset, labels))
    return scores


def cluster_raster(
    raster: SentinelRaster,
    context: EngineContext,
    out_path: str | os.PathLike,
    k: int | None = None,
    *,
    sample: int = 20_000,
    smoothing: int = 0,
    min_mapping_unit_px: int = 0,
    stride: int = 1,
    seed: int = 0,
) -> ClusterResult:
    """Cluster every pixel's (cached) embedding into k clusters ('cluster 1' is the largest) as a class raster."""
    feedback = context.feedback
    started = time.perf_counter()
    if k is not None and not 2 <= k <= MAX_CLASSES:
        raise OptionError(f"The number of clusters must be a whole number from 2 to {MAX_CLASSES}, not {k}.")
    check_outputs([out_path], [raster.path])
    embedded = embed_raster(raster, context.scaled(0, 70), stride=stride)
    embedding = EmbeddingFile(embedded.path)
    pixels = embedding.sample(sample)
    if len(pixels) < max(k or AUTO_K_RANGE[1], 10):
        raise RasterInputError(f"'{raster.path}' has too few valid pixels to cluster.")
    feedback.check_cancelled()
    silhouette = choose_k(pixels, seed=seed) if k is None else {}
    chosen = k if k is not None else max(silhouette, key=silhouette.get)
    if silhouette:
        feedback.info(f"silhouette by k: {', '.join(f'{n}: {s:.3f}' for n, s in silhouette.items())}; using k={chosen}")
    kmeans = fit_kmeans(pixels, chosen, seed)
    feedback.set_progress(75.0)
    identity = np.eye(chosen, dtype=np.float32)
    names = [f"cluster {index}" for index in range(1, chosen + 1)]
    counts = write_class_map(
        embedding,
        lambda values: identity[kmeans.predict(values)],
        names,
        default_colours(chosen),
        out_path,
        smoothing=smoothing,
        min_mapping_unit_px=min_mapping_unit_px,
        feedback=feedback.scaled(75, 100),
    )
    return ClusterResult(Path(out_path), chosen, silhouette, names, counts, embedded, time.perf_counter() - started)
