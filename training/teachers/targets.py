"""Teacher targets for a pack: `python -m training.teachers.targets --pack .packed [--teachers DIR] [--force]`.

For every packed sample, Galileo-Nano's tokens at patch size 8 (the five Sentinel-2 groups averaged per cell) and
its pooled embedding, and Presto's per-pixel embedding at a seeded subsample of valid pixels; written once beside
the pack (`training.teachers.store` describes the files) and reused while the pack, the teachers and the settings
are unchanged. Bands a sample lacks are masked as each teacher expects (Galileo-Nano masks the groups holding them,
Presto the channels); a sample without the four 10 m bands gets no targets (weight 0).

Patch size 8, not 4: on the EuroSAT train split the pooled tokens of both give about the same linear-probe accuracy
(the teachers' README: 0.894 at patch size 8), and patch size 4 costs about 13 times as long.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from model_core.atomic import atomic_path, write_text_atomic
from model_core.bands import MODEL_BANDS, REQUIRED_BANDS
from training.data.packed import read_index, unpack_sample
from training.teachers.galileo import GALILEO_S2_BANDS, GalileoNano, default_teacher_dir
from training.teachers.presto import PRESTO_S2_BANDS, Presto
from training.teachers.store import FORMAT_VERSION, MANIFEST, targets_folder

PATCH_SIZE = 8
POINTS_PER_SAMPLE = 64
DEFAULT_MONTH0 = 6  # July, as the teachers' golden files, where a sample's date is unknown
TEACHER_FILES = ("galileo_nano/encoder.pt", "presto/default_model.pt")
BATCH = 32

GALILEO_CHANNELS = [MODEL_BANDS.index(band) for band in GALILEO_S2_BANDS]
PRESTO_CHANNELS = [MODEL_BANDS.index(band) for band in PRESTO_S2_BANDS]
REQUIRED_CHANNELS = [MODEL_BANDS.index(band) for band in REQUIRED_BANDS]


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def settings(pack: Path, teachers: Path) -> dict[str, Any]:
    """What the targets depend on; a cached set is reused only when this matches its manifest."""
    return {
        "format": FORMAT_VERSION,
        "pack_index_sha256": sha256(pack / "index.json"),
        "teachers": {name: sha256(teachers / name) for name in TEACHER_FILES},
        "patch_size": PATCH_SIZE,
        "points_per_sample": POINTS_PER_SAMPLE,
        "seed": 0,
    }


def sample_month0(meta: dict[str, Any]) -> int:
    """0-based acquisition month from a sample's 'date' (YYYY-MM-DD), else July."""
    date = meta.get("date")
    return int(str(date)[5:7]) - 1 if date and len(str(date)) >= 7 else DEFAULT_MONTH0


def pick_points(valid: np.ndarray, count: int, seed: Sequence[int]) -> np.ndarray:
    """(count or fewer, 2) seeded (row, col) of distinct valid pixels, sorted."""
    rows, cols = np.nonzero(valid)
    chosen = np.random.default_rng(list(seed)).permutation(len(rows))[:count]
    order = np.lexsort((cols[chosen], rows[chosen]))
    return np.stack([rows[chosen][order], cols[chosen][order]], axis=1)


def galileo_targets(
    teacher: GalileoNano, images: np.ndarray, band_masks: np.ndarray, valid: np.ndarray, months: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tokens (B, D, G, G), token weight (B, G, G), pooled (B, D)) of one batch of same-size samples."""
    batch, _, height, width = images.shape
    dn = torch.from_numpy(images[:, GALILEO_CHANNELS].transpose(0, 2, 3, 1) * 10000.0).float()
    missing = torch.from_numpy(band_masks[:, GALILEO_CHANNELS] == 0)
    tokens = torch.zeros(batch, height // PATCH_SIZE, width // PATCH_SIZE, 5, teacher.dim)
    seen = torch.zeros(batch, 5, dtype=torch.bool)
    for month in sorted(set(months)):  # the month is one input for the whole batch
        rows = [index for index, value in enumerate(months) if value == month]
        tokens[rows], seen[rows] = teacher.encode_s2(dn[rows], PATCH_SIZE, month, missing[rows])
    pooled = GalileoNano.pooled_mean(tokens, seen)
    cell_weight = seen.float()[:, None, None, :, None]
    averaged = (tokens * cell_weight).sum(dim=3) / cell_weight.sum(dim=3).clamp_min(1.0)
    coverage = valid.reshape(batch, height // PATCH_SIZE, PATCH_SIZE, width // PATCH_SIZE, PATCH_SIZE).mean(axis=(2, 4))
    coverage = coverage * seen.any(dim=1).numpy()[:, None, None]
    return averaged.permute(0, 3, 1, 2).numpy(), coverage.astype(np.float32), pooled.numpy()


def latlon_of(meta: dict[str, Any]) -> tuple[float, float]:
    """A sample's centre (lat, lon) in degrees; (0, 0) where it has no georeference."""
    lat, lon = meta.get("lat"), meta.get("lon")
    return (float(lat), float(lon)) if lat is not None and lon is not None else (0.0, 0.0)


