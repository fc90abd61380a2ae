"""`change A.tif B.tif --out change.tif [--mask-out ...] [--polygons-out ...] [--text "new buildings"]`."""

from __future__ import annotations

import argparse

from . import add_model_options, add_raster_options, declare_files, raster_and_context, raster_from_args
from .query import HIT_OUTPUTS, add_hit_options, hit_options, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `change` command."""
    parser = subparsers.add_parser("change", help="map of change between two dates of the same place")
    parser.add_argument("raster_a", metavar="A", help="earlier image; the outputs use its grid")
    parser.add_argument("raster_b", metavar="B", help="later image (reprojected onto A's grid when needed)")
    parser.add_argument("--out", required=True, help="output GeoTIFF of embedding distance (1 - cosine, 0..2)")
    parser.add_argument("--text", help="keep only changes whose later image matches this text, e.g. 'new buildings'")
    add_hit_options(
        parser, "change threshold on the distance (default: Otsu on the Euclidean embedding distance, at least 0.05)"
    )
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["raster_a", "raster_b"], outputs=HIT_OUTPUTS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Map change between the two dates and print the largest changed places."""
    from ..engine.change import change_map

    raster_a = raster_from_args(args, args.raster_a)
    raster_b, context = raster_and_context(args, args.raster_b)
    options = dict(hit_options(args), text_filter=args.text)
    return print_result(change_map(raster_a, raster_b, context, args.out, **options))
