"""`zeroshot RASTER --classes "water,forest,cropland,built-up" --out classes.tif` (class map), or
`zeroshot PATCH... --classes ... --out pred.csv` (one label per patch file: path,label,score)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import QueryInputError
from . import add_model_options, add_raster_options, context_from_args, declare_files, raster_and_context, warn


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `zeroshot` command."""
    parser = subparsers.add_parser("zeroshot", help="classify from class names alone (class map or patch labels)")
    parser.add_argument("inputs", nargs="+", metavar="RASTER", help="one raster, or patch files with a .csv --out")
    parser.add_argument("--classes", required=True, help="class names separated by commas, e.g. 'water,forest'")
    parser.add_argument("--out", required=True, help="class raster (.tif) or, for patches, predictions (.csv)")
    parser.add_argument("--probabilities-out", help="class raster only: also write per-class probabilities")
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["inputs"], outputs=["out", "probabilities_out"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the class raster or the patch predictions."""
    from ..engine.zeroshot import zeroshot_patches, zeroshot_segment

    if Path(args.out).suffix.lower() == ".csv":
        predictions = zeroshot_patches(
            args.inputs,
            context_from_args(args, log=warn, cached=False),
            args.classes,
            args.out,
            bands=args.bands,
            reflectance_scale=args.scale,
        )
        for item in predictions:
            print(f"{item.path},{item.label},{item.score:.4f}")
        print(f"wrote {len(predictions)} predictions to {args.out}")
        return 0
    if len(args.inputs) != 1:
        raise QueryInputError("A class map needs exactly one raster; for several patch files write a .csv (--out).")
    raster, context = raster_and_context(args, args.inputs[0])
    result = zeroshot_segment(raster, context, args.classes, args.out, probabilities_out=args.probabilities_out)
    print(f"wrote class raster {result.path} ({', '.join(result.classes)})")
    return 0
