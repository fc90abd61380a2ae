"""Tile layout aligned to the model's input multiple, so that tiles see the same pixel grid as one whole image."""

from __future__ import annotations

from dataclasses import dataclass

from ..io import Window


@dataclass(frozen=True)
class Tile:
    """A tile to embed (`read`, in extent pixels) and the part of it that is kept (`keep`, in extent pixels)."""

    read: Window
    keep: Window

    def kept_in_read(self) -> tuple[int, int, int, int]:
        """(row, col, height, width) of the kept part inside the read window."""
        return self.keep.row - self.read.row, self.keep.col - self.read.col, self.keep.height, self.keep.width


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _spans(size: int, tile: int, step: int, half: int, stride: int) -> list[tuple[int, int, int, int]]:
    """(read start, read end, keep start, keep end) along one axis.

    Tile k > 0 starts at k * step - half and keeps [k * step, (k + 1) * step): keep edges fall on multiples of the
    step (so on whole output blocks when the step is a multiple of the block size) with `half` px of context on each
    side; a tile that would start before 0 starts at 0, where a whole-image run has the same edge.
    """
    starts = [0]
    while starts[-1] + tile < size:
        starts.append(max(0, len(starts) * step - half))
    spans = []
    for index, start in enumerate(starts):
        end = min(start + tile, size)
        keep_start = index * step // stride * stride
        keep_end = size if index == len(starts) - 1 else (index + 1) * step // stride * stride
        spans.append((start, end, keep_start, keep_end))
    return spans


def aligned_tiles(width: int, height: int, tile: int, overlap: int, multiple: int, stride: int = 1) -> list[Tile]:
    """Tiles whose origins are multiples of `multiple`; neighbours overlap and each keeps only its central part.

    The tile size is rounded down to `multiple` and the overlap up to twice it; the kept parts partition the area
    exactly and their edges are multiples of `stride`, so stride blocks never straddle two tiles.
    """
    overlap = _round_up(max(overlap, 0), 2 * multiple) if overlap > 0 else 0
    tile = max(tile // multiple * multiple, overlap + multiple)
    step = tile - overlap
    half = overlap // 2
    if stride - 1 > half and multiple % stride:
        raise ValueError(f"stride {stride} must divide {multiple} or be at most half the tile overlap + 1")
    tiles = []
    for row0, row1, keep_row0, keep_row1 in _spans(height, tile, step, half, stride):
        for col0, col1, keep_col0, keep_col1 in _spans(width, tile, step, half, stride):
            tiles.append(
                Tile(
                    Window(col0, row0, col1 - col0, row1 - row0),
                    Window(keep_col0, keep_row0, keep_col1 - keep_col0, keep_row1 - keep_row0),
                )
            )
    return tiles
