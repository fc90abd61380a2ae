"""`query RASTER --text "flooded fields" --out heat.tif`: calibrated 0..1 heatmap, hit mask, polygons, ranked places.

Also holds the options and the result printout shared by `similar` and `change`.
"""

from __future__ import annotations

import argparse

from ..defaults import DEFAULT_THRESHOLD, DEFAULT_TOP_K
from . import add_model_options, add_raster_options, declare_files, raster_and_context
from .argtypes import finite_number, positive_int

HIT_OUTPUTS = ("out", "mask_out", "polygons_out")


def add_hit_options(parser: argparse.ArgumentParser, threshold_help: str) -> None:
    """--mask-out, --polygons-out, --top-k and --threshold."""
    parser.add_argument("--mask-out", help="also write the hit mask (uint8 GeoTIFF: 1 hit, 0 other, 255 nodata)")
    parser.add_argument("--polygons-out", help="also write the hit regions as a GeoPackage with score and area_ha")
    parser.add_argument(
        "--top-k", type=positive_int, default=DEFAULT_TOP_K, help=f"number of places to list (default {DEFAULT_TOP_K})"
    )
    parser.add_argument("--threshold", type=finite_number, default=None, help=threshold_help)


def hit_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of the engine's queries from the options of `add_hit_options`."""
    return {
        "mask_out": args.mask_out,
        "polygons_out": args.polygons_out,
        "top_k": args.top_k,
        "threshold": args.threshold,
    }


def print_result(result) -> int:
    """Print the threshold, hit count, outputs and the ranked places of a QueryResult; exit status 0."""
    from ..engine.hits import format_places

    cached = "cached embedding" if result.embedding_cached else "new embedding"
    print(f"threshold {result.threshold:.4f}: {result.hit_pixels} pixels ({cached})")
    for label, path in (("heatmap", result.heatmap), ("mask", result.mask), ("polygons", result.polygons)):
        if path is not None:
            print(f"wrote {label} {path}")
    if result.places:
        print(format_places(result.places))
    if not result.hit_pixels and result.threshold_to_try is not None:
        print(
            f"no pixel reaches the threshold {result.threshold:.2f}; the best score is {result.best_score:.2f}: "
            f"try --threshold {result.threshold_to_try:.2f} to see the closest matches"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `query` command."""
    parser = subparsers.add_parser("query", help="heatmap of where a raster matches a free-text description")
    parser.add_argument("raster")
    parser.add_argument("--text", required=True, help="what to look for, e.g. 'flooded fields' or 'water, not sea'")
    parser.add_argument("--negative", action="append", default=[], help="a text to exclude (repeatable)")
    parser.add_argument("--out", required=True, help="output heatmap GeoTIFF (float32, 0..1)")
    add_hit_options(parser, f"hit threshold on the 0..1 heatmap (default {DEFAULT_THRESHOLD})")
    parser.add_argument(
        "--exact",
        action="store_true",
        help="score every pixel's own embedding instead of its nearest codebook centroid (slower on large rasters)",
    )
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["raster"], outputs=HIT_OUTPUTS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run a text query and print the ranked places."""
    from ..engine.query import text_query

    raster, context = raster_and_context(args, args.raster)
    options = dict(hit_options(args), negatives=args.negative, exact=args.exact)
    return print_result(text_query(raster, context, args.text, args.out, **options))
