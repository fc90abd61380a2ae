"""`probe fit RASTER LABELS --field class --out probe.json` and `probe apply RASTER probe.json --out classes.tif`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..defaults import DEFAULT_SUGGESTIONS, MAX_PER_CLASS, PROBE_KINDS, REGRESSION_KINDS
from ..errors import reading
from . import (
    add_class_map_options,
    add_model_options,
    add_raster_options,
    class_map_options,
    declare_files,
    raster_and_context,
    regression,
    training_options,
)
from .argtypes import STRIDE, positive_int

# Files that go with a vector file: a Shapefile's parts.
SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def probe_arrays(path: Path) -> list[Path]:
    """The .npz a probe file (.json) keeps beside it (model_core.engine.probe_file.arrays_path)."""
    return [path.with_suffix(".npz")]


def shapefile_parts(path: Path) -> list[Path]:
    """The files beside a Shapefile that belong to it (none for other vector files)."""
    return [path.with_suffix(suffix) for suffix in SHAPEFILE_PARTS] if path.suffix.lower() == ".shp" else []


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `probe` command with its `fit` and `apply` subcommands."""
    parser = subparsers.add_parser("probe", help="train a probe from labelled features, or map classes with one")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    fit = actions.add_parser("fit", help="train a probe from labelled points/polygons (GeoPackage, Shapefile...)")
    fit.add_argument("raster", nargs="?")
    fit.add_argument("labels", nargs="?", help="vector file with labelled features")
    fit.add_argument("--field", help="attribute holding the class")
    fit.add_argument("--layer", help="layer name (default: the first layer)")
    fit.add_argument("--out", required=True, help="probe file to write (.json, with a .npz beside it)")
    fit.add_argument(
        "--kind",
        choices=(*PROBE_KINDS, REGRESSION_KINDS[0]),
        help="logistic (default), random_forest or knn; with --target: ridge (default) or random_forest",
    )
    regression.add_fit_options(fit)
    fit.add_argument(
        "--max-per-class",
        type=positive_int,
        default=MAX_PER_CLASS,
        help=f"samples per class at most (default {MAX_PER_CLASS})",
    )
    fit.add_argument("--confusion", help="also write the cross-validated confusion matrix as a PNG")
    fit.add_argument(
        "--report",
        help="also write the accuracy report: pixel and held-out validation, confusion matrices and the area table "
        "adjusted by them (.html page, or .json)",
    )
    fit.add_argument("--stride", type=STRIDE, default=1, help="embedding stride, 1-16 (default 1)")
    declare_files(
        fit,
        inputs=["raster", ("labels", shapefile_parts), "table"],
        outputs=[("out", probe_arrays), "confusion", "report"],
    )
    fit.set_defaults(func=run_fit)

    apply = actions.add_parser("apply", help="classify every pixel of a raster with a probe")
    apply.add_argument("raster", nargs="?")
    apply.add_argument("probe", help="probe file (.json)")
    regression.add_apply_options(apply)
    apply.add_argument("--out", required=True, help="class raster to write (uint8 GeoTIFF, 0 = nodata)")
    apply.add_argument("--probabilities", help="also write per-class probabilities (float32 GeoTIFF)")
    apply.add_argument("--uncertainty", help="also write the uncertainty (1 - margin, float32 GeoTIFF)")
    apply.add_argument("--suggest", help="also write points to label next (GeoPackage)")
    apply.add_argument(
        "--suggestions",
        type=positive_int,
        default=DEFAULT_SUGGESTIONS,
        help=f"number of points to suggest (default {DEFAULT_SUGGESTIONS})",
    )
    add_class_map_options(apply)
    declare_files(
        apply,
        inputs=["raster", ("probe", probe_arrays), "table"],
        outputs=["out", "probabilities", "uncertainty", "suggest"],
    )
    apply.set_defaults(func=run_apply)
    add_model_options(fit)
    add_raster_options(fit)


def run_fit(args: argparse.Namespace) -> int:
    """Train, print the cross-validation report and save the probe."""
    from ..engine.classify import train_probe
    from ..engine.report import confusion_matrix_png, write_probe_report

    if args.target or args.table:
        return regression.run_fit(args)
    kind = regression.check_classification(args)
    raster, context = raster_and_context(args, args.raster)
    options = dict(training_options(args), kind=kind, max_per_class=args.max_per_class)
    probe, samples = train_probe(raster, context, args.labels, args.field, **options)
    print(f"{kind} probe from {samples.features_used} feature(s), {len(samples.labels)} sample(s)")
    if probe.report is not None and args.confusion and probe.report.confusion:
        print(f"wrote {confusion_matrix_png(probe.report, args.confusion)}")
    if probe.report is not None and args.report:
        print(f"wrote {write_probe_report(probe.report, args.report)}")
    return regression.report_and_save(probe, args.out)


def run_apply(args: argparse.Namespace) -> int:
    """Map classes and print the area share of each."""
    from ..engine.classify import apply_probe
    from ..engine.probe_file import REGRESSION, load_probe, probe_task

    with reading(args.probe, "train the probe again"):
        if args.table or probe_task(args.probe) == REGRESSION:
            return regression.run_apply(args)
    raster, context = raster_and_context(args, args.raster)
    with reading(probe_arrays(Path(args.probe))[0], "train the probe again"):
        probe = load_probe(args.probe, context.model.model_id)
    result = apply_probe(
        raster,
        context,
        probe,
        args.out,
        probabilities_path=args.probabilities,
        uncertainty_path=args.uncertainty,
        suggestions_path=args.suggest,
        n_suggestions=args.suggestions,
        **class_map_options(args),
    )
    print_class_counts(result.pixel_counts)
    for path in (result.path, result.probabilities_path, result.uncertainty_path, result.suggestions_path):
        if path is not None:
            print(f"wrote {path}")
    return 0


def print_class_counts(counts: dict[str, int]) -> None:
    """One line per class: pixels and share of the valid pixels."""
    total = max(sum(counts.values()), 1)
    for name, count in counts.items():
        print(f"  {name}: {count} px ({100.0 * count / total:.1f} %)")
