"""Reading the pack written by `python -m training.data.pack`: PackedDataset and collate (numpy only)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

from training.teachers.store import attach_targets, collate_targets, load_shard_targets, read_manifest

from .sample import SPLITS, Sample
from .transforms import augment as augment_sample
from .transforms import center_crop

INDEX_NAME = "index.json"
FORMAT_VERSION = 1
META_ARRAY_PREFIX = "meta__"  # shard arrays holding per-sample maps kept in meta (e.g. meta__lulc_eolearn)


def shard_name(dataset: str, split: str) -> str:
    """File name of the shard holding one dataset's split."""
    return f"{dataset}__{split}.npz"


def read_index(folder: os.PathLike) -> dict[str, Any]:
    """The pack's index.json (crop size, shards with their counts)."""
    path = Path(folder) / INDEX_NAME
    if not path.exists():
        raise FileNotFoundError(f"{folder} is not a pack (no {INDEX_NAME}); build it with python -m training.data.pack")
    index = json.loads(path.read_text())
    if index.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: pack format {index.get('format')} is not {FORMAT_VERSION}; rebuild the pack")
    return index


class PackedDataset:
    """Samples of one split of a pack, as sample dicts (float32 image, bool valid, dem/lulc where present).

    With `crop`, samples are cut to crop x crop: a random window plus random flips/90-degree rotations when
    `augment`, the central window otherwise. Augmentation is a function of (seed, epoch, index) only, so it is
    reproducible and identical whatever the number of loader workers; call `set_epoch` to draw new ones.
    With `teachers`, each sample carries its teacher targets (`training.teachers.store`), transformed with it.
    """

    def __init__(
        self,
        folder: os.PathLike,
        split: str = "train",
        crop: Optional[int] = None,
        augment: bool = False,
        seed: int = 0,
        datasets: Optional[Sequence[str]] = None,
        teachers: bool = False,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.folder, self.split, self.crop, self.augment, self.seed = Path(folder), split, crop, augment, seed
        self.epoch = 0
        self.index = read_index(folder)
        self.shards: list[dict[str, np.ndarray]] = []
        self.targets: list[dict[str, np.ndarray]] = []
        self.teacher_stats = read_manifest(folder)["stats"] if teachers else None
        self.names: list[str] = []
        self._locations: list[tuple[int, int]] = []
        for entry in self.index["shards"]:
            if entry["split"] != split or (datasets is not None and entry["dataset"] not in datasets):
                continue
            with np.load(self.folder / entry["file"], allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            self._locations.extend((len(self.shards), i) for i in range(len(arrays["meta"])))
            self.shards.append(arrays)
            if teachers:
                self.targets.append(load_shard_targets(folder, entry["file"]))
            self.names.append(entry["dataset"])

    def set_epoch(self, epoch: int) -> None:
        """Choose the augmentation draw (call once per epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self._locations)

    def __getitem__(self, index: int) -> Sample:
        shard_index, row = self._locations[index]
        sample = unpack_sample(self.shards[shard_index], row)
        if self.targets:
            sample = attach_targets(sample, self.targets[shard_index], row)
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            return augment_sample(sample, rng, self.crop)
        return center_crop(sample, self.crop) if self.crop else sample

    def summary(self) -> list[dict[str, Any]]:
        """Per-dataset rows: dataset, split, samples."""
        return [
            {"dataset": name, "split": self.split, "samples": len(shard["meta"])}
            for name, shard in zip(self.names, self.shards)
        ]


def unpack_sample(arrays: dict[str, np.ndarray], row: int) -> Sample:
    """Row `row` of a shard as a sample dict with the dtypes of the sample format."""
    meta = json.loads(str(arrays["meta"][row]))
    for key, values in arrays.items():
        if key.startswith(META_ARRAY_PREFIX) and not key.startswith("has_") and arrays[f"has_{key}"][row]:
            meta[key[len(META_ARRAY_PREFIX) :]] = values[row]
    sample: Sample = {
        "image": arrays["image"][row].astype(np.float32),
        "band_mask": arrays["band_mask"][row].astype(np.float32),
        "valid": arrays["valid"][row].astype(bool),
        "labels": json.loads(str(arrays["labels"][row])),
        "meta": meta,
    }
    if arrays["has_dem"][row]:
        sample["dem"] = arrays["dem"][row].astype(np.float32)
    if arrays["has_lulc"][row]:
        sample["lulc"] = arrays["lulc"][row].astype(np.int64)
    return sample


def collate(samples: Sequence[Sample]) -> dict[str, Any]:
    """Stack samples of one size into a batch of numpy arrays; missing dem/lulc are zeros flagged by has_dem/has_lulc.

    Keys: image (B,15,H,W) float32, band_mask (B,15) float32, valid (B,H,W) bool, dem (B,1,H,W) float32,
    has_dem (B,) bool, lulc (B,H,W) int64 (0 = ignore), has_lulc (B,) bool, labels list[list[str]], meta list[dict];
    with teacher targets also those of `training.teachers.store.collate_targets`.
    """
    if not samples:
        raise ValueError("collate needs at least one sample")
    shapes = {sample["valid"].shape for sample in samples}
    if len(shapes) != 1:
        raise ValueError(f"samples of different sizes {sorted(shapes)} cannot be stacked; use PackedDataset(crop=...)")
    height, width = shapes.pop()
    targets = (
        collate_targets(samples, max(1, max(len(s["presto_points"]) for s in samples)))
        if "teacher_tokens" in samples[0]
        else {}
    )
    return targets | {
        "image": np.stack([s["image"] for s in samples]).astype(np.float32, copy=False),
        "band_mask": np.stack([s["band_mask"] for s in samples]).astype(np.float32, copy=False),
        "valid": np.stack([s["valid"] for s in samples]),
        "dem": np.stack([s.get("dem", np.zeros((1, height, width), np.float32)) for s in samples]),
        "has_dem": np.array(["dem" in s for s in samples]),
        "lulc": np.stack([s.get("lulc", np.zeros((height, width), np.int64)) for s in samples]),
        "has_lulc": np.array(["lulc" in s for s in samples]),
        "labels": [list(s["labels"]) for s in samples],
        "meta": [s["meta"] for s in samples],
    }