def shard_targets(
    arrays: dict[str, np.ndarray], galileo: GalileoNano, presto: Presto, log=print
) -> dict[str, np.ndarray]:
    """The target arrays of one pack shard (see training.teachers.store)."""
    count = len(arrays["meta"])
    samples = [unpack_sample(arrays, row) for row in range(count)]
    height, width = samples[0]["valid"].shape
    if height % PATCH_SIZE or width % PATCH_SIZE:
        raise ValueError(f"pack tiles of {height} x {width} px do not fit patch size {PATCH_SIZE}")
    grid = (height // PATCH_SIZE, width // PATCH_SIZE)
    out = {
        "tokens": np.zeros((count, galileo.dim, *grid), np.float16),
        "token_weight": np.zeros((count, *grid), np.float16),
        "pooled": np.zeros((count, galileo.dim), np.float32),
        "points": np.zeros((count, POINTS_PER_SAMPLE, 2), np.int16),
        "point_count": np.zeros(count, np.int16),
        "presto": np.zeros((count, POINTS_PER_SAMPLE, 128), np.float16),
    }
    usable = [row for row, s in enumerate(samples) if s["band_mask"][REQUIRED_CHANNELS].all() and s["valid"].any()]
    for start in range(0, len(usable), BATCH):
        rows = usable[start : start + BATCH]
        batch = [samples[row] for row in rows]
        tokens, weight, pooled = galileo_targets(
            galileo,
            np.stack([s["image"] for s in batch]),
            np.stack([s["band_mask"] for s in batch]),
            np.stack([s["valid"] for s in batch]),
            [sample_month0(s["meta"]) for s in batch],
        )
        out["tokens"][rows], out["token_weight"][rows], out["pooled"][rows] = tokens, weight, pooled
    for row in usable:
        sample = samples[row]
        points = pick_points(sample["valid"], POINTS_PER_SAMPLE, (0, row))
        dn = sample["image"][PRESTO_CHANNELS][:, points[:, 0], points[:, 1]].T * 10000.0
        missing = np.broadcast_to(sample["band_mask"][PRESTO_CHANNELS] == 0, dn.shape)
        latlons = np.tile(latlon_of(sample["meta"]), (len(points), 1))
        embedding = presto.embed_s2_pixels(
            torch.from_numpy(dn).float(),
            torch.from_numpy(latlons).float(),
            sample_month0(sample["meta"]),
            torch.from_numpy(np.ascontiguousarray(missing)) if missing.any() else None,
        )
        out["points"][row, : len(points)] = points
        out["point_count"][row] = len(points)
        out["presto"][row, : len(points)] = embedding.numpy()
    log(f"  {count} samples, {len(usable)} with targets")
    return out


def standardisation(folder: Path, shard_files: Sequence[str]) -> dict[str, dict[str, list[float]]]:
    """Mean and std of every target dimension over the given shards' weighted tokens and points."""
    tokens, presto = [], []
    for name in shard_files:
        with np.load(folder / name, allow_pickle=False) as data:
            weight = data["token_weight"] > 0
            tokens.append(data["tokens"].transpose(0, 2, 3, 1)[weight].astype(np.float64))
            for row, count in enumerate(data["point_count"]):
                presto.append(data["presto"][row, :count].astype(np.float64))
    stats = {}
    for name, values in (("galileo", np.concatenate(tokens)), ("presto", np.concatenate(presto))):
        stats[name] = {
            "mean": [round(float(v), 6) for v in values.mean(axis=0)],
            "std": [round(float(v), 6) for v in np.maximum(values.std(axis=0), 1e-6)],
        }
    return stats


def compute_targets(pack: Path, teachers: Path, force: bool = False, log=print) -> Path:
    """Compute (or reuse) the teacher targets of a pack; returns the targets folder."""
    pack, teachers = Path(pack), Path(teachers)
    folder = targets_folder(pack)
    wanted = settings(pack, teachers)
    manifest_path = folder / MANIFEST
    if not force and manifest_path.exists():
        cached = json.loads(manifest_path.read_text(encoding="utf-8"))
        if {key: cached.get(key) for key in wanted} == wanted:
            log(f"teacher targets in {folder} are up to date")
            return folder
    folder.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    galileo = GalileoNano.load(teachers / "galileo_nano")
    presto = Presto.load(teachers / "presto")
    index = read_index(pack)
    started = time.time()
    for entry in index["shards"]:
        log(f"{entry['file']}:")
        with np.load(pack / entry["file"], allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        targets = shard_targets(arrays, galileo, presto, log)
        with atomic_path(folder / entry["file"], ".tmp.npz") as temporary:
            np.savez_compressed(temporary, **targets)
    train_files = [entry["file"] for entry in index["shards"] if entry["split"] == "train"]
    manifest = {**wanted, "seconds": round(time.time() - started, 1), "stats": standardisation(folder, train_files)}
    write_text_atomic(manifest_path, json.dumps(manifest, indent=1))  # last: its presence means complete
    log(f"teacher targets for {len(index['shards'])} shards in {manifest['seconds']} s -> {folder}")
    return folder


def main(argv: Optional[list[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.teachers.targets", description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=Path(".packed"), help="pack folder (default .packed)")
    parser.add_argument("--teachers", type=Path, default=None, help="teachers folder (default ../shared/teachers)")
    parser.add_argument("--force", action="store_true", help="recompute even when cached targets match")
    args = parser.parse_args(argv)
    compute_targets(args.pack, args.teachers or default_teacher_dir(), args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
