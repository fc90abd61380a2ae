"""`segment RASTER --clusters K|auto --out clusters.tif`: unsupervised k-means segmentation of the embeddings."""

from __future__ import annotations

import argparse

from ..defaults import AUTO_K_RANGE, MAX_CLASSES
from . import add_class_map_options, class_map_options, declare_files, raster_and_context
from .argtypes import cluster_count, non_negative_int
from .probe import print_class_counts


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `segment` command."""
    parser = subparsers.add_parser("segment", help="cluster a raster's embeddings into a class raster")
    parser.add_argument("raster")
    parser.add_argument(
        "--clusters",
        type=cluster_count,
        default="auto",
        help=f"number of clusters (2-{MAX_CLASSES}), or 'auto' (silhouette over {AUTO_K_RANGE[0]}..{AUTO_K_RANGE[1]})",
    )
    parser.add_argument("--out", required=True, help="class raster to write (uint8 GeoTIFF, 0 = nodata)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed of k-means (default 0)")
    add_class_map_options(parser)
    declare_files(parser, inputs=["raster"], outputs=["out"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Cluster and print the pixels per cluster."""
    from ..engine.cluster import cluster_raster

    raster, context = raster_and_context(args, args.raster)
    result = cluster_raster(raster, context, args.out, args.clusters, seed=args.seed, **class_map_options(args))
    print(f"{result.k} clusters")
    print_class_counts(result.pixel_counts)
    print(f"wrote {result.path}")
    return 0
