"""Distinct class colours shared by probe and cluster maps."""

from __future__ import annotations

# Colour-blind friendly qualitative colours (Okabe-Ito, then Tableau 10 extras), cycled for more classes.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
    (140, 86, 75),
    (127, 127, 127),
    (188, 189, 34),
    (148, 103, 189),
)


def default_colours(count: int) -> list[tuple[int, int, int]]:
    """`count` RGB colours, cycling the palette."""
    return [PALETTE[index % len(PALETTE)] for index in range(count)]
