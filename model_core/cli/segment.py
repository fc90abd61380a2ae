"""`segment RASTER --clusters K|auto --out clusters.tif`: unsupervised k-means segmentation of the embeddings."""

from __future__ import annotations

import argparse

from ..errors import GeoMeldError
from ..feedback import Feedback
from ..io import open_raster
from ..runtime import load_model
from . import add_raster_options
from .probe import print_class_counts
from .query import add_model_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `segment` command."""
    parser = subparsers.add_parser("segment", help="cluster a raster's embeddings into a class raster")
    parser.add_argument("raster")
    parser.add_argument("--clusters", default="auto", help="number of clusters, or 'auto' (silhouette over 2..10)")
    parser.add_argument("--out", required=True, help="class raster to write (uint8 GeoTIFF, 0 = nodata)")
    parser.add_argument("--smoothing", type=int, default=0, help="majority filter size in pixels (default off)")
    parser.add_argument("--mmu", type=int, default=0, help="minimum mapping unit in pixels (default off)")
    parser.add_argument("--stride", type=int, default=1, help="embedding stride (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of k-means (default 0)")
    add_model_options(parser)
    add_raster_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Cluster and print the pixels per cluster."""
    from ..engine.cluster import cluster_raster

    if args.clusters != "auto" and not args.clusters.isdigit():
        raise GeoMeldError(f"--clusters must be a number or 'auto', not '{args.clusters}'.")
    k = None if args.clusters == "auto" else int(args.clusters)
    raster = open_raster(args.raster, bands=args.bands, reflectance_scale=args.scale)
    model = load_model(args.weights, threads=args.threads)
    result = cluster_raster(
        raster,
        model,
        args.out,
        k,
        smoothing=args.smoothing,
        min_mapping_unit_px=args.mmu,
        stride=args.stride,
        seed=args.seed,
        feedback=Feedback(log=print),
    )
    print(f"{result.k} clusters")
    print_class_counts(result.pixel_counts)
    print(f"wrote {result.path}")
    return 0
