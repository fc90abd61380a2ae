"""Probe reports: the cross-validated confusion matrix as a PNG (matplotlib, no GUI backend), and the whole report
(pixel and held-out validation, confusion matrices, area table) as an HTML page or a JSON file."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text_atomic
from .probe import ProbeReport

OLOFSSON = (
    "Olofsson, P., Foody, G. M., Herold, M., Stehman, S. V., Woodcock, C. E., Wulder, M. A. (2014): Good practices "
    "for estimating area and assessing accuracy of land change. Remote Sensing of Environment 148, 42-57."
)


def confusion_matrix_png(report: ProbeReport, path: str | os.PathLike) -> Path:
    """Draw the report's confusion matrix (rows: labelled class, columns: predicted) into a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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


def write_probe_report(report: ProbeReport, path: str | os.PathLike, title: str = "GeoMeld probe report") -> Path:
    """Write the report as JSON (a `.json` path: `ProbeReport.to_dict`) or as a self-contained HTML page, atomically."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        write_text_atomic(path, json.dumps(report.to_dict(), indent=1))
    else:
        write_text_atomic(path, report_html(report, title))
    return path


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _scores(title: str, accuracy: float | None, per_class: list[dict], confusion: list[list[int]], names) -> str:
    if accuracy is None:
        return ""
    rows = [
        (r["name"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", r["support"]) for r in per_class
    ]
    matrix = [(name, *row) for name, row in zip(names, confusion)]
    return (
        f"<h2>{html.escape(title)}: accuracy {accuracy:.3f}</h2>"
        + _table(("class", "precision", "recall", "F1", "samples"), rows)
        + "<p>Confusion matrix (rows: labelled class, columns: predicted class)</p>"
        + _table(("labelled \\ predicted", *names), matrix)
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def report_html(report: ProbeReport, title: str = "GeoMeld probe report") -> str:
    """The report as one HTML page: samples, pixel and held-out validation, the area table and its notes."""
    names = report.class_names
    parts = [f"<h1>{html.escape(title)}</h1>", _table(("class", "samples"), list(report.samples.items()))]
    if report.device:
        parts.append(f"<p>Model run on: {html.escape(report.device)}</p>")
    parts.append(
        _scores(
            f"{report.folds}-fold cross-validation over pixels",
            report.accuracy,
            report.per_class,
            report.confusion,
            names,
        )
    )
    held = report.held_out
    if held is not None and held.accuracy is not None:
        heading = f"Held-out validation: whole {held.grouping} ({held.groups}) held out, {held.folds} folds"
        parts.append(_scores(heading, held.accuracy, held.per_class, held.confusion, names))
    elif held is not None:
        parts.append(f"<p>{html.escape(held.note)}</p>")
    if report.areas:
        rows = [
            (
                a.name,
                f"{a.mapped_ha:.1f}",
                f"{a.adjusted_ha:.1f}",
                f"\u00b1 {a.ci95_ha:.1f}",
                f"{max(a.adjusted_ha - a.ci95_ha, 0.0):.1f} - {a.adjusted_ha + a.ci95_ha:.1f}",
                _percent(a.users_accuracy),
                _percent(a.producers_accuracy),
            )
            for a in report.areas
        ]
        header = (
            "class",
            "mapped (ha)",
            "adjusted (ha)",
            "95 % interval",
            "range (ha)",
            "user's acc.",
            "producer's acc.",
        )
        parts.append(f"<h2>Area per class, adjusted by the {html.escape(report.area_source)} confusion matrix</h2>")
        parts.append(_table(header, rows))
        parts.append(f"<p>Estimators of {html.escape(OLOFSSON)}</p>")
    if report.warnings:
        parts.append("<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in report.warnings) + "</ul>")
    style = "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}"
    head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
    return f"<!DOCTYPE html><html><head>{head}</head><body>{''.join(parts)}</body></html>"
