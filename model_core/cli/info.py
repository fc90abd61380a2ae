"""`info RASTER`: size, CRS, bands found, product level and nodata fraction."""

from __future__ import annotations

import argparse
import json

from . import add_raster_options, raster_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `info` command."""
    parser = subparsers.add_parser("info", help="describe a Sentinel raster as GeoMeld sees it")
    parser.add_argument("raster")
    add_raster_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the raster summary as JSON."""
    raster = raster_from_args(args, args.raster)
    print(json.dumps(raster.info(), indent=2))
    return 0
