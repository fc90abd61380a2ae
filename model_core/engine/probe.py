"""Probe classifiers on embeddings: logistic regression, random forest or k nearest neighbours, with a CV report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..defaults import PROBE_KINDS
from ..errors import LabelInputError, ProbeFileError
from ..linalg import matmul
from .accuracy import ClassArea, HeldOutScores, class_scores, held_out_validation
from .palette import class_colours

DEFAULT_HYPERPARAMETERS: dict[str, dict] = {
    "logistic": {"C": 1.0, "max_iter": 2000},
    "random_forest": {"n_estimators": 100, "min_samples_leaf": 1, "max_features": "sqrt"},
    "knn": {"n_neighbors": 5},
}


@dataclass
class ProbeReport:
    """Stratified k-fold cross-validation of a probe over pixels (accuracy, per-class scores, confusion matrix), the
    same with whole polygons or blocks of points held out (`held_out`), and the area table adjusted by the held-out
    confusion matrix (`areas`, from `area_source`'s confusion matrix; empty until the probe has mapped a raster)."""

    class_names: list[str]
    folds: int
    accuracy: float | None
    per_class: list[dict] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)
    samples: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    held_out: HeldOutScores | None = None
    areas: list[ClassArea] = field(default_factory=list)
    area_source: str = ""
    device: str = ""  # where the model ran for the job that trained the probe (ONNX Runtime's provider)

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ProbeReport:
        """Inverse of to_dict."""
        held_out = HeldOutScores(**data["held_out"]) if data.get("held_out") else None
        areas = [ClassArea(**row) for row in data.get("areas", [])]
        return cls(**dict(data, held_out=held_out, areas=areas))

    def summary(self) -> str:
        """A few lines for a log or terminal."""
        lines = [f"samples: {', '.join(f'{name} {count}' for name, count in self.samples.items())}"]
        if self.accuracy is None:
            lines.append("cross-validation: not possible (a class has a single sample)")
        else:
            lines.append(f"{self.folds}-fold cross-validated accuracy (pixels): {self.accuracy:.3f}")
            lines += [_class_line(row) for row in self.per_class]
        held = self.held_out
        if held is not None and held.accuracy is not None:
            lines.append(f"held-out {held.grouping} ({held.groups}, {held.folds} folds): accuracy {held.accuracy:.3f}")
            lines += [_class_line(row) for row in held.per_class]
        elif held is not None:
            lines.append(held.note)
        if self.areas:
            lines.append(f"area per class, ha (adjusted by the {self.area_source} confusion matrix, 95 % interval):")
            lines += [
                f"  {a.name}: mapped {a.mapped_ha:.1f}, adjusted {a.adjusted_ha:.1f} ± {a.ci95_ha:.1f}"
                for a in self.areas
            ]
        return "\n".join(lines + [f"warning: {message}" for message in self.warnings])


def _class_line(row: dict) -> str:
    return f"  {row['name']}: precision {row['precision']:.2f} recall {row['recall']:.2f} f1 {row['f1']:.2f}"


@dataclass
class Probe:
    """A fitted probe: the scikit-learn estimator, its class names/colours and the model it was trained for."""

    kind: str
    classes: list[str]
    colours: list[tuple[int, int, int]]
    estimator: ClassifierMixin
    embedding_dim: int
    model_id: str = ""
    band_names: list[str] = field(default_factory=list)
    hyperparameters: dict = field(default_factory=dict)
    report: ProbeReport | None = None

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C) of embeddings (N, D), columns in `classes` order."""
        proba = np.zeros((len(embeddings), len(self.classes)), dtype=np.float32)
        if len(embeddings):
            if self.kind == "logistic":
                proba[:, self.estimator.classes_] = logistic_proba(self.estimator, embeddings)
            else:
                proba[:, self.estimator.classes_] = self.estimator.predict_proba(embeddings)
        return proba

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Class indices (N,) into `classes`."""
        return self.predict_proba(embeddings).argmax(axis=1)


def make_estimator(kind: str, hyperparameters: dict, seed: int = 0, n_samples: int | None = None) -> ClassifierMixin:
    """An unfitted scikit-learn estimator of a probe kind."""
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", **hyperparameters))
    if kind == "random_forest":
        return RandomForestClassifier(class_weight="balanced", random_state=seed, **hyperparameters)
    if kind == "knn":
        params = dict(hyperparameters)
        if n_samples is not None:
            params["n_neighbors"] = max(1, min(int(params["n_neighbors"]), n_samples))
        return KNeighborsClassifier(weights="distance", **params)
    raise ValueError(f"probe kind must be one of {', '.join(PROBE_KINDS)}, not {kind!r}")


