"""Class maps from embeddings: one streamed pass writes the class raster (paletted, named categories, 0 = nodata),
optional per-class probability and uncertainty rasters, then optional majority smoothing and minimum mapping unit.
Probes and clusters share it; every output is written atomically and a cancel leaves none.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..defaults import MAX_CLASSES
from ..errors import OptionError
from ..feedback import Feedback, ensure_feedback
from ..io import CATEGORY_NAMES_KEY, atomic_geotiff
from .embedding import EmbeddingFile
from .smoothing import sieve_band, smooth_band

gdal.UseExceptions()

PROBABILITY_NODATA = -1.0


@dataclass
class Candidates:
    """The most uncertain pixels seen so far: column, row (embedding grid), uncertainty and predicted class index."""

    limit: int
    cols: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    uncertainty: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float32))
    classes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def add(self, cols: np.ndarray, rows: np.ndarray, uncertainty: np.ndarray, classes: np.ndarray) -> None:
        """Merge pixels in and keep the `limit` most uncertain."""
        self.cols = np.concatenate([self.cols, cols])
        self.rows = np.concatenate([self.rows, rows])
        self.uncertainty = np.concatenate([self.uncertainty, uncertainty])
        self.classes = np.concatenate([self.classes, classes])
        if len(self.uncertainty) > self.limit:
            keep = np.argpartition(-self.uncertainty, self.limit - 1)[: self.limit]
            self.cols, self.rows = self.cols[keep], self.rows[keep]
            self.uncertainty, self.classes = self.uncertainty[keep], self.classes[keep]


def uncertainty_of(proba: np.ndarray) -> np.ndarray:
    """1 - (margin between the two most likely classes): 0 = sure, 1 = a tie."""
    if proba.shape[1] < 2:
        return np.zeros(len(proba), dtype=np.float32)
    top = np.partition(proba, -2, axis=1)
    return (1.0 - (top[:, -1] - top[:, -2])).astype(np.float32)


def style_class_raster(dataset: gdal.Dataset, class_names: Sequence[str], colours: Sequence[Sequence[int]]) -> None:
    """Colour table (0 transparent) and category names ('no data', then the classes, also kept in the TIFF
    metadata) of a class raster."""
    band = dataset.GetRasterBand(1)
    table = gdal.ColorTable()
    table.SetColorEntry(0, (0, 0, 0, 0))
    for index, colour in enumerate(colours, start=1):
        table.SetColorEntry(index, (int(colour[0]), int(colour[1]), int(colour[2]), 255))
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetRasterCategoryNames(["no data", *class_names])
    dataset.SetMetadataItem(CATEGORY_NAMES_KEY, json.dumps(["no data", *class_names]))


def class_names_of(dataset: gdal.Dataset) -> list[str]:
    """Names of classes 1..n of a class raster, from its category names (sidecar or TIFF metadata)."""
    names = dataset.GetRasterBand(1).GetRasterCategoryNames()
    if not names:
        names = json.loads(dataset.GetMetadataItem(CATEGORY_NAMES_KEY) or "[]")
    return list(names[1:])


def write_class_map(
    embedding: EmbeddingFile,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    class_names: Sequence[str],
    colours: Sequence[Sequence[int]],
    out_path: str | os.PathLike,
    *,
    probabilities_path: str | os.PathLike | None = None,
    uncertainty_path: str | os.PathLike | None = None,
    candidates: Candidates | None = None,
    smoothing: int = 0,
    min_mapping_unit_px: int = 0,
    feedback: Feedback | None = None,
) -> dict[str, int]:
    """Classify every valid embedding pixel with `predict_proba` ((N, D) -> (N, C)); returns pixels per class."""
    feedback = ensure_feedback(feedback)
    if len(class_names) > MAX_CLASSES:
        raise OptionError(f"A class raster holds at most {MAX_CLASSES} classes, not {len(class_names)}.")
    grid = (embedding.width, embedding.height)
    georef = (embedding.geotransform, embedding.crs_wkt)
    windows = list(embedding.windows())
    counts = np.zeros(len(class_names) + 1, dtype=np.int64)
    with ExitStack() as stack:
        classes = stack.enter_context(atomic_geotiff(out_path, *grid, 1, np.uint8, *georef, nodata=0))
        raw = classes
        if smoothing > 1:
            raw = stack.enter_context(_scratch_raster(Path(out_path).parent, grid, georef))
        probabilities = uncertainty = None
        if probabilities_path is not None:
            probabilities = stack.enter_context(
                atomic_geotiff(probabilities_path, *grid, len(class_names), np.float32, *georef, PROBABILITY_NODATA)
            )
            for index, name in enumerate(class_names, start=1):
                probabilities.GetRasterBand(index).SetDescription(name)
        if uncertainty_path is not None:
            uncertainty = stack.enter_context(
                atomic_geotiff(uncertainty_path, *grid, 1, np.float32, *georef, PROBABILITY_NODATA)
            )
            uncertainty.GetRasterBand(1).SetDescription("uncertainty (1 - margin)")
        passes = 1 + (smoothing > 1) + (min_mapping_unit_px > 1)
        for number, window in enumerate(windows):
            feedback.check_cancelled()
            values, valid = embedding.read_with_mask(window)
            pixels = values.reshape(len(values), -1).T if valid.all() else values[:, valid].T
            proba = predict_proba(pixels) if len(pixels) else np.zeros((0, len(class_names)))
            labels = np.zeros((window.height, window.width), dtype=np.uint8)
            labels[valid] = proba.argmax(axis=1) + 1
            counts += np.bincount(labels.ravel(), minlength=len(counts))
            raw.GetRasterBand(1).WriteArray(labels, window.col, window.row)
            if probabilities is not None:
                stack_proba = np.full((len(class_names), window.height, window.width), PROBABILITY_NODATA, np.float32)
                stack_proba[:, valid] = proba.T
                probabilities.WriteArray(stack_proba, window.col, window.row)
            if uncertainty is not None or candidates is not None:
                doubt = uncertainty_of(proba)
                if uncertainty is not None:
                    plane = np.full((window.height, window.width), PROBABILITY_NODATA, np.float32)
                    plane[valid] = doubt
                    uncertainty.GetRasterBand(1).WriteArray(plane, window.col, window.row)
                if candidates is not None:
                    rows, cols = np.nonzero(valid)
                    candidates.add(cols + window.col, rows + window.row, doubt, proba.argmax(axis=1))
            feedback.set_progress(100.0 / passes * (number + 1) / len(windows))
        band = classes.GetRasterBand(1)
        if smoothing > 1:
            smooth_band(raw.GetRasterBand(1), band, smoothing, feedback.scaled(100.0 / passes, 200.0 / passes))
        if min_mapping_unit_px > 1:
            band.FlushCache()
            sieve_band(band, min_mapping_unit_px)
        style_class_raster(classes, class_names, colours)
    feedback.set_progress(100.0)
    return {name: int(count) for name, count in zip(class_names, counts[1:])}


@contextmanager
def _scratch_raster(folder: Path, grid: tuple[int, int], georef: tuple) -> Iterator[gdal.Dataset]:
    """A temporary single-band uint8 GeoTIFF, deleted on exit."""
    fd, path = tempfile.mkstemp(prefix=".geomeld_raw.", suffix=".tmp.tif", dir=folder)
    os.close(fd)
    dataset = gdal.GetDriverByName("GTiff").Create(path, *grid, 1, gdal.GDT_Byte, options=["TILED=YES"])
    try:
        dataset.SetGeoTransform(georef[0])
        yield dataset
    finally:
        dataset = None
        os.remove(path)
