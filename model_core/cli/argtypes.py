"""Argument types of the command line: each refuses an out-of-range value while the arguments are parsed, before
any work, with one sentence (argparse then exits with status 2)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from osgeo import osr

from ..defaults import MAX_CLASSES, MAX_STRIDE

osr.UseExceptions()


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A type accepting whole numbers from `low` (to `high`, when given)."""
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not '{text}'")
        return value

    parse.__name__ = "whole number"
    return parse


def number(low: float | None = None, *, above: bool = False) -> Callable[[str], float]:
    """A type accepting finite numbers (at least `low`, or above it with `above`; any finite number for None)."""
    if low is None:
        wanted = "a finite number"
    else:
        wanted = f"a number {'above' if above else 'of at least'} {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (low is not None and (value <= low if above else value < low)):
            raise argparse.ArgumentTypeError(f"must be {wanted}, not '{text}'")
        return value

    parse.__name__ = "number"
    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)
positive_number = number(0.0, above=True)
non_negative_number = number(0.0)
finite_number = number()
STRIDE = whole_number(1, MAX_STRIDE)


def cluster_count(text: str) -> int | None:
    """'auto' (None) or a number of clusters a class raster can hold (2..254)."""
    if text.strip().lower() == "auto":
        return None
    if not text.strip().isdigit() or not 2 <= int(text) <= MAX_CLASSES:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a whole number from 2 to {MAX_CLASSES}, not '{text}'")
    return int(text)


def point(text: str) -> tuple[float, float]:
    """'X,Y' with two finite numbers."""
    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not X,Y (two numbers separated by a comma)") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise argparse.ArgumentTypeError(f"'{text}' is not a place: both coordinates must be finite numbers")
    return x, y


def crs(text: str) -> str:
    """A coordinate reference system GDAL knows (EPSG:4326, a WKT, a PROJ string...)."""
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a coordinate reference system GDAL knows (e.g. EPSG:4326)"
        ) from None
    return text
