"""Loss curves of a pretraining run as a PNG: `python -m training.plots runs/NAME/log.csv [--out losses.png]`."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from model_core.atomic import atomic_path

SKIPPED_COLUMNS = ("step", "seconds", "lr", "momentum", "logit_scale")


def read_log(path: Path) -> dict[str, list[float]]:
    """Columns of a log.csv as float lists."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return {}
    # A loss added to a resumed run has no value ("") in the rows logged before it.
    return {key: [float(row[key]) if row[key] else float("nan") for row in rows] for key in rows[0]}


def smooth(values: list[float], window: int) -> np.ndarray:
    """Trailing moving average over `window` values, ignoring NaN (steps whose batch had no data for the loss)."""
    array = np.asarray(values, dtype=float)
    present = np.isfinite(array)
    sums = np.convolve(np.where(present, array, 0.0), np.ones(window))[: len(array)]
    counts = np.convolve(present.astype(float), np.ones(window))[: len(array)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def plot_losses(log_path: Path, png_path: Path) -> Path:
    """Draw every loss column (raw and smoothed) against the step, and the learning rate, into a PNG (atomic)."""
    columns = read_log(log_path)
    steps = columns.get("step", [])
    window = max(1, len(steps) // 50)
    figure, (losses, rate) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for name, values in columns.items():
        if name in SKIPPED_COLUMNS:
            continue
        if name != "total":  # a loss is exactly 0 only when its batch had no data for it (no DEM, no caption...)
            values = [value if value != 0.0 else float("nan") for value in values]
        (line,) = losses.plot(steps, smooth(values, window), label=name, linewidth=2 if name == "total" else 1)
        losses.plot(steps, values, color=line.get_color(), alpha=0.2, linewidth=0.5)
    losses.set_yscale("symlog", linthresh=0.01)
    losses.set_ylabel("loss (unweighted; total is weighted)")
    losses.legend(fontsize=8, ncol=2)
    losses.grid(alpha=0.3)
    rate.plot(steps, columns.get("lr", []), color="black")
    rate.set_xlabel("step")
    rate.set_ylabel("learning rate")
    rate.grid(alpha=0.3)
    figure.suptitle(f"GeoMeld-FM pretraining ({len(steps)} steps)")
    figure.tight_layout()
    png_path = Path(png_path)
    try:
        with atomic_path(png_path, ".tmp.png") as temporary:
            figure.savefig(temporary, dpi=110)
    finally:
        plt.close(figure)
    return png_path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.plots", description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="log.csv of a run")
    parser.add_argument("--out", type=Path, help="PNG to write (default: losses.png next to the log)")
    args = parser.parse_args(argv)
    print(plot_losses(args.log, args.out or args.log.with_name("losses.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
