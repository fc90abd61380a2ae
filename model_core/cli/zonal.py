"""`zonal`: the mean (and optionally the standard deviation) of the pixel embeddings per polygon.

python -m model_core zonal scene.tif fields.gpkg --out zones.gpkg [--std]
python -m model_core zonal tiles/ fields.gpkg --out zones.parquet --workers 2    # many rasters: on Dask

RASTER is a Sentinel-2 raster (embedded first, or taken from the embedding cache) or an embedding raster (a `batch`
output or mosaic); folders and lists of paths work as in `batch`. Polygons may be in any CRS. Each polygon gets its
valid and nodata pixel counts, the share of its area covered, its area in hectares, a status (full, partial, nodata,
outside) and mean_000... (std_000...). The exit status is the number of rasters that failed (at most 125).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections import Counter

from ..engine.batch import collect_inputs, describe_error, serial_runner
from ..engine.zonal import FULL, STATUSES, read_polygons, stat_columns, write_table, zonal_task
from ..errors import GeoMeldError
from . import add_model_options, add_raster_options, declare_files
from .batch import MAX_EXIT_STATUS, add_cluster_options, cluster_runner, options_from_args
from .probe import shapefile_parts

LISTED_POLYGONS = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `zonal` command."""
    parser = subparsers.add_parser(
        "zonal",
        help="mean (and std) of the pixel embeddings per polygon, as a GeoPackage or Parquet table",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("rasters", nargs="+", metavar="RASTER", help="raster(s), folders or lists of paths")
    parser.add_argument("polygons", metavar="POLYGONS", help="vector file with the polygons (any CRS)")
    parser.add_argument("--out", required=True, help="table to write: .gpkg (polygons + attributes) or .parquet")
    parser.add_argument("--layer", help="layer of the polygon file (default: the first)")
    parser.add_argument("--std", action="store_true", help="also the standard deviation of each dimension")
    add_cluster_options(parser)
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["rasters", ("polygons", shapefile_parts)], outputs=["out"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sum the embeddings under the polygons raster by raster (on Dask for several), then write the table."""
    if not args.out.lower().endswith((".gpkg", ".parquet")):
        raise GeoMeldError(f"'{args.out}': zonal tables are written as .gpkg or .parquet.")
    sources = collect_inputs(args.rasters)
    polygons = read_polygons(args.polygons, args.layer)
    options = options_from_args(args)
    here = contextlib.nullcontext((serial_runner(), options))
    with cluster_runner(args, options) if len(sources) > 1 else here as (runner, options):
        task = functools.partial(zonal_task, options=options, polygons_path=args.polygons, layer=args.layer)
        total, failed = None, 0
        for source, outcome in runner(task, sources):
            if isinstance(outcome, BaseException):
                print(f"FAILED   {source}: {describe_error(outcome)}")
                failed += 1
                continue
            total = outcome if total is None else total + outcome
            print(f"done     {source}: {int((outcome.valid > 0).sum())} polygon(s) with valid pixels")
    if total is None:
        raise GeoMeldError("No raster could be read; nothing was written.")
    columns = stat_columns(polygons, total, args.std)
    print(f"wrote {len(polygons.geometries)} polygon(s) to {write_table(args.out, polygons, columns)}")
    report_statuses(polygons.fids, columns["status"])
    return min(failed, MAX_EXIT_STATUS)


def report_statuses(fids: list[int], statuses: list[str]) -> None:
    """How many polygons have each status, with the feature ids of those not fully covered."""
    counts = Counter(statuses)
    print("polygons: " + ", ".join(f"{counts[status]} {status}" for status in STATUSES if counts[status]))
    for status in STATUSES:
        if status == FULL or not counts[status]:
            continue
        ids = [str(fid) for fid, value in zip(fids, statuses) if value == status]
        more = f" (+{len(ids) - LISTED_POLYGONS} more)" if len(ids) > LISTED_POLYGONS else ""
        print(f"  {status}: feature id {', '.join(ids[:LISTED_POLYGONS])}{more}")
