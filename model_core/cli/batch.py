"""`batch`: per-pixel embedding rasters of many rasters on Dask, resumable, with a VRT mosaic per CRS.

python -m model_core batch a.tif b.tif tiles/ list.txt --out-dir embeddings [--workers 2]
python -m model_core batch tiles/ --out-dir embeddings --scheduler tcp://HOST:8786

Inputs are rasters, folders of rasters or text files listing one path a line. Each gets <name>_embedding.tif in the
output folder; a second run skips finished outputs. The exit status is the number of rasters that failed (0: all
done; at most 125).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from ..defaults import ENCODINGS
from ..engine.batch import (
    EMBEDDED,
    FAILED,
    SKIPPED,
    ItemResult,
    RasterOptions,
    Runner,
    collect_inputs,
    finish_batch,
    plan_batch,
    run_batch,
)
from . import add_model_options, add_raster_options
from .argtypes import STRIDE, positive_int

MAX_EXIT_STATUS = 125


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `batch` command."""
    parser = subparsers.add_parser(
        "batch",
        help="embedding rasters of many rasters on Dask (resumable, with a mosaic per CRS)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("rasters", nargs="+", metavar="RASTER", help="rasters, folders of rasters or lists of paths")
    parser.add_argument("--out-dir", required=True, help="folder for the embedding rasters (created)")
    add_cluster_options(parser)
    parser.add_argument("--stride", type=STRIDE, default=1, help="one embedding every N pixels, 1-16 (default 1)")
    parser.add_argument("--encoding", choices=ENCODINGS, default=ENCODINGS[0], help="storage of the values")
    add_model_options(parser)
    add_raster_options(parser)
    parser.set_defaults(func=run)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """--workers and --scheduler, for every command that runs on Dask."""
    parser.add_argument(
        "--workers", type=positive_int, help="workers of the local Dask cluster (default: for this machine)"
    )
    parser.add_argument("--scheduler", help="use the Dask cluster at this scheduler address (tcp://HOST:PORT)")


def options_from_args(args: argparse.Namespace) -> RasterOptions:
    """The options each worker opens rasters and runs the model with."""
    return RasterOptions(
        weights=args.weights,
        bands=args.bands,
        scale=args.scale,
        threads=args.threads,
        stride=getattr(args, "stride", 1),
        encoding=getattr(args, "encoding", ENCODINGS[0]),
        tile=args.tile,
    )


@contextmanager
def cluster_runner(args: argparse.Namespace, options: RasterOptions) -> Iterator[tuple[Runner, RasterOptions]]:
    """A Dask runner from --workers/--scheduler, and the options with the ONNX threads of a local cluster's workers
    (unless --threads says otherwise)."""
    from ..cluster import dask_runner

    with dask_runner(args.workers, args.scheduler) as (runner, layout):
        if layout is not None and args.threads is None:
            options = replace(options, threads=layout.threads)
        yield runner, options


def describe(result: ItemResult) -> str:
    """One line per input."""
    if result.status == EMBEDDED:
        return (
            f"embedded {result.source} -> {result.output} ({result.pixels / 1e6:.2f} Mpx, {result.seconds:.1f} s, "
            f"worker {result.worker})"
        )
    if result.status == SKIPPED:
        return f"skipped  {result.source}: {result.output} is finished"
    return f"FAILED   {result.source}: {result.message}"


def run(args: argparse.Namespace) -> int:
    """Plan, embed the pending rasters on Dask, write the mosaics; the exit status counts the failures."""
    from ..cluster import TerminalProgress

    started = time.perf_counter()
    plan = plan_batch(collect_inputs(args.rasters), args.out_dir, options_from_args(args))
    print(
        f"batch: {len(plan.jobs)} raster(s), {len(plan.pending)} to embed, "
        f"{sum(result.status == SKIPPED for result in plan.settled)} finished before"
    )
    for result in plan.settled:
        print(describe(result))
    results: list[ItemResult] = []
    if plan.pending:
        with cluster_runner(args, plan.options) as (runner, plan.options):
            progress = TerminalProgress(len(plan.pending))

            def show(result: ItemResult) -> None:
                progress.note(describe(result))
                progress.advance(result.status == FAILED)

            results = run_batch(plan, runner, on_result=show)
            progress.close()
    report = finish_batch(plan, results, started)
    for label, path in report.mosaics.items():
        print(f"mosaic {label}: {path}")
    print(report.summary())
    return min(report.count(FAILED), MAX_EXIT_STATUS)
