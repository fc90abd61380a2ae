"""`probe fit RASTER LABELS --field class --out probe.json` and `probe apply RASTER probe.json --out classes.tif`."""

from __future__ import annotations

import argparse

from ..feedback import Feedback
from . import add_class_map_options, add_model_options, add_raster_options, model_from_args, raster_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `probe` command with its `fit` and `apply` subcommands."""
    parser = subparsers.add_parser("probe", help="train a probe from labelled features, or map classes with one")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    fit = actions.add_parser("fit", help="train a probe from labelled points/polygons (GeoPackage, Shapefile...)")
    fit.add_argument("raster")
    fit.add_argument("labels", help="vector file with labelled features")
    fit.add_argument("--field", required=True, help="attribute holding the class")
    fit.add_argument("--layer", help="layer name (default: the first layer)")
    fit.add_argument("--out", required=True, help="probe file to write (.json, with a .npz beside it)")
    fit.add_argument("--kind", choices=("logistic", "random_forest", "knn"), default="logistic")
    fit.add_argument("--max-per-class", type=int, default=1000, help="samples per class at most (default 1000)")
    fit.add_argument("--confusion", help="also write the cross-validated confusion matrix as a PNG")
    fit.add_argument("--stride", type=int, default=1, help="embedding stride (default 1)")
    fit.set_defaults(func=run_fit)

    apply = actions.add_parser("apply", help="classify every pixel of a raster with a probe")
    apply.add_argument("raster")
    apply.add_argument("probe", help="probe file (.json)")
    apply.add_argument("--out", required=True, help="class raster to write (uint8 GeoTIFF, 0 = nodata)")
    apply.add_argument("--probabilities", help="also write per-class probabilities (float32 GeoTIFF)")
    apply.add_argument("--uncertainty", help="also write the uncertainty (1 - margin, float32 GeoTIFF)")
    apply.add_argument("--suggest", help="also write points to label next (GeoPackage)")
    apply.add_argument("--suggestions", type=int, default=20, help="number of points to suggest (default 20)")
    add_class_map_options(apply)
    apply.set_defaults(func=run_apply)
    for sub in (fit, apply):
        add_model_options(sub)
        add_raster_options(sub)


def run_fit(args: argparse.Namespace) -> int:
    """Train, print the cross-validation report and save the probe."""
    from ..engine.classify import train_probe
    from ..engine.probe_file import save_probe
    from ..engine.report import confusion_matrix_png

    raster = raster_from_args(args, args.raster)
    model = model_from_args(args)
    probe, samples = train_probe(
        raster,
        model,
        args.labels,
        args.field,
        layer=args.layer,
        kind=args.kind,
        max_per_class=args.max_per_class,
        stride=args.stride,
        feedback=Feedback(log=print),
    )
    print(f"{args.kind} probe from {samples.features_used} feature(s), {len(samples.labels)} sample(s)")
    if probe.report is not None:
        print(probe.report.summary())
        if args.confusion and probe.report.confusion:
            print(f"wrote {confusion_matrix_png(probe.report, args.confusion)}")
    print(f"wrote {save_probe(probe, args.out)}")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    """Map classes and print the area share of each."""
    from ..engine.classify import apply_probe
    from ..engine.probe_file import load_probe

    raster = raster_from_args(args, args.raster)
    model = model_from_args(args)
    probe = load_probe(args.probe, model.model_id)
    result = apply_probe(
        raster,
        model,
        probe,
        args.out,
        probabilities_path=args.probabilities,
        uncertainty_path=args.uncertainty,
        suggestions_path=args.suggest,
        n_suggestions=args.suggestions,
        smoothing=args.smoothing,
        min_mapping_unit_px=args.mmu,
        stride=args.stride,
        feedback=Feedback(log=print),
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
