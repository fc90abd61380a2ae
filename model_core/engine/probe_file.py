"""Probe files without pickle: `<name>.json` (kind, classes, colours, model id, metrics) + `<name>.npz` (arrays).

Logistic probes store the scaler and coefficients, random forests every tree's node arrays, kNN probes the training
embeddings; loading rebuilds a scikit-learn estimator that predicts exactly like the saved one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import NODE_DTYPE, Tree

from ..atomic import atomic_path, write_text_atomic
from ..errors import ProbeFileError
from .probe import Probe, ProbeReport, logistic_parts, make_estimator

if TYPE_CHECKING:
    from .regression import RegressionProbe

FORMAT = "geomeld-probe"
VERSION = 2  # the newest format this module reads and writes (regression probes); classification probes stay 1
CLASSIFICATION, REGRESSION = "classification", "regression"
PICKLE_MAGIC = b"\x80"
TREE_FIELDS = ("left_child", "right_child", "feature", "threshold")


def arrays_path(path: str | os.PathLike) -> Path:
    """The npz file that goes with a probe's JSON file."""
    return Path(path).with_suffix(".npz")


# ---- estimator <-> arrays -------------------------------------------------------------------------------------------
def _linear_arrays(estimator: Pipeline) -> dict[str, np.ndarray]:
    scaler, linear = logistic_parts(estimator)
    return {
        "scaler_mean": scaler.mean_,
        "scaler_scale": scaler.scale_,
        "coef": linear.coef_,
        "intercept": np.atleast_1d(linear.intercept_),
    }


def _logistic_arrays(probe: Probe) -> dict[str, np.ndarray]:
    return dict(_linear_arrays(probe.estimator), classes=probe.estimator.classes_)


def _tree_arrays(forest: object) -> dict[str, np.ndarray]:
    trees = [tree.tree_ for tree in forest.estimators_]
    arrays = {name: np.concatenate([tree.__getstate__()["nodes"][name] for tree in trees]) for name in TREE_FIELDS}
    arrays["value"] = np.concatenate([tree.value[:, 0, :] for tree in trees])
    arrays["offsets"] = np.cumsum([0] + [tree.node_count for tree in trees])
    arrays["max_depth"] = np.array([tree.max_depth for tree in trees])
    return arrays


def _forest_arrays(probe: Probe) -> dict[str, np.ndarray]:
    return dict(_tree_arrays(probe.estimator), classes=probe.estimator.classes_)


def _knn_arrays(probe: Probe) -> dict[str, np.ndarray]:
    knn = probe.estimator
    return {"embeddings": knn._fit_X, "labels": knn.classes_[knn._y], "classes": knn.classes_}


def _set_linear(estimator: Pipeline, arrays: dict[str, np.ndarray], dim: int) -> object:
    """Give a fresh scaler + linear model pipeline the stored arrays; returns the linear model."""
    scaler, linear = logistic_parts(estimator)
    scaler.mean_, scaler.scale_ = arrays["scaler_mean"], arrays["scaler_scale"]
    scaler.var_, scaler.n_features_in_, scaler.n_samples_seen_ = arrays["scaler_scale"] ** 2, dim, 1
    linear.coef_, linear.intercept_, linear.n_features_in_ = arrays["coef"], arrays["intercept"], dim
    return linear


def _rebuild_logistic(arrays: dict[str, np.ndarray], dim: int, params: dict) -> object:
    estimator = make_estimator("logistic", params)
    _set_linear(estimator, arrays, dim).classes_ = arrays["classes"]
    return estimator


def _tree(arrays: dict[str, np.ndarray], index: int, dim: int, n_classes: int) -> Tree:
    start, end = int(arrays["offsets"][index]), int(arrays["offsets"][index + 1])
    nodes = np.zeros(end - start, dtype=NODE_DTYPE)
    for name in TREE_FIELDS:
        nodes[name] = arrays[name][start:end]
    tree = Tree(dim, np.array([n_classes], dtype=np.intp), 1)
    values = np.ascontiguousarray(arrays["value"][start:end, np.newaxis, :], dtype=np.float64)
    tree.__setstate__(
        {"max_depth": int(arrays["max_depth"][index]), "node_count": end - start, "nodes": nodes, "values": values}
    )
    return tree


def _rebuild_tree(arrays: dict[str, np.ndarray], index: int, dim: int, n_classes: int) -> DecisionTreeClassifier:
    classifier = DecisionTreeClassifier()
    classifier.tree_, classifier.n_outputs_, classifier.n_classes_ = _tree(arrays, index, dim, n_classes), 1, n_classes
    classifier.classes_, classifier.n_features_in_ = arrays["classes"], dim
    return classifier


def _rebuild_forest(arrays: dict[str, np.ndarray], dim: int, params: dict) -> object:
    n_classes = len(arrays["classes"])
    forest = RandomForestClassifier(**params)
    forest.estimators_ = [_rebuild_tree(arrays, i, dim, n_classes) for i in range(len(arrays["offsets"]) - 1)]
    forest.classes_, forest.n_classes_, forest.n_outputs_ = arrays["classes"], n_classes, 1
    forest.n_features_in_ = dim
    return forest


def _rebuild_knn(arrays: dict[str, np.ndarray], dim: int, params: dict) -> object:
    del dim
    return make_estimator("knn", params, n_samples=len(arrays["labels"])).fit(arrays["embeddings"], arrays["labels"])


def _rebuild_ridge(arrays: dict[str, np.ndarray], dim: int, params: dict) -> object:
    from .regression import make_regressor

    estimator = make_regressor("ridge", params)
    _set_linear(estimator, arrays, dim).alpha_ = float(params["alphas"][0])
    return estimator


