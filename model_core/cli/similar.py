"""`similar RASTER --point X,Y [--point ...] [--points-file pts.gpkg] --out sim.tif`: query by example."""

from __future__ import annotations

import argparse

from ..errors import QueryInputError
from . import add_model_options, add_raster_options, declare_files, raster_and_context
from .argtypes import crs, point
from .query import HIT_OUTPUTS, add_hit_options, hit_options, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `similar` command."""
    parser = subparsers.add_parser("similar", help="heatmap of places that look like a few example points")
    parser.add_argument("raster")
    parser.add_argument("--point", type=point, action="append", default=[], help="an example X,Y (repeatable)")
    parser.add_argument("--points-file", help="vector file whose features are examples (any CRS)")
    parser.add_argument(
        "--points-crs", type=crs, help="CRS of --point coordinates, e.g. EPSG:4326 (default: the raster's)"
    )
    parser.add_argument("--out", required=True, help="output heatmap GeoTIFF (float32, 0..1)")
    add_hit_options(parser, "hit threshold on the 0..1 heatmap (default: Otsu's threshold)")
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["raster", "points_file"], outputs=HIT_OUTPUTS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run a query by example and print the ranked places."""
    from ..engine.similar import similar_to_points

    if bool(args.point) == bool(args.points_file):
        raise QueryInputError("Give example points with --point X,Y (repeatable) or with --points-file, not both.")
    points = args.points_file or args.point
    raster, context = raster_and_context(args, args.raster)
    options = dict(hit_options(args), points_crs=args.points_crs)
    return print_result(similar_to_points(raster, context, points, args.out, **options))
