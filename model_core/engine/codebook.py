"""Per-raster codebooks: k-means centroids of an embedding raster and the code of every pixel, for fast queries.

A text query over a cached embedding then scores a few thousand centroids instead of millions of pixels and looks
each pixel's score up by its code. The codebook is built once per embedding raster, by the embedding job
(`embed_for_queries`) or else at its first query, and stored beside it as `<embedding>.codebook.npz` (no pickles),
tied to the raster's size and modification time: a changed raster gets a new codebook, and the embedding cache
deletes the codebook with its raster.

Centroids come in two levels (spherical k-means): COARSE cells, each split into FINE centroids, so assigning a pixel
costs COARSE + FINE dot products instead of COARSE x FINE.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..atomic import atomic_path
from ..errors import DECODING_ERRORS
from ..feedback import Feedback, ensure_feedback
from ..io import SentinelRaster, Window, iter_windows
from ..linalg import matmul
from ..outputs import check_outputs
from ..prefetch import prefetched
from .cache import codebook_path
from .context import EngineContext
from .embedding import EmbeddingFile, EmbeddingResult, embed_raster, open_embedding
from .scoremap import unit_rows

gdal.UseExceptions()

FORMAT_VERSION = 1
NODATA_CODE = 65535  # uint16 code of pixels without an embedding
COARSE = 64
FINE = 64
SAMPLE = 100_000
ITERATIONS = 6
# Windows of the raster's block size: their float arrays (16 MiB) are reused by malloc, not mapped afresh each time.
ASSIGN_TILE = 256
# Raw int8-encoded bytes are value * 127 + 128: assigning on raw bytes only needs this offset (scale does not matter).
INT8_ZERO = 128.0


@dataclass(frozen=True)
class Codebook:
    """Unit centroids (K, D) of an embedding raster and the (H, W) uint16 code of each pixel (NODATA_CODE: none)."""

    centroids: np.ndarray
    codes: np.ndarray

    def lookup(self, values: np.ndarray) -> np.ndarray:
        """Per-pixel map of per-centroid values: (K,) -> (H, W) float32, NaN where a pixel has no embedding."""
        table = np.full(NODATA_CODE + 1, np.nan, dtype=np.float32)
        table[: len(self.centroids)] = values
        return table[self.codes]


def source_signature(embedding_path: str | os.PathLike) -> str:
    """What ties a codebook to its raster: format version, settings, the raster's size and modification time."""
    stat = Path(embedding_path).stat()
    return f"v{FORMAT_VERSION}:{COARSE}x{FINE}:{SAMPLE}:{stat.st_size}:{stat.st_mtime_ns}"


def load_codebook(embedding_path: str | os.PathLike, feedback: Feedback | None = None) -> Codebook:
    """The codebook of an embedding raster: read from beside it, or built and stored there when missing or stale."""
    path = codebook_path(embedding_path)
    signature = source_signature(embedding_path)
    stored = _read(path, signature)
    if stored is not None:
        return stored
    feedback = ensure_feedback(feedback)
    feedback.info("Indexing the embedding for fast queries (once per raster)...")
    codebook = build_codebook(embedding_path, feedback=feedback)
    try:
        save_codebook(codebook, path, signature)
    except OSError as exc:  # a query does not fail for want of a stored index
        feedback.info(f"The query index could not be stored ({exc.strerror or exc}); the next query builds it again.")
    return codebook


def embed_for_queries(
    raster: SentinelRaster, context: EngineContext, out_path: str | os.PathLike | None = None, *, stride: int = 1
) -> EmbeddingResult:
    """The embedding job: embed `raster` into the context's cache and build that entry's codebook there, so that its
    first text query only reads it (progress: embedding to 85 %, codebook to 100 %). With `out_path` the embedding is
    also copied there; in a context without a cache it is only written there, without a codebook."""
    if context.cache is None:
        return embed_raster(raster, context, out_path, stride=stride)
    if out_path is not None:  # refused before any work, as embed_raster refuses it
        check_outputs([out_path], [raster.path])
    cached = embed_raster(raster, context.scaled(0, 85), stride=stride)
    load_codebook(cached.path, context.scaled(85, 100).feedback)
    if out_path is None:
        return cached
    copied = embed_raster(raster, context.scaled(100, 100), out_path, stride=stride)
    return replace(copied, cached=cached.cached)


def score_by_codebook(
    embedding_path: str | os.PathLike, score: Callable[[np.ndarray], np.ndarray], feedback: Feedback | None = None
) -> np.ndarray:
    """(H, W) float32 map of `score` ((N, D) unit embeddings -> (N,)) applied to each pixel's centroid; NaN: no data."""
    feedback = ensure_feedback(feedback)
    codebook = load_codebook(embedding_path, feedback)
    feedback.check_cancelled()
    return codebook.lookup(np.asarray(score(codebook.centroids), dtype=np.float32))


def _read(path: Path, signature: str) -> Codebook | None:
    """The stored codebook when it exists, is readable and belongs to `signature`; else None."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["signature"]) != signature:
                return None
            return Codebook(data["centroids"], data["codes"])
    except (OSError, KeyError, ValueError, *DECODING_ERRORS):  # missing or damaged: built again
        return None


def save_codebook(codebook: Codebook, path: str | os.PathLike, signature: str) -> Path:
    """Write a codebook as an uncompressed npz (fast to load), atomically."""
    with atomic_path(path, ".tmp.npz") as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, centroids=codebook.centroids, codes=codebook.codes, signature=np.array(signature))
    return Path(path)


def build_codebook(embedding_path: str | os.PathLike, *, seed: int = 0, feedback: Feedback | None = None) -> Codebook:
    """Fit COARSE x FINE unit centroids on a sample of the raster's pixels, then give every pixel its nearest one."""
    feedback = ensure_feedback(feedback)
    embedding = open_embedding(embedding_path)
    coarse, fine = fit_centroids(embedding.sample(SAMPLE), COARSE, FINE, np.random.default_rng(seed))
    feedback.set_progress(20)
    codes = assign_codes(embedding, coarse, fine, feedback.scaled(20, 100))
    return Codebook(fine.reshape(-1, fine.shape[-1]), codes)


