"""`python -m training.data.pack --out .packed/ [--crop 64]`: read every source once, write compact npz shards.

Per shard (one dataset split): image float16 (N,15,C,C), band_mask uint8, valid bool, dem int16 (N,1,C,C) +
has_dem, lulc uint8 + has_lulc, labels and meta as JSON strings, meta maps as `meta__<name>` + `has_meta__<name>`.
Samples larger than the crop are cut into tiles (a seeded subset for BigEarthNet); the pack stays under ~60 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from model_core.atomic import atomic_path, write_text_atomic
from model_core.io import iter_windows

from .base import GeoDataset
from .bigearthnet import BigEarthNetV2S2
from .bigearthnet_s1s2 import BigEarthNetS1S2ConfigILM, BigEarthNetS1S2Examples
from .eurosat import EuroSATMS
from .packed import FORMAT_VERSION, INDEX_NAME, META_ARRAY_PREFIX, shard_name
from .sample import SPLITS, Sample
from .scenes import Brandenburg, DemoScene
from .sen1floods11 import Sen1Floods11
from .slovenia import SloveniaEOPatch
from .terramesh import TerraMesh
from .transforms import crop as crop_sample
from .transforms import pad_to

REFERENCE_CROP = 64  # tile counts below are for 64 px; other crops keep about the same number of pixels
SIZE_BUDGET_MIB = 60


@dataclass(frozen=True)
class SourcePlan:
    """How one source enters the pack: a reader factory (crop -> dataset) and the tiles kept per sample and split."""

    make: Callable[[int, float], GeoDataset]
    tiles_per_sample: Optional[dict[str, int]] = None  # None: every tile


def _scaled(count: int, scale: float) -> int:
    return max(1, int(round(count * scale)))


PLAN: tuple[SourcePlan, ...] = (
    SourcePlan(lambda crop, scale: EuroSATMS()),
    SourcePlan(lambda crop, scale: BigEarthNetV2S2(), {"train": 2, "val": 1}),
    SourcePlan(lambda crop, scale: BigEarthNetS1S2Examples(), {"train": 2, "val": 1}),
    SourcePlan(lambda crop, scale: BigEarthNetS1S2ConfigILM(), {"train": 2, "val": 1}),
    SourcePlan(lambda crop, scale: TerraMesh()),
    SourcePlan(lambda crop, scale: Sen1Floods11()),
    SourcePlan(lambda crop, scale: SloveniaEOPatch()),
    SourcePlan(lambda crop, scale: Brandenburg(crop=crop, count=_scaled(64, scale))),
    SourcePlan(lambda crop, scale: DemoScene(crop=crop, count=_scaled(200, scale))),
)


def tiles(sample: Sample, size: int, keep: Optional[int], rng: np.random.RandomState) -> list[Sample]:
    """Cut a sample into size x size tiles covering it (padded when smaller); a seeded subset of `keep` tiles."""
    sample = pad_to(sample, size)
    height, width = sample["valid"].shape
    windows = list(iter_windows(width, height, size))
    if keep is not None and len(windows) > keep:
        windows = [windows[i] for i in sorted(rng.choice(len(windows), keep, replace=False))]
    out = []
    for window in windows:
        tile = crop_sample(sample, window.row, window.col, size, size)
        if len(windows) > 1:
            tile["meta"] = {**tile["meta"], "id": f"{sample['meta']['id']}#r{window.row}c{window.col}"}
        out.append(tile)
    return out


def stack_shard(samples: Sequence[Sample]) -> dict[str, np.ndarray]:
    """Compact arrays of one shard (see the module docstring)."""
    size = samples[0]["valid"].shape
    arrays: dict[str, np.ndarray] = {
        "image": np.stack([s["image"] for s in samples]).astype(np.float16),
        "band_mask": np.stack([s["band_mask"] for s in samples]).astype(np.uint8),
        "valid": np.stack([s["valid"] for s in samples]),
        "dem": np.stack([np.round(s.get("dem", np.zeros((1, *size)))) for s in samples]).astype(np.int16),
        "has_dem": np.array(["dem" in s for s in samples]),
        "lulc": np.stack([s.get("lulc", np.zeros(size)) for s in samples]).astype(np.uint8),
        "has_lulc": np.array(["lulc" in s for s in samples]),
        "labels": np.array([json.dumps(s["labels"]) for s in samples]),
        "meta": np.array([json.dumps(_plain_meta(s["meta"])) for s in samples]),
    }
    map_keys = sorted({k for s in samples for k, v in s["meta"].items() if isinstance(v, np.ndarray)})
    for key in map_keys:
        dtype = next(s["meta"][key].dtype for s in samples if key in s["meta"])
        arrays[META_ARRAY_PREFIX + key] = np.stack([s["meta"].get(key, np.zeros(size, dtype)) for s in samples])
        arrays[f"has_{META_ARRAY_PREFIX}{key}"] = np.array([key in s["meta"] for s in samples])
    return arrays


def _plain_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meta.items() if not isinstance(value, np.ndarray)}


def modalities(arrays: dict[str, np.ndarray]) -> str:
    """Short description of the modalities of a shard, e.g. 'S2+S1+dem+lulc'."""
    present = arrays["band_mask"].any(axis=0)
    parts = ["S2"] + (["S1"] if present[-2:].any() else [])
    parts += [name for name in ("dem", "lulc") if arrays[f"has_{name}"].any()]
    parts += [key[len(META_ARRAY_PREFIX) :] for key in arrays if key.startswith(META_ARRAY_PREFIX)]
    return "+".join(parts)


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path, ".tmp.npz") as temporary:
        np.savez_compressed(temporary, **arrays)


def pack(
    out: os.PathLike,
    crop: int = REFERENCE_CROP,
    seed: int = 0,
    plan: Sequence[SourcePlan] = PLAN,
    log: Callable[[str], None] = print,
    density: float = 1.0,
) -> dict[str, Any]:
    """Build the pack in `out` (created) and return its index; each shard is written atomically, the index last.

    `density` multiplies the tiles taken from sources cut into a seeded subset of tiles (scenes, BigEarthNet).
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    scale = density * (REFERENCE_CROP / crop) ** 2
    rng = np.random.RandomState(seed)
    entries = []
    for source in plan:
        dataset = source.make(crop, scale)
        for split in SPLITS:
            keep = None if source.tiles_per_sample is None else _scaled(source.tiles_per_sample[split], scale)
            samples = [
                tile
                for item in dataset.items
                if item["split"] == split
                for tile in tiles(dataset.load(item), crop, keep, rng)
            ]
            if not samples:
                continue
            arrays = stack_shard(samples)
            name = shard_name(dataset.name, split)
            _save_npz(folder / name, arrays)
            entries.append(
                {
                    "file": name,
                    "dataset": dataset.name,
                    "split": split,
                    "samples": len(samples),
                    "pixels": int(arrays["valid"].sum()),
                    "modalities": modalities(arrays),
                    "bytes": (folder / name).stat().st_size,
                }
            )
            log(f"  {dataset.name:28s} {split:5s} {len(samples):5d} samples")
    index = {"format": FORMAT_VERSION, "crop": crop, "seed": seed, "density": density, "shards": entries}
    write_text_atomic(folder / INDEX_NAME, json.dumps(index, indent=1))
    return index


