"""`vectorize classes.tif --out classes.gpkg [--min-area-ha X] [--simplify M]`: polygons with geodesic areas."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..feedback import Feedback
from . import declare_files
from .argtypes import non_negative_number


def area_table(path: Path) -> list[Path]:
    """The per-class area CSV written beside the GeoPackage (model_core.engine.vectorize.area_table_path)."""
    return [path.with_suffix(".csv")]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `vectorize` command."""
    parser = subparsers.add_parser("vectorize", help="turn a class raster into polygons with areas in hectares")
    parser.add_argument("classes", help="class raster (integer GeoTIFF, 0 = nodata)")
    parser.add_argument("--out", required=True, help="GeoPackage to write (a per-class area .csv goes beside it)")
    parser.add_argument(
        "--min-area-ha", type=non_negative_number, default=0.0, help="drop polygons smaller than this (hectares)"
    )
    parser.add_argument(
        "--simplify", type=non_negative_number, default=None, help="simplification tolerance in CRS units"
    )
    declare_files(parser, inputs=["classes"], outputs=[("out", area_table)])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Vectorise and print the area per class."""
    from ..engine.vectorize import vectorize_classes

    result = vectorize_classes(
        args.classes,
        args.out,
        simplify_tolerance=args.simplify,
        min_area_ha=args.min_area_ha,
        feedback=Feedback(log=print),
    )
    print(f"{result.polygons} polygons ({result.dropped} below {args.min_area_ha} ha dropped)")
    for name, hectares in result.areas_ha.items():
        print(f"  {name}: {hectares:.2f} ha")
    print(f"wrote {result.path} and {result.csv_path}")
    return 0