def _rebuild_regression_forest(arrays: dict[str, np.ndarray], dim: int, params: dict) -> object:
    forest = RandomForestRegressor(**params)
    forest.estimators_ = []
    for index in range(len(arrays["offsets"]) - 1):
        tree = DecisionTreeRegressor()
        tree.tree_, tree.n_outputs_, tree.n_features_in_ = _tree(arrays, index, dim, 1), 1, dim
        forest.estimators_.append(tree)
    forest.n_outputs_, forest.n_features_in_ = 1, dim
    return forest


ARRAYS = {"logistic": _logistic_arrays, "random_forest": _forest_arrays, "knn": _knn_arrays}
REBUILD = {"logistic": _rebuild_logistic, "random_forest": _rebuild_forest, "knn": _rebuild_knn}
REGRESSION_ARRAYS = {
    "ridge": lambda probe: _linear_arrays(probe.estimator),
    "random_forest": lambda probe: _tree_arrays(probe.estimator),
}
REGRESSION_REBUILD = {"ridge": _rebuild_ridge, "random_forest": _rebuild_regression_forest}


# ---- files ----------------------------------------------------------------------------------------------------------
def save_probe(probe: Probe | RegressionProbe, path: str | os.PathLike) -> Path:
    """Write `path` (.json) and its .npz beside it, each atomically; no pickle is involved. Classification probes
    keep format version 1; regression probes (version 2) name their task and target instead of classes."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise ProbeFileError(f"Probe files end in .json ('{path.name}' does not).")
    if not path.parent.is_dir():
        raise ProbeFileError(f"The output folder '{path.parent}' does not exist.")
    if isinstance(probe, Probe):
        arrays = ARRAYS[probe.kind](probe)
        task = {"version": 1, "classes": probe.classes, "colours": [list(colour) for colour in probe.colours]}
    else:
        arrays = REGRESSION_ARRAYS[probe.kind](probe)
        task = {"version": VERSION, "task": REGRESSION, "target": probe.target}
    document = {
        "format": FORMAT,
        **task,
        "kind": probe.kind,
        "model_id": probe.model_id,
        "band_names": probe.band_names,
        "embedding_dim": probe.embedding_dim,
        "hyperparameters": probe.hyperparameters,
        "metrics": probe.report.to_dict() if probe.report is not None else None,
        "arrays": arrays_path(path).name,
    }
    with atomic_path(arrays_path(path)) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    write_text_atomic(path, json.dumps(document, indent=1))
    return path


def _read_document(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProbeFileError(f"Cannot read the probe file '{path}' ({exc.strerror}).") from None
    if raw.startswith(PICKLE_MAGIC):
        raise ProbeFileError(f"'{path.name}' is a Python pickle; GeoMeld never loads pickles (probes are JSON + npz).")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProbeFileError(f"'{path.name}' is not a GeoMeld probe file (not JSON).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ProbeFileError(f"'{path.name}' is JSON but not a GeoMeld probe file.")
    if int(document.get("version", 0)) > VERSION:
        raise ProbeFileError(f"'{path.name}' was written by a newer GeoMeld; update the plugin to use it.")
    return document


def probe_task(path: str | os.PathLike) -> str:
    """'classification' or 'regression': what a probe file predicts."""
    return _read_document(Path(path)).get("task", CLASSIFICATION)


def _open_probe(path: Path, model_id: str | None, task: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The document and arrays of a probe file of `task` made for `model_id` (when given)."""
    document = _read_document(path)
    found = document.get("task", CLASSIFICATION)
    if found != task:
        what = f"predicts '{document.get('target')}'" if found == REGRESSION else "maps classes"
        raise ProbeFileError(f"'{path.name}' is a {found} probe (it {what}), not a {task} probe.")
    if model_id is not None and document["model_id"] != model_id:
        raise ProbeFileError(
            f"'{path.name}' was trained on embeddings of model {document['model_id'][:12]}, but the loaded model "
            f"is {model_id[:12]}; train the probe again with these weights."
        )
    try:
        with np.load(path.parent / document["arrays"], allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as exc:
        raise ProbeFileError(f"The arrays of probe '{path.name}' cannot be read ({exc}).") from None
    kinds = REGRESSION_REBUILD if task == REGRESSION else REBUILD
    if document["kind"] not in kinds:
        raise ProbeFileError(f"'{path.name}' holds an unknown probe kind '{document['kind']}'.")
    return document, arrays


def load_probe(path: str | os.PathLike, model_id: str | None = None) -> Probe:
    """Read a probe; refuses pickles, other files and (when model_id is given) probes made for other weights."""
    document, arrays = _open_probe(Path(path), model_id, CLASSIFICATION)
    kind = document["kind"]
    estimator = REBUILD[kind](arrays, int(document["embedding_dim"]), document["hyperparameters"])
    metrics = document.get("metrics")
    return Probe(
        kind,
        list(document["classes"]),
        [tuple(colour) for colour in document["colours"]],
        estimator,
        int(document["embedding_dim"]),
        document["model_id"],
        list(document.get("band_names", [])),
        document["hyperparameters"],
        ProbeReport.from_dict(metrics) if metrics else None,
    )


def load_regression_probe(path: str | os.PathLike, model_id: str | None = None) -> RegressionProbe:
    """Read a regression probe, with the same checks as load_probe."""
    from .regression import RegressionProbe, RegressionReport

    document, arrays = _open_probe(Path(path), model_id, REGRESSION)
    kind, dim, params = document["kind"], int(document["embedding_dim"]), document["hyperparameters"]
    metrics = document.get("metrics")
    return RegressionProbe(
        kind,
        document["target"],
        REGRESSION_REBUILD[kind](arrays, dim, params),
        dim,
        document["model_id"],
        list(document.get("band_names", [])),
        params,
        RegressionReport.from_dict(metrics) if metrics else None,
    )