def cross_validate(
    estimator: ClassifierMixin, embeddings: np.ndarray, labels: np.ndarray, class_names: Sequence[str], seed: int = 0
) -> ProbeReport:
    """Stratified k-fold CV with k = min(5, smallest class count); no CV when a class has one sample."""
    counts = np.bincount(labels, minlength=len(class_names))
    samples = {name: int(count) for name, count in zip(class_names, counts)}
    folds = int(min(5, counts.min()))
    if folds < 2:
        return ProbeReport(list(class_names), 0, None, samples=samples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(clone(estimator), embeddings, labels, cv=splitter)
    per_class, matrix = class_scores(labels, predicted, class_names)
    return ProbeReport(list(class_names), folds, float((predicted == labels).mean()), per_class, matrix, samples)


def fit_probe(
    embeddings: np.ndarray,
    labels: np.ndarray,
    kind: str = "logistic",
    *,
    class_names: Sequence[str] | None = None,
    colours: Sequence[tuple[int, int, int]] | None = None,
    hyperparameters: dict | None = None,
    model_id: str = "",
    band_names: Sequence[str] = (),
    seed: int = 0,
    evaluate: bool = True,
    groups: np.ndarray | None = None,
) -> Probe:
    """Fit a probe on embeddings (N, D) and class indices (N,); `probe.report` holds the cross-validation, and with
    `groups` (N,: the polygon or block of points of each sample, see `accuracy`) the held-out validation too."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if kind not in PROBE_KINDS:
        raise ValueError(f"probe kind must be one of {', '.join(PROBE_KINDS)}, not {kind!r}")
    if embeddings.ndim != 2 or len(embeddings) != len(labels):
        raise LabelInputError(f"{len(labels)} labels do not match embeddings of shape {embeddings.shape}.")
    class_names = list(class_names) if class_names is not None else [str(i) for i in range(int(labels.max()) + 1)]
    if len(np.unique(labels)) < 2:
        raise LabelInputError("The training samples hold only one class; a probe needs at least two classes.")
    params = dict(DEFAULT_HYPERPARAMETERS[kind], **(hyperparameters or {}))
    estimator = make_estimator(kind, params, seed, len(labels))
    report = cross_validate(estimator, embeddings, labels, class_names, seed) if evaluate else None
    if report is not None and groups is not None:
        report.held_out = held_out_validation(estimator, embeddings, labels, np.asarray(groups), class_names, seed)
    estimator.fit(embeddings, labels)
    return Probe(
        kind,
        class_names,
        list(colours) if colours is not None else class_colours(class_names),
        estimator,
        embeddings.shape[1],
        model_id,
        list(band_names),
        params,
        report,
    )


def check_probe_model(probe: Any, model: Any) -> None:
    """Refuse a probe (of classes or of values) trained on another model's embeddings."""
    model_id = str(model.model_id)
    if probe.model_id and probe.model_id != model_id:
        raise ProbeFileError(
            f"This probe was trained on embeddings of model {probe.model_id[:12]}, but the loaded model is "
            f"{model_id[:12]}; train the probe again with these weights."
        )


def logistic_parts(estimator: Pipeline) -> tuple[StandardScaler, LogisticRegression]:
    """The scaler and logistic regression of a logistic probe's pipeline."""
    return estimator.steps[0][1], estimator.steps[-1][1]


def logistic_proba(estimator: Pipeline, embeddings: np.ndarray) -> np.ndarray:
    """The pipeline's predict_proba in float32 with the scaler folded into the weights: one matrix product.

    Over millions of pixels this is several times faster than the pipeline, which scales a float64 copy first.
    """
    scaler, logistic = logistic_parts(estimator)
    weights = (logistic.coef_ / scaler.scale_).T.astype(np.float32)
    bias = (logistic.intercept_ - (scaler.mean_ / scaler.scale_) @ logistic.coef_.T).astype(np.float32)
    pixels = np.asarray(embeddings, dtype=np.float32)
    logits = matmul(pixels, weights)  # a window's pixels are often a (D, N) array's transpose: taken as they are
    logits += bias
    if logits.shape[1] == 1:  # binary: the logit of the second class
        positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.stack([1.0 - positive, positive], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits
