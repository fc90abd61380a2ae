"""`vectorize classes.tif --out classes.gpkg [--min-area-ha X] [--simplify M]`: polygons with geodesic areas."""

from __future__ import annotations

import argparse

from ..feedback import Feedback


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `vectorize` command."""
    parser = subparsers.add_parser("vectorize", help="turn a class raster into polygons with areas in hectares")
    parser.add_argument("classes", help="class raster (integer GeoTIFF, 0 = nodata)")
    parser.add_argument("--out", required=True, help="GeoPackage to write (a per-class area .csv goes beside it)")
    parser.add_argument("--min-area-ha", type=float, default=0.0, help="drop polygons smaller than this (hectares)")
    parser.add_argument("--simplify", type=float, default=None, help="simplification tolerance in CRS units")
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
