"""Regression probes on embeddings: predict a number (elevation, NDVI, a survey indicator) with ridge regression or a
random forest, from points or polygons over a raster or from a `zonal` table, with cross-validated R², RMSE and MAE
for random folds and for whole groups held out (a city, a year, a site: `group_field`).

A fitted probe maps every pixel of a raster to a float raster, or fills a column of a zonal table; it is saved with
the classification probes' file format (JSON + npz, never a pickle: `probe_file`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..defaults import MAX_SAMPLES, REGRESSION_KINDS
from ..errors import LabelInputError, ProbeFileError
from ..feedback import Feedback, ensure_feedback
from ..io import SentinelRaster, atomic_geotiff
from ..linalg import matmul
from .context import EngineContext
from .embedding import EmbeddingFile, embed_raster
from .labels import collect_numeric_samples, embed_under_labels, number_of
from .probe import check_probe_model, logistic_parts
from .zonal import read_table, table_embeddings, write_column

DEFAULT_HYPERPARAMETERS: dict[str, dict] = {
    "ridge": {"alphas": [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]},
    "random_forest": {"n_estimators": 200, "min_samples_leaf": 2, "max_features": 0.33},
}
MAX_FOLDS = 5
MIN_SAMPLES = 5
VALUE_NODATA = float("nan")


@dataclass
class FoldScores:
    """Out-of-fold R², RMSE and MAE of one cross-validation scheme."""

    folds: int
    r2: float
    rmse: float
    mae: float

    def line(self) -> str:
        """'R² 0.81, RMSE 0.09, MAE 0.07'."""
        return f"R\u00b2 {self.r2:.3f}, RMSE {self.rmse:.4g}, MAE {self.mae:.4g}"


@dataclass
class RegressionReport:
    """Cross-validation of a regression probe: random folds, and whole groups held out when groups are given."""

    target: str
    samples: int
    target_mean: float
    target_std: float
    random: FoldScores | None = None
    grouped: FoldScores | None = None
    group_field: str | None = None
    groups: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RegressionReport:
        """Inverse of to_dict."""
        scores = {key: FoldScores(**data[key]) if data.get(key) else None for key in ("random", "grouped")}
        return cls(**dict(data, **scores))

    def summary(self) -> str:
        """A few lines for a log or terminal."""
        lines = [
            f"target '{self.target}': {self.samples} samples, mean {self.target_mean:.4g}, std {self.target_std:.4g}"
        ]
        if self.random is not None:
            lines.append(f"{self.random.folds}-fold cross-validation, random folds: {self.random.line()}")
        else:
            lines.append("cross-validation: not possible (too few samples)")
        if self.grouped is not None:
            lines.append(
                f"held-out groups ('{self.group_field}', {self.groups} groups, {self.grouped.folds} folds): "
                f"{self.grouped.line()}"
            )
        return "\n".join(lines + [f"warning: {message}" for message in self.warnings])


@dataclass
class RegressionProbe:
    """A fitted regression probe: the scikit-learn estimator, the target's name and the model it was trained for."""

    kind: str
    target: str
    estimator: RegressorMixin
    embedding_dim: int
    model_id: str = ""
    band_names: list[str] = field(default_factory=list)
    hyperparameters: dict = field(default_factory=dict)
    report: RegressionReport | None = None

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Predicted values (N,) float32 of embeddings (N, D)."""
        pixels = np.asarray(embeddings, dtype=np.float32)
        if not len(pixels):
            return np.zeros(0, dtype=np.float32)
        if self.kind == "ridge":
            weights, bias = folded_linear(self.estimator)
            return matmul(pixels, weights) + bias
        return self.estimator.predict(pixels).astype(np.float32)


@dataclass
class RegressionSamples:
    """Embeddings (N, D), targets (N,) and groups (N,; "" without a group field), with notes on what was skipped."""

    embeddings: np.ndarray
    targets: np.ndarray
    groups: np.ndarray
    warnings: list[str] = field(default_factory=list)


def folded_linear(estimator: Pipeline) -> tuple[np.ndarray, np.float32]:
    """Weights (D,) and bias of a ridge pipeline with the scaler folded in (one matrix product per window)."""
    scaler, linear = logistic_parts(estimator)
    coef = np.ravel(linear.coef_)
    bias = float(np.ravel(linear.intercept_)[0]) - float((scaler.mean_ / scaler.scale_) @ coef)
    return (coef / scaler.scale_).astype(np.float32), np.float32(bias)


def make_regressor(kind: str, hyperparameters: dict, seed: int = 0) -> RegressorMixin:
    """An unfitted scikit-learn regressor of a probe kind (ridge: alpha chosen by efficient leave-one-out)."""
    if kind == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(**hyperparameters))
    if kind == "random_forest":
        return RandomForestRegressor(random_state=seed, **hyperparameters)
    raise ValueError(f"regression probe kind must be one of {', '.join(REGRESSION_KINDS)}, not {kind!r}")


def _scores(estimator: RegressorMixin, x: np.ndarray, y: np.ndarray, splitter: Any, groups: Any = None) -> FoldScores:
    predicted = cross_val_predict(clone(estimator), x, y, cv=splitter, groups=groups)
    return FoldScores(
        splitter.get_n_splits(),
        float(r2_score(y, predicted)),
        float(np.sqrt(mean_squared_error(y, predicted))),
        float(mean_absolute_error(y, predicted)),
    )


def cross_validate_regression(
    estimator: RegressorMixin,
    embeddings: np.ndarray,
    targets: np.ndarray,
    target: str,
    groups: np.ndarray | None = None,
    group_field: str | None = None,
    seed: int = 0,
) -> RegressionReport:
    """Out-of-fold R², RMSE and MAE with up to 5 random folds, and with up to 5 folds of whole groups."""
    report = RegressionReport(
        target, len(targets), float(targets.mean()), float(targets.std()), group_field=group_field
    )
    if len(targets) >= MIN_SAMPLES:
        splitter = KFold(n_splits=min(MAX_FOLDS, len(targets)), shuffle=True, random_state=seed)
        report.random = _scores(estimator, embeddings, targets, splitter)
    if groups is not None and group_field:
        report.groups = len(np.unique(groups))
        if report.groups >= 2:
            splitter = GroupKFold(n_splits=min(MAX_FOLDS, report.groups))
            report.grouped = _scores(estimator, embeddings, targets, splitter, groups)
        else:
            report.warnings.append(f"Field '{group_field}' holds one group only; no held-out-group score.")
    return report


def fit_regression(
    samples: RegressionSamples,
    target: str,
    kind: str = "ridge",
    *,
    group_field: str | None = None,
    hyperparameters: dict | None = None,
    model_id: str = "",
    band_names: list[str] | tuple[str, ...] = (),
    seed: int = 0,
) -> RegressionProbe:
    """Fit a regression probe on samples; `probe.report` holds its cross-validation."""
    if kind not in REGRESSION_KINDS:
        raise ValueError(f"regression probe kind must be one of {', '.join(REGRESSION_KINDS)}, not {kind!r}")
    if len(samples.targets) < MIN_SAMPLES:
        raise LabelInputError(
            f"Only {len(samples.targets)} sample(s) with a value for '{target}'; a regression probe needs at least "
            f"{MIN_SAMPLES}."
        )
    if np.ptp(samples.targets) == 0:
        raise LabelInputError(f"Every sample has the same value of '{target}'; there is nothing to predict.")
    params = dict(DEFAULT_HYPERPARAMETERS[kind], **(hyperparameters or {}))
    estimator = make_regressor(kind, params, seed)
    groups = samples.groups if group_field else None
    report = cross_validate_regression(
        estimator, samples.embeddings, samples.targets, target, groups, group_field, seed
    )
    report.warnings = samples.warnings + report.warnings
    estimator.fit(samples.embeddings, samples.targets)
    if kind == "ridge":
        params = {"alphas": [float(logistic_parts(estimator)[1].alpha_)]}
    return RegressionProbe(
        kind, target, estimator, samples.embeddings.shape[1], model_id, list(band_names), params, report
    )


# ---- samples --------------------------------------------------------------------------------------------------------
def samples_from_table(
    path: str | os.PathLike, target: str, group_field: str | None = None, layer: str | None = None
) -> RegressionSamples:
    """Samples from a zonal table: each row with valid pixels and a target value is one sample (its mean embedding)."""
    table = read_table(path, layer)
    for name in (target, group_field):
        if name and name not in table:
            raise LabelInputError(f"'{Path(path).name}' has no column '{name}'; its columns: {', '.join(table)}.")
    embeddings = table_embeddings(table, Path(path).name)
    values = table[target]
    if values.dtype.kind not in "fiu":
        values = np.array([number_of(value, target) if value else np.nan for value in values], dtype=np.float64)
    keep = np.isfinite(values) & np.isfinite(embeddings).all(axis=1)
    groups = table[group_field].astype(str) if group_field else np.full(len(values), "")
    samples = RegressionSamples(embeddings[keep], values[keep].astype(np.float64), groups[keep])
    if (~keep).any():
        samples.warnings.append(f"{int((~keep).sum())} row(s) without valid pixels or without a value; skipped.")
    return samples


def train_regression(
    raster: SentinelRaster,
    context: EngineContext,
    labels_path: str | os.PathLike,
    target: str,
    *,
    group_field: str | None = None,
    layer: str | None = None,
    kind: str = "ridge",
    max_samples: int = MAX_SAMPLES,
    stride: int = 1,
    seed: int = 0,
) -> RegressionProbe:
    """Embed the raster (cached), sample it under points or polygons with a numeric target and fit a probe."""
    feedback = context.feedback
    fields = [target, group_field] if group_field else [target]
    embedding = embed_under_labels(raster, context, labels_path, fields, layer, stride)
    numeric = collect_numeric_samples(
        embedding.path,
        labels_path,
        target,
        group_field=group_field,
        layer=layer,
        max_samples=max_samples,
        seed=seed,
        feedback=feedback.scaled(80, 90),
    )
    samples = RegressionSamples(numeric.embeddings, numeric.targets, numeric.groups, numeric.warnings)
    probe = fit_regression(
        samples,
        target,
        kind,
        group_field=group_field,
        model_id=str(context.model.model_id),
        band_names=list(raster.band_names),
        seed=seed,
    )
    feedback.set_progress(100.0)
    return probe


# ---- prediction -----------------------------------------------------------------------------------------------------
@dataclass
class ValueMapResult:
    """A predicted float raster: path, valid pixels and the range and mean of the predictions."""

    path: Path
    pixels: int
    minimum: float
    mean: float
    maximum: float
    seconds: float

    def summary(self) -> str:
        """One line for a terminal or log."""
        return (
            f"{self.pixels} px predicted: min {self.minimum:.4g}, mean {self.mean:.4g}, max {self.maximum:.4g} "
            f"({self.seconds:.1f} s)"
        )


def write_value_map(
    embedding: EmbeddingFile, probe: RegressionProbe, out_path: str | os.PathLike, feedback: Feedback | None = None
) -> tuple[int, float, float, float]:
    """Predict every valid pixel into a float32 GeoTIFF (NaN = nodata), window by window; (pixels, min, mean, max)."""
    feedback = ensure_feedback(feedback)
    if probe.embedding_dim != embedding.dim:
        raise ProbeFileError(f"The probe expects {probe.embedding_dim}-d embeddings, the raster has {embedding.dim}.")
    windows = list(embedding.windows())
    count, total, low, high = 0, 0.0, np.inf, -np.inf
    grid = (embedding.width, embedding.height, 1, np.float32, embedding.geotransform, embedding.crs_wkt)
    with atomic_geotiff(out_path, *grid, nodata=VALUE_NODATA) as dataset:
        dataset.GetRasterBand(1).SetDescription(f"predicted {probe.target}")
        dataset.SetMetadataItem("TARGET", probe.target)
        for number, window in enumerate(windows):
            feedback.check_cancelled()
            values, valid = embedding.read_with_mask(window)
            plane = np.full((window.height, window.width), VALUE_NODATA, dtype=np.float32)
            if valid.any():
                predicted = probe.predict(values[:, valid].T)
                plane[valid] = predicted
                count, total = count + len(predicted), total + float(predicted.sum(dtype=np.float64))
                low, high = min(low, float(predicted.min())), max(high, float(predicted.max()))
            dataset.GetRasterBand(1).WriteArray(plane, window.col, window.row)
            feedback.set_progress(100.0 * (number + 1) / len(windows))
    return count, low, total / max(count, 1), high


def apply_regression(
    raster: SentinelRaster,
    context: EngineContext,
    probe: RegressionProbe,
    out_path: str | os.PathLike,
    *,
    stride: int = 1,
) -> ValueMapResult:
    """A float raster of the probe's prediction for every pixel of the raster's (cached) embedding."""
    started = time.perf_counter()
    check_probe_model(probe, context.model)
    embedded = embed_raster(raster, context.scaled(0, 70), stride=stride)
    progress = context.feedback.scaled(70, 100)
    count, low, mean, high = write_value_map(EmbeddingFile(embedded.path), probe, out_path, progress)
    return ValueMapResult(Path(out_path), count, low, mean, high, time.perf_counter() - started)


def fill_table_column(
    probe: RegressionProbe,
    table_path: str | os.PathLike,
    out_path: str | os.PathLike,
    column: str | None = None,
    layer: str | None = None,
) -> tuple[Path, int]:
    """A copy of a zonal table with the prediction of every row with valid pixels in `column` (default
    `predicted_<target>`); returns the path and the number of rows predicted."""
    embeddings = table_embeddings(read_table(table_path, layer), Path(table_path).name)
    valid = np.isfinite(embeddings).all(axis=1)
    values = np.full(len(embeddings), np.nan)
    values[valid] = probe.predict(embeddings[valid])
    return write_column(table_path, out_path, column or f"predicted_{probe.target}", values, layer), int(valid.sum())
