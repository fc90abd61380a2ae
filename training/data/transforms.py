"""Numpy augmentations applied consistently to every spatial array of a sample (image, valid, dem, lulc, meta maps).

Teacher targets travel with the sample and are transformed with it: token maps on the teacher's coarser grid
(`TOKEN_KEYS`, last two axes; crops must then align to that grid) and per-pixel targets at sparse points
(`POINTS_KEY` holds their (row, col), `POINT_VALUE_KEYS` their values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

import numpy as np

from .sample import Sample

SPATIAL_KEYS: tuple[str, ...] = ("image", "valid", "dem", "lulc")
TOKEN_KEYS: tuple[str, ...] = ("teacher_tokens", "teacher_token_weight")
POINTS_KEY = "presto_points"
POINT_VALUE_KEYS: tuple[str, ...] = ("presto",)


def token_stride(sample: Sample) -> int:
    """Pixels per teacher token along each axis (1 when the sample carries no token map)."""
    if TOKEN_KEYS[0] not in sample:
        return 1
    return sample["valid"].shape[-1] // sample[TOKEN_KEYS[0]].shape[-1]


def _map_tokens(sample: Sample, out: Sample, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    for key in TOKEN_KEYS:
        if key in sample:
            out[key] = np.ascontiguousarray(fn(sample[key]))


def _keep_points(sample: Sample, out: Sample, rows: np.ndarray, cols: np.ndarray, keep: np.ndarray) -> None:
    out[POINTS_KEY] = np.stack([rows[keep], cols[keep]], axis=1).astype(sample[POINTS_KEY].dtype)
    for key in POINT_VALUE_KEYS:
        if key in sample:
            out[key] = sample[key][keep]


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
    """The window [row:row+height, col:col+width] of a sample (aligned to the teacher's token grid, if any)."""
    out = map_spatial(sample, lambda a: a[..., row : row + height, col : col + width])
    stride = token_stride(sample)
    if any(value % stride for value in (row, col, height, width)):
        raise ValueError(f"a crop of a sample with teacher tokens must align to their {stride} px grid")
    _map_tokens(
        sample, out, lambda a: a[..., row // stride : (row + height) // stride, col // stride : (col + width) // stride]
    )
    if POINTS_KEY in sample:
        rows, cols = sample[POINTS_KEY][:, 0] - row, sample[POINTS_KEY][:, 1] - col
        _keep_points(sample, out, rows, cols, (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width))
    return out


def pad_to(sample: Sample, size: int) -> Sample:
    """Pad the bottom/right of a sample smaller than size x size with zeros (padding is invalid, lulc 0 = ignore)."""
    height, width = sample["valid"].shape
    extra_h, extra_w = max(0, size - height), max(0, size - width)
    if not extra_h and not extra_w:
        return sample

    def pad(extra_rows: int, extra_cols: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda a: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, extra_rows), (0, extra_cols)], mode="constant")

    out = map_spatial(sample, pad(extra_h, extra_w))
    stride = token_stride(sample)
    if stride > 1:  # padded tokens get weight 0
        tokens_h, tokens_w = sample[TOKEN_KEYS[0]].shape[-2:]
        _map_tokens(
            sample, out, pad(-(-(height + extra_h) // stride) - tokens_h, -(-(width + extra_w) // stride) - tokens_w)
        )
    return out


def random_crop(sample: Sample, size: int, rng: np.random.Generator) -> Sample:
    """A random size x size window (after padding a smaller sample), on the teacher's token grid if any."""
    sample = pad_to(sample, size)
    height, width = sample["valid"].shape
    stride = token_stride(sample)
    row = stride * int(rng.integers(0, (height - size) // stride + 1))
    col = stride * int(rng.integers(0, (width - size) // stride + 1))
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

    out = map_spatial(sample, transform)
    _map_tokens(sample, out, transform)
    if POINTS_KEY in sample:
        height, width = sample["valid"].shape
        rows, cols = sample[POINTS_KEY][:, 0].astype(np.int64), sample[POINTS_KEY][:, 1].astype(np.int64)
        if flip:
            cols = width - 1 - cols
        for _ in range(quarter_turns % 4):  # np.rot90 moves (r, c) of an (h, w) grid to (w - 1 - c, r)
            rows, cols, height, width = width - 1 - cols, rows, width, height
        _keep_points(sample, out, rows, cols, np.ones(len(rows), dtype=bool))
    return out


def augment(sample: Sample, rng: np.random.Generator, size: Optional[int] = None) -> Sample:
    """Random crop to size (when given), random flip and random 90-degree rotation (the 8 dihedral variants)."""
    if size is not None:
        sample = random_crop(sample, size, rng)
    return flip_rotate(sample, bool(rng.integers(0, 2)), int(rng.integers(0, 4)))