def summary_table(index: dict[str, Any]) -> str:
    """The pack summary as a text table (dataset, split, samples, pixels, modalities, size)."""
    lines = [f"{'dataset':28s} {'split':5s} {'samples':>7s} {'pixels':>10s} {'MiB':>6s}  modalities"]
    for e in index["shards"]:
        lines.append(
            f"{e['dataset']:28s} {e['split']:5s} {e['samples']:7d} {e['pixels']:10d} "
            f"{e['bytes'] / 2**20:6.2f}  {e['modalities']}"
        )
    total = sum(e["bytes"] for e in index["shards"])
    samples = sum(e["samples"] for e in index["shards"])
    lines.append(
        f"{'total':28s} {'':5s} {samples:7d} {sum(e['pixels'] for e in index['shards']):10d} {total / 2**20:6.2f}"
    )
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.data.pack", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".packed", help="output folder (default .packed/)")
    parser.add_argument("--crop", type=int, default=REFERENCE_CROP, help="tile size in pixels (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of tile and crop choices (default 0)")
    parser.add_argument(
        "--density",
        type=float,
        default=1.0,
        help="multiplier of the tiles kept from scenes and BigEarthNet (default 1)",
    )
    args = parser.parse_args(argv)
    start = time.time()
    index = pack(args.out, args.crop, args.seed, density=args.density)
    print(summary_table(index))
    total_mib = sum(e["bytes"] for e in index["shards"]) / 2**20
    print(f"packed in {time.time() - start:.1f} s into {args.out}")
    if total_mib > SIZE_BUDGET_MIB:
        print(f"warning: the pack is {total_mib:.1f} MiB, over the {SIZE_BUDGET_MIB} MiB budget", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
