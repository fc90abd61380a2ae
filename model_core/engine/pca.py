"""PCA colour preview of an embedding raster: three principal components stretched to an RGB GeoTIFF."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from osgeo import gdal
from sklearn.decomposition import PCA

from ..errors import RasterInputError
from ..feedback import Feedback, ensure_feedback
from ..io import atomic_geotiff
from ..outputs import check_outputs
from .embedding import EmbeddingFile

STRETCH_PERCENTILES = (2.0, 98.0)


def pca_preview(
    embedding_path: str | os.PathLike,
    out_path: str | os.PathLike,
    sample: int = 100_000,
    feedback: Feedback | None = None,
) -> Path:
    """Write a 3-band uint8 RGB GeoTIFF (0 = nodata) of the first three principal components of the embeddings."""
    feedback = ensure_feedback(feedback)
    check_outputs([out_path], [embedding_path])
    embedding = EmbeddingFile(embedding_path)
    pixels = embedding.sample(sample)
    if len(pixels) < 3:
        raise RasterInputError(f"'{embedding.path}' has too few valid pixels for a PCA preview.")
    pca = PCA(n_components=3, random_state=0).fit(pixels)
    projected = pca.transform(pixels)
    low, high = np.percentile(projected, STRETCH_PERCENTILES, axis=0)
    span = np.maximum(high - low, 1e-6)
    windows = list(embedding.windows())
    with atomic_geotiff(
        out_path, embedding.width, embedding.height, 3, np.uint8, embedding.geotransform, embedding.crs_wkt, 0
    ) as dataset:
        for index, colour in enumerate((gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand), start=1):
            dataset.GetRasterBand(index).SetColorInterpretation(colour)
        for number, window in enumerate(windows):
            feedback.check_cancelled()
            values, valid = embedding.read_with_mask(window)
            flat = pca.transform(values.reshape(embedding.dim, -1).T)
            scaled = 1.0 + 254.0 * np.clip((flat - low) / span, 0.0, 1.0)
            rgb = np.rint(scaled).astype(np.uint8).T.reshape(3, window.height, window.width)
            rgb[:, ~valid] = 0
            dataset.WriteArray(rgb, window.col, window.row)
            feedback.set_progress(100.0 * (number + 1) / len(windows))
    return Path(out_path)
