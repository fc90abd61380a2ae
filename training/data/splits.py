"""Fixed, seeded train/val splits for datasets without an official split."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from model_core.io import Window

VAL_FRACTION = 0.2
SEED = 0


def seeded_split(ids: Sequence[str], val_fraction: float = VAL_FRACTION, seed: int = SEED) -> dict[str, str]:
    """Map each id to 'train' or 'val': a seeded shuffle of the sorted ids, the first round(n * fraction) go to val."""
    ordered = sorted(ids)
    order = np.random.RandomState(seed).permutation(len(ordered))
    n_val = int(round(len(ordered) * val_fraction))
    return {ordered[i]: ("val" if rank < n_val else "train") for rank, i in enumerate(order)}


def stratified_split(
    ids: Sequence[str], classes: Sequence[str], val_fraction: float = VAL_FRACTION, seed: int = SEED
) -> dict[str, str]:
    """Seeded split done separately inside each class, so both splits keep the class proportions."""
    by_class: dict[str, list[str]] = defaultdict(list)
    for item_id, name in zip(ids, classes):
        by_class[name].append(item_id)
    result: dict[str, str] = {}
    for name in sorted(by_class):
        result.update(seeded_split(by_class[name], val_fraction, seed))
    return result


def row_band(height: int, split: str, val_rows: int) -> tuple[int, int]:
    """Spatial split of one image: rows [start, stop) of `split`; the bottom `val_rows` rows are validation."""
    boundary = height - val_rows
    return (0, boundary) if split == "train" else (boundary, height)


def row_band_window(width: int, height: int, split: str, val_rows: int) -> Window:
    """The full-width window of `split`'s rows in one image (see row_band)."""
    start, stop = row_band(height, split, val_rows)
    return Window(0, start, width, stop - start)
