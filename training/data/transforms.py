"""Numpy augmentations applied consistently to every spatial array of a sample (image, valid, dem, lulc, meta maps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

import numpy as np

from .sample import Sample

SPATIAL_KEYS: tuple[str, ...] = ("image", "valid", "dem", "lulc")


def map_spatial(sample: Sample, fn: Callable[[np.ndarray], np.ndarray]) -> Sample:
    """A new sample with `fn` applied to every array whose last two axes are the sample's grid (meta maps too)."""
    grid = sample["valid"].shape
    out = dict(sample)
    for key in SPATIAL_KEYS:
        if key in sample:
            out[key] = np.ascontiguousarray(fn(sample[key]))
    out["meta"] = {
        key: np.ascontiguousarray(fn(value))
        if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[-2:] == grid
        else value
        for key, value in sample["meta"].items()
    }
    return out


def crop(sample: Sample, row: int, col: int, height: int, width: int) -> Sample:
    """The window [row:row+height, col:col+width] of a sample."""
    return map_spatial(sample, lambda a: a[..., row : row + height, col : col + width])


def pad_to(sample: Sample, size: int) -> Sample:
    """Pad the bottom/right of a sample smaller than size x size with zeros (padding is invalid, lulc 0 = ignore)."""
    height, width = sample["valid"].shape
    extra_h, extra_w = max(0, size - height), max(0, size - width)
    if not extra_h and not extra_w:
        return sample
    return map_spatial(
        sample, lambda a: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, extra_h), (0, extra_w)], mode="constant")
    )


def random_crop(sample: Sample, size: int, rng: np.random.Generator) -> Sample:
    """A random size x size window (after padding a smaller sample)."""
    sample = pad_to(sample, size)
    height, width = sample["valid"].shape
    row = int(rng.integers(0, height - size + 1))
    col = int(rng.integers(0, width - size + 1))
    return crop(sample, row, col, size, size)


def center_crop(sample: Sample, size: int) -> Sample:
    """The central size x size window (after padding a smaller sample)."""
    sample = pad_to(sample, size)
    height, width = sample["valid"].shape
    return crop(sample, (height - size) // 2, (width - size) // 2, size, size)


def flip_rotate(sample: Sample, flip: bool, quarter_turns: int) -> Sample:
    """Mirror left-right (when flip) then rotate by quarter_turns x 90 degrees counter-clockwise."""

    def transform(array: np.ndarray) -> np.ndarray:
        if flip:
            array = array[..., ::-1]
        return np.rot90(array, quarter_turns, axes=(-2, -1))

    return map_spatial(sample, transform)


def augment(sample: Sample, rng: np.random.Generator, size: Optional[int] = None) -> Sample:
    """Random crop to size (when given), random flip and random 90-degree rotation (the 8 dihedral variants)."""
    if size is not None:
        sample = random_crop(sample, size, rng)
    return flip_rotate(sample, bool(rng.integers(0, 2)), int(rng.integers(0, 4)))
