"""Teacher targets cached beside a pack (numpy only): where they live, their format, and attaching them to samples.

`<pack>/teachers/` holds one `<shard>.npz` per pack shard, row for row, and `targets.json` with what they were
computed from (pack index, teacher checksums, patch size, points per sample, seed) and, per teacher, the mean and
standard deviation of every target dimension over the training split (the losses compare standardised targets:
the teachers' embeddings share a large common direction that a plain cosine would spend itself on).

Per shard (N samples of C x C pixels, G = the Galileo-Nano token grid C / P):
- `tokens` float16 (N, 128, G, G): Galileo-Nano's space-time tokens of the seen Sentinel-2 groups, averaged per cell;
- `token_weight` float16 (N, G, G): the fraction of a cell's pixels that are valid (0 where the teacher saw nothing);
- `pooled` float32 (N, 128): the teacher's pooled embedding (mean over its unmasked tokens);
- `points` int16 (N, K, 2) and `point_count` int16 (N,): the (row, col) of up to K seeded valid pixels;
- `presto` float16 (N, K, 128): Presto's embedding of each of those pixels.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from training.data.sample import Sample

FOLDER = "teachers"
MANIFEST = "targets.json"
FORMAT_VERSION = 1


def targets_folder(pack: os.PathLike) -> Path:
    """The folder of a pack's teacher targets."""
    return Path(pack) / FOLDER


def read_manifest(pack: os.PathLike) -> dict[str, Any]:
    """targets.json of a pack; a clear error when the targets were never computed."""
    path = targets_folder(pack) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"{pack} has no teacher targets; compute them with python -m training.teachers.targets --pack {pack}"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: format {manifest.get('format')} is not {FORMAT_VERSION}; recompute the targets")
    return manifest


def load_shard_targets(pack: os.PathLike, shard_file: str) -> dict[str, np.ndarray]:
    """The target arrays of one pack shard."""
    with np.load(targets_folder(pack) / shard_file, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def attach_targets(sample: Sample, targets: dict[str, np.ndarray], row: int) -> Sample:
    """The sample with its teacher targets (float32 token map and weight, points and their Presto embeddings).

    The pooled target of a crop is the mean of its token targets: for a whole tile, the teacher's pooled embedding.
    """
    count = int(targets["point_count"][row])
    return {
        **sample,
        "teacher_tokens": targets["tokens"][row].astype(np.float32),
        "teacher_token_weight": targets["token_weight"][row].astype(np.float32),
        "presto_points": targets["points"][row, :count].astype(np.int64),
        "presto": targets["presto"][row, :count].astype(np.float32),
    }


def collate_targets(samples: list[Sample], max_points: int) -> dict[str, np.ndarray]:
    """Batch arrays of the samples' targets; points are padded to `max_points` with weight 0."""
    batch = len(samples)
    dim = samples[0]["presto"].shape[-1]
    points = np.zeros((batch, max_points, 2), np.int64)
    presto = np.zeros((batch, max_points, dim), np.float32)
    point_weight = np.zeros((batch, max_points), np.float32)
    for index, sample in enumerate(samples):
        count = min(len(sample["presto_points"]), max_points)
        points[index, :count] = sample["presto_points"][:count]
        presto[index, :count] = sample["presto"][:count]
        point_weight[index, :count] = 1.0
    return {
        "teacher_tokens": np.stack([s["teacher_tokens"] for s in samples]),
        "teacher_token_weight": np.stack([s["teacher_token_weight"] for s in samples]),
        "presto_points": points,
        "presto": presto,
        "presto_weight": point_weight,
    }
