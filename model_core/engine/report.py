"""Probe report charts: the cross-validated confusion matrix as a PNG (matplotlib, no GUI backend)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..atomic import atomic_path
from .probe import ProbeReport


def confusion_matrix_png(report: ProbeReport, path: str | os.PathLike) -> Path:
    """Draw the report's confusion matrix (rows: labelled class, columns: predicted) into a PNG, atomically."""
    path = Path(path)
    if not report.confusion:
        raise ValueError("the probe report has no confusion matrix (too few samples for cross-validation)")
    matrix = np.asarray(report.confusion, dtype=float)
    size = 2.5 + 0.45 * len(report.class_names)
    figure = Figure(figsize=(size + 1.0, size), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(report.class_names))
    axes.set_xticks(ticks, report.class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, report.class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("labelled class")
    accuracy = "n/a" if report.accuracy is None else f"{report.accuracy:.1%}"
    axes.set_title(f"{report.folds}-fold cross-validation, accuracy {accuracy}")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, f"{int(value)}", ha="center", va="center", color="white" if value > threshold else "black")
    figure.tight_layout()
    with atomic_path(path, ".tmp.png") as temporary:
        figure.savefig(temporary, format="png")
    return path
