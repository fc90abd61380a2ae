"""Accuracy a mapper can report: a probe validated on places it has not seen, and class areas adjusted by that
validation's confusion matrix with 95 % confidence intervals (Olofsson et al. 2014, Remote Sensing of Environment
148: 42-57, "Good practices for estimating area and assessing accuracy of land change").

Pixel cross-validation splits the pixels of one polygon between training and test folds: neighbouring pixels are
nearly the same, so it reads 0.99-1.00 where an independent check would not. Held-out validation keeps every
polygon (and, for point labels, every GROUP_BLOCK x GROUP_BLOCK px block of points) whole in one fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

MAX_FOLDS = 5
GROUP_BLOCK = 64  # px: point labels closer than this (in one block of the grid) are held out together
Z95 = 1.959964  # two-sided 95 % quantile of the normal distribution


@dataclass
class HeldOutScores:
    """Cross-validation with whole groups (polygons, blocks of points) held out; confusion rows are the labelled
    class, columns the predicted one. `note` says why there is no score (accuracy None)."""

    grouping: str
    groups: int
    folds: int
    accuracy: float | None
    per_class: list[dict] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)
    note: str = ""


@dataclass
class ClassArea:
    """One row of the area table: mapped area, the area adjusted by the confusion matrix and the half width of its
    95 % confidence interval (hectares), with the class's user's and producer's accuracy (estimated)."""

    name: str
    mapped_ha: float
    adjusted_ha: float
    ci95_ha: float
    users_accuracy: float | None
    producers_accuracy: float | None


def class_scores(
    labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]
) -> tuple[list[dict], list[list[int]]]:
    """Per-class precision, recall, F1 and support, and the confusion matrix (rows labelled, columns predicted)."""
    indices = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, labels=indices, zero_division=0)
    per_class = [
        {"name": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
    ]
    return per_class, confusion_matrix(labels, predicted, labels=indices).tolist()


def describe_groups(groups: np.ndarray) -> str:
    """What the groups are: 'polygons' (ids >= 0, one per feature), 'blocks of points' (ids < 0), or both."""
    polygons, blocks = bool((groups >= 0).any()), bool((groups < 0).any())
    if polygons and blocks:
        return "polygons and blocks of points"
    return "polygons" if polygons else "blocks of points"


def held_out_validation(
    estimator: ClassifierMixin,
    embeddings: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    class_names: Sequence[str],
    seed: int = 0,
) -> HeldOutScores:
    """Stratified group k-fold (k = min(5, fewest groups of a class)): every group is predicted by a probe trained
    without it. No score when a class lies in a single group."""
    grouping = describe_groups(groups)
    count = len(np.unique(groups))
    per_class_groups = {
        name: len(np.unique(groups[labels == index]))
        for index, name in enumerate(class_names)
        if (labels == index).any()
    }
    folds = min(MAX_FOLDS, *per_class_groups.values())
    if folds < 2:
        lonely = [name for name, number in per_class_groups.items() if number < 2]
        note = (
            f"no held-out score: class(es) {', '.join(lonely)} lie in a single polygon or block; label each class in "
            "at least two separate places"
        )
        return HeldOutScores(grouping, count, 0, None, note=note)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(clone(estimator), embeddings, labels, cv=splitter, groups=groups)
    per_class, matrix = class_scores(labels, predicted, class_names)
    return HeldOutScores(grouping, count, folds, float((predicted == labels).mean()), per_class, matrix)


def adjusted_areas(
    confusion: Sequence[Sequence[int]], mapped_ha: Sequence[float], class_names: Sequence[str]
) -> tuple[list[ClassArea], list[str]]:
    """Olofsson et al. (2014) estimates from a confusion matrix (rows labelled, columns predicted, sample counts)
    and the mapped area of each class: the area of each class as labelled (the mapped proportions W_i redistributed
    by the share of each map class's samples in each labelled class), its 95 % confidence interval, and user's and
    producer's accuracy. Also notes on what the estimate could not use."""
    counts = np.asarray(confusion, dtype=np.float64).T  # n_ij: map class i (predicted), reference class j (labelled)
    mapped = np.asarray(mapped_ha, dtype=np.float64)
    total = float(mapped.sum())
    weights = mapped / total if total > 0 else np.zeros_like(mapped)
    per_map_class = counts.sum(axis=1)
    notes = []
    shares = np.zeros_like(counts)  # n_ij / n_i.
    for i, name in enumerate(class_names):
        if per_map_class[i] > 0:
            shares[i] = counts[i] / per_map_class[i]
        else:  # no validation sample was mapped as this class: its mapped area is taken as it is
            shares[i, i] = 1.0
            if weights[i] > 0:
                notes.append(f"no validation sample was predicted as '{name}'; its mapped area is not adjusted")
    proportions = weights[:, np.newaxis] * shares  # p_ij
    variance_terms = np.zeros_like(counts)
    usable = per_map_class > 1
    variance_terms[usable] = (
        weights[usable, np.newaxis] ** 2
        * shares[usable]
        * (1.0 - shares[usable])
        / (per_map_class[usable, np.newaxis] - 1.0)
    )
    area = proportions.sum(axis=0) * total
    half_width = Z95 * np.sqrt(variance_terms.sum(axis=0)) * total
    diagonal = np.diag(proportions)
    mapped_share, labelled_share = proportions.sum(axis=1), proportions.sum(axis=0)
    rows = [
        ClassArea(
            name,
            float(mapped[j]),
            float(area[j]),
            float(half_width[j]),
            float(diagonal[j] / mapped_share[j]) if mapped_share[j] > 0 else None,
            float(diagonal[j] / labelled_share[j]) if labelled_share[j] > 0 else None,
        )
        for j, name in enumerate(class_names)
    ]
    return rows, notes
