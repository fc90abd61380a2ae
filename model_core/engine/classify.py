"""Probes end to end on a raster: train from a label file, then map classes with probabilities, uncertainty and
"label here next" suggestions. Both reuse the (cached) embedding raster."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import ogr

from ..defaults import DEFAULT_SUGGESTIONS, MAX_PER_CLASS
from ..errors import ProbeFileError
from ..io import SentinelRaster
from ..outputs import check_outputs
from .accuracy import adjusted_areas
from .classmap import Candidates, write_class_map
from .context import EngineContext
from .embedding import EmbeddingFile, EmbeddingResult, embed_raster
from .labels import LabelSamples, collect_samples, embed_under_labels
from .palette import class_colours
from .probe import Probe, check_probe_model, fit_probe
from .scoremap import Grid
from .vector_io import add_feature, atomic_gpkg

CANDIDATES_PER_SUGGESTION = 50
AREA_SAMPLE = 100_000  # pixels whose predicted class gives the mapped share of each class
AREA_CAVEAT = (
    "the labels are not a random sample of the map, as Olofsson et al. (2014) assume, and the pixels of one polygon "
    "are not independent samples: the adjusted areas are indicative and their intervals too narrow; label a "
    "stratified random sample of the map classes for areas you can report"
)


@dataclass
class ClassifyResult:
    """Outputs of a class map: paths (None when not asked for), pixels per class and the embedding used."""

    path: Path
    class_names: list[str]
    pixel_counts: dict[str, int]
    embedding: EmbeddingResult
    seconds: float
    probabilities_path: Path | None = None
    uncertainty_path: Path | None = None
    suggestions_path: Path | None = None


def train_probe(
    raster: SentinelRaster,
    context: EngineContext,
    labels_path: str | os.PathLike,
    class_field: str,
    *,
    layer: str | None = None,
    kind: str = "logistic",
    max_per_class: int = MAX_PER_CLASS,
    stride: int = 1,
    seed: int = 0,
) -> tuple[Probe, LabelSamples]:
    """Embed the raster (cached), sample it under the labelled features and fit a probe with its CV report."""
    model, feedback = context.model, context.feedback
    embedding = embed_under_labels(raster, context, labels_path, [class_field], layer, stride)
    samples = collect_samples(
        embedding.path,
        labels_path,
        class_field,
        layer=layer,
        max_per_class=max_per_class,
        seed=seed,
        feedback=feedback.scaled(80, 90),
    )
    probe = fit_probe(
        samples.embeddings,
        samples.labels,
        kind,
        class_names=samples.class_names,
        colours=class_colours(samples.class_names, model),
        model_id=str(model.model_id),
        band_names=raster.band_names,
        seed=seed,
        groups=samples.groups,
    )
    if probe.report is not None:
        probe.report.device = getattr(model, "device", "")
        probe.report.warnings.extend(samples.warnings)
        feedback.check_cancelled()
        add_area_table(probe, EmbeddingFile(embedding.path))
    feedback.set_progress(100.0)
    return probe, samples


def mapped_areas(embedding: EmbeddingFile, probe: Probe, sample: int = AREA_SAMPLE) -> np.ndarray:
    """Hectares the probe maps as each class: the class shares of a regular sample of the raster's pixels times the
    geodesic area of its valid pixels."""
    predicted = probe.predict(embedding.sample(sample))
    shares = np.bincount(predicted, minlength=len(probe.classes)) / max(len(predicted), 1)
    row_areas = Grid.of(embedding.path).row_areas_ha()
    total = sum(
        float(embedding.valid_mask(window).sum(axis=1) @ row_areas[window.row : window.row + window.height])
        for window in embedding.windows()
    )
    return shares * total


def add_area_table(probe: Probe, embedding: EmbeddingFile) -> None:
    """Fill the report's area table: the mapped area of each class adjusted by the held-out confusion matrix (the
    pixel cross-validation's when no class can be held out), with 95 % confidence intervals."""
    report = probe.report
    if report.held_out is not None and report.held_out.confusion:
        confusion, report.area_source = report.held_out.confusion, "held-out"
    elif report.confusion:
        confusion, report.area_source = report.confusion, "pixel cross-validation"
    else:
        return
    report.areas, notes = adjusted_areas(confusion, mapped_areas(embedding, probe), probe.classes)
    report.warnings.extend([*notes, AREA_CAVEAT])


