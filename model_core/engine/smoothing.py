"""Clean-up of class maps: majority filter and minimum mapping unit (GDAL sieve). Class 0 is nodata and stays so."""

from __future__ import annotations

import numpy as np
from osgeo import gdal
from scipy.ndimage import uniform_filter

from ..feedback import Feedback, ensure_feedback
from ..io import iter_windows

gdal.UseExceptions()


def smooth_classes(array: np.ndarray, size: int) -> np.ndarray:
    """Majority filter over a size x size neighbourhood of a uint8 class array (nodata 0 never votes or changes)."""
    if size <= 1:
        return array
    classes = [value for value in np.unique(array) if value != 0]
    if not classes:
        return array
    votes = np.stack([uniform_filter((array == value).astype(np.float32), size, mode="constant") for value in classes])
    smoothed = np.asarray(classes, dtype=array.dtype)[votes.argmax(axis=0)]
    return np.where(array == 0, array, smoothed)


def smooth_band(source: gdal.Band, target: gdal.Band, size: int, feedback: Feedback | None = None) -> None:
    """Majority-filter a class band into another, window by window with a halo so windows leave no seams."""
    feedback = ensure_feedback(feedback)
    halo = size // 2 + 1
    width, height = source.XSize, source.YSize
    windows = list(iter_windows(width, height, 1024, 0))
    for number, window in enumerate(windows):
        feedback.check_cancelled()
        col0, row0 = max(window.col - halo, 0), max(window.row - halo, 0)
        col1, row1 = min(window.col + window.width + halo, width), min(window.row + window.height + halo, height)
        smoothed = smooth_classes(source.ReadAsArray(col0, row0, col1 - col0, row1 - row0), size)
        inner = smoothed[window.row - row0 : window.row - row0 + window.height, window.col - col0 :][:, : window.width]
        target.WriteArray(inner, window.col, window.row)
        feedback.set_progress(100.0 * (number + 1) / len(windows))


def sieve_band(band: gdal.Band, min_px: int) -> None:
    """Merge 8-connected regions smaller than min_px pixels into their largest neighbour, in place (nodata kept)."""
    if min_px > 1:
        gdal.SieveFilter(band, band.GetMaskBand(), band, int(min_px), 8)


def apply_min_mapping_unit(array: np.ndarray, min_px: int) -> np.ndarray:
    """Sieve a uint8 class array (0 = nodata): regions smaller than min_px pixels join their largest neighbour."""
    dataset = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1, gdal.GDT_Byte)
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(0)
    band.WriteArray(array)
    sieve_band(band, min_px)
    return band.ReadAsArray()
