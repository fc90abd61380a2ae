"""Zero-shot classification from class names: per-pixel class maps and whole-patch labels, no training."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from ..defaults import MAX_CLASSES
from ..errors import QueryInputError
from ..io import SentinelRaster, open_raster
from .classmap import write_class_map
from .context import EngineContext
from .embedding import embed_raster, open_embedding
from .hits import check_output_paths
from .palette import class_colours
from .prompts import class_scorer, parse_class_list
from .query import EMBED_SHARE, after_embedding, as_raster
from .scoremap import unit_rows


@dataclass
class ZeroShotResult:
    """Class raster (and optional probabilities) written by zeroshot_segment, with the classes in value order."""

    path: Path
    probabilities: Path | None
    classes: list[str]
    pixels: dict[str, int]
    embedding_cached: bool


@dataclass(frozen=True)
class PatchPrediction:
    """Zero-shot label of one patch file and its probability."""

    path: str
    label: str
    score: float


def zeroshot_segment(
    raster: SentinelRaster | str | os.PathLike,
    context: EngineContext,
    classes: Sequence[str] | str,
    out_path: str | os.PathLike,
    *,
    probabilities_out: str | os.PathLike | None = None,
) -> ZeroShotResult:
    """Class raster from class names alone: each pixel takes the class whose text embedding it matches best.

    Written like a probe's class map (value i = i-th class, 0 = nodata, colours by meaning, class names), with
    optional per-class probabilities (softmax over the classes with the model's logit scale).
    """
    model = context.model
    check_output_paths(out_path, probabilities_out, inputs=[raster])
    count = len(parse_class_list(classes))
    if count > MAX_CLASSES:
        raise QueryInputError(f"A class raster holds at most {MAX_CLASSES} classes; {count} class names were given.")
    scorer = class_scorer(model, classes)
    raster = as_raster(raster)
    embedding = embed_raster(raster, context.scaled(0, EMBED_SHARE))
    names = list(scorer.positives)
    counts = write_class_map(
        open_embedding(embedding.path),
        lambda pixels: scorer.probabilities(unit_rows(pixels)),
        names,
        class_colours(names, model),
        out_path,
        probabilities_path=probabilities_out,
        feedback=after_embedding(context.feedback, embedding, 100.0),
    )
    return ZeroShotResult(
        Path(out_path),
        None if probabilities_out is None else Path(probabilities_out),
        names,
        counts,
        bool(embedding.cached),
    )


def zeroshot_patches(
    paths: Sequence[str | os.PathLike],
    context: EngineContext,
    classes: Sequence[str] | str,
    out_csv: str | os.PathLike | None = None,
    *,
    bands: str | Sequence[str] | None = None,
    reflectance_scale: float | None = None,
) -> list[PatchPrediction]:
    """One label per patch file from its pooled embedding; optionally written as CSV (path,label,score)."""
    model, feedback = context.model, context.feedback
    if not paths:
        raise QueryInputError("Zero-shot patch classification needs at least one patch file.")
    check_output_paths(out_csv, inputs=paths)
    scorer = class_scorer(model, classes)
    predictions = []
    for index, path in enumerate(paths):
        feedback.check_cancelled()
        raster = open_raster(path, bands=bands, reflectance_scale=reflectance_scale, require_georeference=False)
        for notice in raster.notices:
            feedback.info(notice)
        pooled = model.embed_pooled(raster.read()[np.newaxis], raster.band_mask, raster.valid_mask()[np.newaxis])
        probabilities = scorer.probabilities(np.asarray(pooled, dtype=np.float32))[0]
        best = int(np.argmax(probabilities))
        predictions.append(PatchPrediction(str(path), scorer.positives[best], float(probabilities[best])))
        feedback.set_progress(100.0 * (index + 1) / len(paths))
    if out_csv is not None:
        write_predictions_csv(predictions, out_csv)
    return predictions


def write_predictions_csv(predictions: Sequence[PatchPrediction], out_csv: str | os.PathLike) -> Path:
    """Write path,label,score rows atomically (temporary file, then rename)."""
    out_csv = Path(out_csv)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["path", "label", "score"])
    for item in predictions:
        writer.writerow([item.path, item.label, f"{item.score:.6f}"])
    return write_text_atomic(out_csv, buffer.getvalue(), ".tmp.csv")