def spread_out(points: np.ndarray, scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of `count` points chosen greedily by score x distance to those already chosen (farthest-point)."""
    if not len(points):
        return np.empty(0, dtype=np.int64)
    chosen = [int(np.argmax(scores))]
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < min(count, len(points)):
        pick = int(np.argmax(distance * scores))
        if distance[pick] == 0:
            break
        chosen.append(pick)
        distance = np.minimum(distance, np.linalg.norm(points - points[pick], axis=1))
    return np.asarray(chosen, dtype=np.int64)


def write_suggestions(
    path: str | os.PathLike, embedding: EmbeddingFile, candidates: Candidates, class_names: Sequence[str], count: int
) -> Path:
    """A GeoPackage of `count` uncertain, spread-out points to label next (rank 1 = most useful)."""
    points = np.stack([candidates.cols, candidates.rows], axis=1).astype(np.float64)
    chosen = spread_out(points, candidates.uncertainty.astype(np.float64), count)
    xs, ys = embedding.pixel_to_map(candidates.cols[chosen], candidates.rows[chosen])
    fields = [("rank", int), ("uncertainty", float), ("predicted", str)]
    with atomic_gpkg(path, "label_here_next", ogr.wkbPoint, embedding.crs_wkt, fields) as layer:
        for rank, (index, x, y) in enumerate(zip(chosen, xs, ys), start=1):
            point = ogr.Geometry(ogr.wkbPoint)
            point.AddPoint_2D(float(x), float(y))
            values = {
                "rank": rank,
                "uncertainty": round(float(candidates.uncertainty[index]), 4),
                "predicted": class_names[int(candidates.classes[index])],
            }
            add_feature(layer, point, values)
    return Path(path)


def apply_probe(
    raster: SentinelRaster,
    context: EngineContext,
    probe: Probe,
    out_path: str | os.PathLike,
    *,
    probabilities_path: str | os.PathLike | None = None,
    uncertainty_path: str | os.PathLike | None = None,
    suggestions_path: str | os.PathLike | None = None,
    n_suggestions: int = DEFAULT_SUGGESTIONS,
    smoothing: int = 0,
    min_mapping_unit_px: int = 0,
    stride: int = 1,
) -> ClassifyResult:
    """Class raster (uint8, 0 = nodata, paletted, class names), and optionally probabilities, uncertainty and
    a GeoPackage of points to label next, from a probe applied to every pixel's (cached) embedding."""
    model, feedback = context.model, context.feedback
    started = time.perf_counter()
    check_probe_model(probe, model)
    if probe.embedding_dim != int(model.embedding_dim):
        raise ProbeFileError(
            f"The probe expects {probe.embedding_dim}-d embeddings, the model gives {model.embedding_dim}."
        )
    check_outputs([out_path, probabilities_path, uncertainty_path, suggestions_path], [raster.path])
    embedded = embed_raster(raster, context.scaled(0, 70), stride=stride)
    embedding = EmbeddingFile(embedded.path)
    candidates = Candidates(max(n_suggestions, 1) * CANDIDATES_PER_SUGGESTION) if suggestions_path else None
    counts = write_class_map(
        embedding,
        probe.predict_proba,
        probe.classes,
        probe.colours,
        out_path,
        probabilities_path=probabilities_path,
        uncertainty_path=uncertainty_path,
        candidates=candidates,
        smoothing=smoothing,
        min_mapping_unit_px=min_mapping_unit_px,
        feedback=feedback.scaled(70, 98),
    )
    suggestions = None
    if suggestions_path is not None and candidates is not None:
        try:
            feedback.check_cancelled()
            suggestions = write_suggestions(suggestions_path, embedding, candidates, probe.classes, n_suggestions)
        except BaseException:
            for written in (out_path, probabilities_path, uncertainty_path):
                if written is not None and os.path.exists(written):
                    os.remove(written)
            raise
    feedback.set_progress(100.0)
    return ClassifyResult(
        Path(out_path),
        list(probe.classes),
        counts,
        embedded,
        time.perf_counter() - started,
        Path(probabilities_path) if probabilities_path else None,
        Path(uncertainty_path) if uncertainty_path else None,
        suggestions,
    )