def fit_centroids(
    pixels: np.ndarray, coarse: int, fine: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(coarse, D) unit centroids and (coarse, fine, D) unit centroids within each coarse cell, from (N, D) pixels.

    A cell with fewer than `fine` sample pixels repeats its coarse centroid in the unused places.
    """
    units = unit_rows(pixels.astype(np.float32))
    if not len(units):  # no pixel with data: no centroids, every code stays NODATA_CODE
        return units, units.reshape(0, fine, units.shape[1])
    top = spherical_kmeans(units, coarse, rng)
    cells = np.argmax(matmul(units, top.T), axis=1)
    nested = np.repeat(top[:, np.newaxis, :], fine, axis=1)
    for cell in range(len(top)):
        members = units[cells == cell]
        if len(members):
            centres = spherical_kmeans(members, fine, rng)
            nested[cell, : len(centres)] = centres
    return top, nested


def spherical_kmeans(units: np.ndarray, k: int, rng: np.random.Generator, iterations: int = ITERATIONS) -> np.ndarray:
    """Up to k unit centroids of (N, D) unit vectors by Lloyd iterations on cosine similarity."""
    k = min(k, len(units))
    centroids = units[rng.choice(len(units), k, replace=False)]
    for _ in range(iterations):
        nearest = np.argmax(matmul(units, centroids.T), axis=1)
        order = np.argsort(nearest, kind="stable")
        starts = np.searchsorted(nearest[order], np.arange(k))
        filled = np.diff(np.append(starts, len(units))) > 0  # an empty cluster keeps its centroid
        centroids[filled] = unit_rows(np.add.reduceat(units[order], starts[filled], axis=0))
    return centroids.astype(np.float32)


def assign_codes(
    embedding: EmbeddingFile, coarse: np.ndarray, fine: np.ndarray, feedback: Feedback | None = None
) -> np.ndarray:
    """(H, W) uint16 code of each pixel: its best coarse cell, then the best fine centroid within that cell."""
    feedback = ensure_feedback(feedback)
    dataset = gdal.Open(str(embedding.path))
    offset = INT8_ZERO if embedding.encoding == "int8" else 0.0
    # Raw pixel x = value * s + offset, s > 0: the best unit centroid c maximises x.c - offset * sum(c).
    coarse_bias = -offset * coarse.sum(axis=1)
    fine_bias = -offset * fine.sum(axis=2)
    codes = np.full((embedding.height, embedding.width), NODATA_CODE, dtype=np.uint16)
    windows = list(iter_windows(embedding.width, embedding.height, ASSIGN_TILE))
    read = functools.partial(_read_pixels, dataset, embedding)
    for index, (window, (raw, valid)) in enumerate(prefetched(read, windows)):
        feedback.check_cancelled()
        window_codes = np.full(len(valid), NODATA_CODE, dtype=np.uint16)
        if valid.any() and len(coarse):
            raw = raw if valid.all() else raw[:, valid]
            window_codes[valid] = _nearest_codes(raw, coarse, coarse_bias, fine, fine_bias)
        rows, cols = window.slices()
        codes[rows, cols] = window_codes.reshape(window.height, window.width)
        feedback.set_progress(100.0 * (index + 1) / len(windows))
    return codes


def _read_pixels(dataset: gdal.Dataset, embedding: EmbeddingFile, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Raw values (D, N) of a window's pixels, band by band as stored, and the (N,) mask of pixels with data."""
    raw = dataset.ReadAsArray(window.col, window.row, window.width, window.height).reshape(embedding.dim, -1)
    valid = embedding.valid_of(raw[0])
    return (raw if embedding.encoding == "int8" else np.nan_to_num(raw, copy=False)), valid


def _nearest_codes(
    raw: np.ndarray, coarse: np.ndarray, coarse_bias: np.ndarray, fine: np.ndarray, fine_bias: np.ndarray
) -> np.ndarray:
    """(N,) uint16 codes (cell * FINE + fine index) of (D, N) raw pixels.

    Pixels stay band-major (D, N): transposing them costs more than the matrix products, which take either layout.
    """
    cells = np.argmax(matmul(raw.astype(np.float32).T, coarse.T) + coarse_bias, axis=1)
    order = np.argsort(cells, kind="stable")
    grouped = np.take(raw, order, axis=1).astype(np.float32)  # each cell's pixels are now one block of columns
    bounds = np.searchsorted(cells[order], np.arange(len(coarse) + 1))
    grouped_codes = np.empty(len(cells), dtype=np.uint16)
    for cell in np.flatnonzero(np.diff(bounds)):
        block = slice(bounds[cell], bounds[cell + 1])
        best = np.argmax(matmul(grouped[:, block].T, fine[cell].T) + fine_bias[cell], axis=1)
        grouped_codes[block] = cell * fine.shape[1] + best
    codes = np.empty_like(grouped_codes)
    codes[order] = grouped_codes
    return codes
