"""Command line: `python -m model_core <command>`. Each command lives in its own module with a `register` function."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import GeoMeldError
from ..io import SentinelRaster, open_raster
from ..runtime import GeoMeldModel, load_model

# Modules of model_core.cli, each exposing register(subparsers) -> None and setting `func` on its parser.
COMMAND_MODULES: tuple[str, ...] = (
    "info",
    "embed",
    "query",
    "zeroshot",
    "similar",
    "change",
    "probe",
    "segment",
    "vectorize",
    "cache",
)


def add_raster_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads a Sentinel raster."""
    parser.add_argument(
        "--bands",
        help="band names in file order, e.g. B02,B03,B04,B08 (or a layout: l1c, l2a, eurosat); "
        "default: from band descriptions or the band count",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="reflectance scale of integer bands (default 10000; 1000 for x1000 products)",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--weights and --threads, for every command that runs the model."""
    parser.add_argument("--weights", help="weights folder (default: $GEOMELD_WEIGHTS_DIR or the bundled weights)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for ONNX Runtime (default: all)")


def add_class_map_options(parser: argparse.ArgumentParser) -> None:
    """--smoothing, --mmu and --stride, for every command that writes a class raster from embeddings."""
    parser.add_argument("--smoothing", type=int, default=0, help="majority filter size in pixels (default off)")
    parser.add_argument("--mmu", type=int, default=0, help="minimum mapping unit in pixels (default off)")
    parser.add_argument("--stride", type=int, default=1, help="embedding stride (default 1)")


def raster_from_args(args: argparse.Namespace, path: str) -> SentinelRaster:
    """Open `path` with the --bands/--scale options of the command line."""
    return open_raster(path, bands=args.bands, reflectance_scale=args.scale)


def model_from_args(args: argparse.Namespace) -> GeoMeldModel:
    """Load the model with the --weights/--threads options of the command line."""
    return load_model(args.weights, threads=args.threads)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered command."""
    parser = argparse.ArgumentParser(prog="python -m model_core", description="GeoMeld-FM for Sentinel-2 rasters.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; GeoMeld errors print one line on stderr and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GeoMeldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
