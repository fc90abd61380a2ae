"""Regression probes on the command line (`probe fit --target`, `probe apply` with a regression probe): options and
runs, kept apart from the classification code of `probe.py`.

python -m model_core probe fit chip.tif points.gpkg --target elevation --group-field block --out dem.json
python -m model_core probe fit --table zones.gpkg --target ndvi --group-field site --kind random_forest --out ndvi.json
python -m model_core probe apply chip.tif ndvi.json --out ndvi.tif            # a float raster
python -m model_core probe apply --table zones.gpkg ndvi.json --out zones_ndvi.gpkg   # fills predicted_ndvi
"""

from __future__ import annotations

import argparse

from ..defaults import MAX_SAMPLES, PROBE_KINDS, REGRESSION_KINDS
from ..errors import GeoMeldError, reading
from . import raster_and_context, training_options
from .argtypes import positive_int


def add_fit_options(fit: argparse.ArgumentParser) -> None:
    """--target, --group-field, --table and --max-samples of `probe fit`."""
    fit.add_argument("--target", help="numeric attribute to predict: a regression probe (kinds ridge, random_forest)")
    fit.add_argument("--group-field", help="regression: attribute whose groups (city, year...) are held out whole")
    fit.add_argument("--table", help="regression: a zonal table (from `zonal`) instead of RASTER LABELS")
    fit.add_argument(
        "--max-samples",
        type=positive_int,
        default=MAX_SAMPLES,
        help=f"regression: pixels sampled at most (default {MAX_SAMPLES})",
    )


def add_apply_options(apply: argparse.ArgumentParser) -> None:
    """--table and --column of `probe apply` (regression probes)."""
    apply.add_argument("--table", help="regression: fill a column of this zonal table instead of writing a raster")
    apply.add_argument("--column", help="regression with --table: the column to fill (default predicted_<target>)")


def check_classification(args: argparse.Namespace) -> str:
    """The classifier kind of `probe fit`, after checking that RASTER, LABELS and --field were given."""
    if not args.field or not args.raster or not args.labels:
        raise GeoMeldError(
            "Give RASTER LABELS --field CLASS (classes), or --target FIELD for a regression probe "
            "(from RASTER LABELS or --table ZONES)."
        )
    kind = args.kind or PROBE_KINDS[0]
    if kind not in PROBE_KINDS:
        raise GeoMeldError(f"--kind {kind} is a regression probe; use it with --target FIELD.")
    return kind


def run_fit(args: argparse.Namespace) -> int:
    """Fit a regression probe from RASTER LABELS or from --table, print its cross-validation and save it."""
    from ..engine.batch import model_id_of
    from ..engine.regression import fit_regression, samples_from_table, train_regression

    kind = args.kind or REGRESSION_KINDS[0]
    if kind not in REGRESSION_KINDS:
        raise GeoMeldError(f"A regression probe is {' or '.join(REGRESSION_KINDS)}, not {kind}.")
    if not args.target or args.field:
        raise GeoMeldError("A regression probe needs --target FIELD (a numeric attribute) and no --field.")
    if args.report:
        raise GeoMeldError("--report describes class probes; a regression probe prints its scores.")
    if bool(args.table) == bool(args.raster and args.labels) or (args.table and (args.raster or args.labels)):
        raise GeoMeldError("Give either RASTER LABELS or --table ZONES (a zonal table), not both.")
    if args.table:
        samples = samples_from_table(args.table, args.target, args.group_field, args.layer)
        probe = fit_regression(
            samples, args.target, kind, group_field=args.group_field, model_id=model_id_of(args.weights)
        )
    else:
        raster, context = raster_and_context(args, args.raster)
        options = dict(training_options(args), group_field=args.group_field, max_samples=args.max_samples)
        probe = train_regression(raster, context, args.labels, args.target, kind=kind, **options)
    print(f"{kind} regression probe for '{args.target}'")
    return report_and_save(probe, args.out)


def report_and_save(probe: object, out: str) -> int:
    """Print a fitted probe's cross-validation (classes or values), save it and say where; exit status 0."""
    from ..engine.probe_file import save_probe

    if probe.report is not None:
        print(probe.report.summary())
    print(f"wrote {save_probe(probe, out)}")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    """Write the predicted float raster of RASTER, or fill a column of --table."""
    from ..engine.batch import model_id_of
    from ..engine.probe_file import load_regression_probe
    from ..engine.regression import apply_regression, fill_table_column

    if bool(args.table) == bool(args.raster):
        raise GeoMeldError("Give either RASTER (to write a float raster) or --table ZONES (to fill a column).")
    if args.table:
        with reading(args.probe, "train the probe again"):
            probe = load_regression_probe(args.probe, model_id_of(args.weights))
        path, rows = fill_table_column(probe, args.table, args.out, args.column)
        print(f"predicted '{probe.target}' for {rows} row(s)")
        print(f"wrote {path}")
        return 0
    raster, context = raster_and_context(args, args.raster)
    with reading(args.probe, "train the probe again"):
        probe = load_regression_probe(args.probe, context.model.model_id)
    result = apply_regression(raster, context, probe, args.out, stride=args.stride)
    print(result.summary())
    print(f"wrote {result.path}")
    return 0
