"""Pretrain GeoMeld-FM: `python -m training.pretrain --config training/configs/cpu_small.json [--out DIR] [--resume]`.

Multi-pretext MAE (S2, S1, DEM, land cover), JEPA against an EMA teacher, image-caption InfoNCE, dense
pixel-text alignment, distillation from the teachers and the GloVe text anchor on the packed training data; seeded,
resumable (`last.pt`), logs every loss to `log.csv`, draws `losses.png` and exports the trained model to
`<out>/model/`. Runs under `torchrun` (DDP) when WORLD_SIZE is set. A run may start from another run's checkpoint
(`--init`, or `init` in the config: its architecture, tokenizer and weights, with a fresh optimiser and schedule), and
`train.lock_image` keeps the image tower fixed so that only the text tower and the temperature learn (as
`training/configs/cpu_text_lit.json` does); `train.lock_text` keeps the text tower and the temperature fixed so that
the image tower learns against fixed class-name and caption embeddings (`training/configs/cpu_image_lock_text.json`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from model_core.atomic import atomic_path, copy_atomic
from model_core.bands import MODEL_BANDS
from model_core.tokenizer import GLOSSARY, TextTokenizer
from training.data.packed import PackedDataset, collate
from training.data.sample import LULC_CLASSES
from training.export import export_model
from training.glove import glove_text_setup
from training.losses import band_dropout, ema_momentum
from training.model import GeoMeldConfig, build_model, ema_update, random_patch_mask
from training.objective import DISTILLATION, LOSS_NAMES, Batch, PretrainObjective
from training.plots import plot_losses

LOCKS = ("lock_image", "lock_text")
CHECKPOINT = "last.pt"
LOG_NAME = "log.csv"
PLOT_NAME = "losses.png"
LOG_COLUMNS: tuple[str, ...] = ("step", "seconds", "lr", "momentum", "logit_scale", "total", *LOSS_NAMES)


# ---- configuration and data ---------------------------------------------------------------------------------------
def load_config(
    path: Path, steps: int | None = None, threads: int | None = None, loss_weights: dict[str, float] | None = None
) -> dict:
    """The run configuration (JSON) with overrides: `steps` replaces train.steps (a run then ends on steps, not
    on minutes), `threads` train.threads, `loss_weights` entries of loss_weights."""
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    if steps is not None:
        config["train"]["steps"] = steps
        config["train"]["warmup_steps"] = min(config["train"]["warmup_steps"], steps)
        config["train"].pop("max_minutes", None)
    if threads is not None:
        config["train"]["threads"] = threads
    config["loss_weights"].update(loss_weights or {})
    return config


def loss_weight(text: str) -> tuple[str, float]:
    """argparse type of --loss-weight NAME=VALUE."""
    name, _, value = text.partition("=")
    if name not in LOSS_NAMES or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of {', '.join(LOSS_NAMES)}")
    return name, float(value)


def load_captions(path: Path) -> dict[str, list[str]]:
    """Accepted captions of the training split by sample id, from captions.jsonl (empty when there is none)."""
    captions: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("split") == "train" and record.get("captions"):
                captions[str(record["id"])] = list(record["captions"])
    return captions


def fit_text(tokenizer: TextTokenizer, text: str, context_length: int) -> str:
    """The text cut at whole words so that it fits the text encoder's context."""
    words = text.split()
    while len(words) > 1 and len(tokenizer.tokens(" ".join(words))) > context_length - 2:
        words.pop()
    return " ".join(words)


def normalisation_stats(dataset: PackedDataset, max_samples: int) -> tuple[list[float], list[float], float]:
    """Per-channel mean/std over valid pixels of present bands (S2 fraction, S1 dB) and the DEM relief std."""
    total = np.zeros(len(MODEL_BANDS))
    squares = np.zeros(len(MODEL_BANDS))
    counts = np.zeros(len(MODEL_BANDS))
    relief = []
    step = max(1, len(dataset) // max_samples)
    for index in range(0, len(dataset), step):
        sample = dataset[index]
        pixels = sample["image"][:, sample["valid"]].astype(np.float64)
        present = sample["band_mask"] > 0
        total[present] += pixels[present].sum(axis=1)
        squares[present] += (pixels[present] ** 2).sum(axis=1)
        counts[present] += pixels.shape[1]
        if "dem" in sample:
            dem = sample["dem"][0][sample["valid"]]
            relief.append(dem - dem.mean())
    default = GeoMeldConfig()
    mean = np.where(counts > 0, total / np.maximum(counts, 1), default.mean)
    std = np.where(counts > 0, np.sqrt(np.maximum(squares / np.maximum(counts, 1) - mean**2, 0)), default.std)
    std = np.maximum(std, 1e-3)
    dem_std = float(np.concatenate(relief).std()) if relief else 1.0
    return [round(float(v), 6) for v in mean], [round(float(v), 6) for v in std], max(dem_std, 1.0)


def make_batch(
    collated: dict,
    captions: dict[str, list[str]],
    tokenizer: TextTokenizer,
    context_length: int,
    config: dict,
    generator: torch.Generator,
) -> Batch:
    """A collated pack batch as tensors plus MAE mask, band dropout and one random caption per captioned sample."""
    texts, captioned = [], []
    for index, meta in enumerate(collated["meta"]):
        choices = captions.get(str(meta["id"]))
        if choices:
            pick = int(torch.randint(len(choices), (1,), generator=generator))
            texts.append(fit_text(tokenizer, choices[pick], context_length))
            captioned.append(index)
    band_mask = torch.from_numpy(collated["band_mask"])
    batch, _, height, width = collated["image"].shape
    mask = config["mask"]
    tokens = tokenizer.encode(texts, context_length) if texts else np.zeros((0, context_length), np.int64)
    teacher_keys = ("teacher_tokens", "teacher_token_weight", "presto_points", "presto", "presto_weight")
    teachers = {key: torch.from_numpy(collated[key]) for key in teacher_keys if key in collated}
    return Batch(
        image=torch.from_numpy(collated["image"]),
        band_mask=band_mask,
        input_mask=band_dropout(band_mask, config["band_dropout"], generator),
        valid=torch.from_numpy(collated["valid"]),
        pixel_mask=random_patch_mask(batch, height, width, mask["patch"], mask["ratio"], generator),
        dem=torch.from_numpy(collated["dem"]),
        has_dem=torch.from_numpy(collated["has_dem"].astype(np.float32)),
        lulc=torch.from_numpy(collated["lulc"]),
        tokens=torch.from_numpy(tokens),
        captioned=torch.tensor(captioned, dtype=torch.int64),
        **teachers,
    )


def epoch_batches(sampler: DistributedSampler, epoch: int, batch_size: int) -> list[list[int]]:
    """The per-rank index batches of one epoch (incomplete last batch dropped)."""
    sampler.set_epoch(epoch)
    indices = list(sampler)
    return [indices[i : i + batch_size] for i in range(0, len(indices) - batch_size + 1, batch_size)]


# ---- hardware -----------------------------------------------------------------------------------------------------
def setup_distributed() -> tuple[int, int, torch.device]:
    """(rank, world size, device); initialises torch.distributed when launched by torchrun (WORLD_SIZE set)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def hardware_name(device: torch.device) -> str:
    """GPU name, or the CPU model with its thread count."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} x {max(1, int(os.environ.get('WORLD_SIZE', '1')))}"
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu} ({torch.get_num_threads()} threads)"


# ---- checkpoints --------------------------------------------------------------------------------------------------
def save_checkpoint(path: Path, state: dict) -> None:
    """torch.save to a temporary file, then rename: an interrupted save never leaves a broken checkpoint."""
    with atomic_path(path) as temporary:
        torch.save(state, temporary)


def rng_state(generator: torch.Generator) -> dict:
    """Every random state the loop uses (torch CPU/CUDA and the mask/caption generator)."""
    state = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, generator: torch.Generator) -> None:
    """Inverse of rng_state."""
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ---- the run ------------------------------------------------------------------------------------------------------
class Pretraining:
    """One pretraining run: data, model, EMA teacher, optimiser, schedule, checkpoints and CSV log."""

    def __init__(self, config: dict, out_dir: Path, resume: bool = False) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.rank, self.world, self.device = setup_distributed()
        train = config["train"]
        torch.manual_seed(config["seed"] + self.rank)
        if self.device.type == "cpu":
            torch.set_num_threads(train.get("threads", 2))
        data = config["data"]
        distilling = any(config["loss_weights"].get(name, 0) > 0 for name in DISTILLATION)
        self.dataset = PackedDataset(
            data["packed"], "train", data["crop"], data["augment"], config["seed"], teachers=distilling
        )
        self.captions = load_captions(Path(data["captions"]))
        self.generator = torch.Generator().manual_seed(config["seed"] * 1000 + self.rank)
        self.word_vectors = None
        checkpoint_path = self.out_dir / CHECKPOINT
        self.resumed = resume and checkpoint_path.exists()
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True) if self.resumed else None
        if train.get("lock_image") and train.get("lock_text"):
            raise ValueError("train.lock_image and train.lock_text together would leave nothing to train")
        # The weights a run starts from: its own checkpoint when resuming, else the optional `init` checkpoint of
        # another run (architecture, tokenizer and weights; a fresh optimiser and schedule).
        source = checkpoint
        if source is None and config.get("init"):
            source = torch.load(Path(config["init"]), map_location="cpu", weights_only=True)
        for lock in LOCKS:
            if train.get(lock) and source is None:
                raise ValueError(f"train.{lock} needs trained weights to start from: give --init or init in the config")
        if checkpoint is not None:  # resuming: the history this run recorded when it started
            self.started_from = checkpoint["card_extra"]["training"].get("started_from")
        else:
            self.started_from = run_history(source, str(config["init"])) if source is not None else None
        if source is not None:
            self.model_config = GeoMeldConfig.from_dict(source["config"])
            self.tokenizer = TextTokenizer.from_str(source["tokenizer"])
            self.dem_std = float(source["dem_std"])
        else:
            self._prepare_model_config()
        model = build_model(self.model_config)
        if source is None and self.word_vectors is not None:
            model.text.set_word_vectors(self.word_vectors)
        class_tokens = torch.from_numpy(self.tokenizer.encode(list(LULC_CLASSES[1:]), self.model_config.context_length))
        self.objective = PretrainObjective(
            model,
            config["loss_weights"],
            class_tokens,
            self.dem_std,
            self.dataset.teacher_stats,
            (self.tokenizer.start_id, self.tokenizer.end_id),
        ).to(self.device)
        if train.get("channels_last"):
            self.objective.to(memory_format=torch.channels_last)
        if source is not None:
            self.objective.model.load_state_dict(source["model"])
            self.objective.teacher.load_state_dict(source["teacher"])
        for part in self.locked_parts():
            part.requires_grad_(False)
        if train.get("lock_text"):  # the temperature belongs to the text side's calibration
            model.logit_scale.requires_grad_(False)
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [  # no weight decay on biases, norms, GRN and the temperature (parameters with fewer than 2 dims)
                {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": train["weight_decay"]},
                {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
            ],
            lr=train["lr"],
            betas=(0.9, 0.95),
        )
        self.step = 0
        if checkpoint is not None:
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.step = int(checkpoint["step"])
            restore_rng(checkpoint["rng"], self.generator)
        self.wall_before = float(checkpoint["wall_seconds"]) if checkpoint is not None else 0.0
        self.started = time.time()
        self.network = (
            DistributedDataParallel(self.objective, find_unused_parameters=True) if self.world > 1 else self.objective
        )

    def locked_parts(self) -> list[torch.nn.Module]:
        """The tower the config keeps fixed: the image tower (lock_image) or the text tower (lock_text)."""
        model, train = self.objective.model, self.config["train"]
        if train.get("lock_image"):
            return [model.image]
        if train.get("lock_text"):
            return [model.text]
        return []

    def keeps_this_step(self) -> bool:
        """Whether the current step is one of train.keep_steps, whose checkpoints are kept as step_<N>.pt."""
        return self.step in self.config["train"].get("keep_steps", ())

    def _prepare_model_config(self) -> None:
        """Normalisation statistics of the training pack and a tokenizer on its captions, then the architecture.

        With `model.glove_words`, the tokenizer is word-level over the caption words GloVe knows plus its most
        frequent words up to that count, and the text tower reads their frozen GloVe vectors (`training.glove`).
        """
        data, model = self.config["data"], self.config["model"]
        stats_set = PackedDataset(data["packed"], "train", None, False, self.config["seed"])
        mean, std, self.dem_std = normalisation_stats(stats_set, data.get("stats_samples", 2000))
        texts = [text for texts in self.captions.values() for text in texts] + GLOSSARY + list(LULC_CLASSES[1:])
        overrides = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in model.items()
            if key not in ("variant", "vocab_size", "glove_words")
        }
        if model.get("glove_words"):
            self.tokenizer, self.word_vectors = glove_text_setup(texts, model["glove_words"])
            overrides["word_dim"] = self.word_vectors.shape[1]
        else:
            self.tokenizer = TextTokenizer.train(texts, model["vocab_size"])
        self.model_config = GeoMeldConfig.for_variant(
            model["variant"], mean=tuple(mean), std=tuple(std), vocab_size=self.tokenizer.vocab_size, **overrides
        )

    def elapsed(self) -> float:
        """Training wall time in seconds, including the runs this one resumes."""
        return self.wall_before + time.time() - self.started

    def progress(self) -> float:
        """Fraction of the budget used: steps, or wall time against train.max_minutes (single process), if larger.

        The learning-rate and EMA schedules follow it, so a run cut by the time budget still anneals completely;
        it is a function of the restored step and wall time, so it resumes with the run.
        """
        train = self.config["train"]
        done = self.step / max(train["steps"], 1)
        if self.world == 1 and "max_minutes" in train:
            done = max(done, self.elapsed() / (60.0 * train["max_minutes"]))
        return min(done, 1.0)

    def learning_rate(self) -> float:
        """Peak rate x linear warm-up x cosine decay (to 5 %) over the progress."""
        train = self.config["train"]
        warmup = min(1.0, (self.step + 1) / max(train["warmup_steps"], 1))
        return train["lr"] * warmup * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * self.progress())))

    def batches(self) -> Iterator[Batch]:
        """Training batches from the current step on, epoch after epoch (deterministic order, so resumable)."""
        train = self.config["train"]
        sampler = DistributedSampler(
            self.dataset, num_replicas=self.world, rank=self.rank, shuffle=True, seed=self.config["seed"]
        )
        per_epoch = len(self.dataset) // self.world // train["batch_size"]
        if per_epoch == 0:
            raise ValueError(f"the training pack has {len(self.dataset)} samples, fewer than one batch")
        epoch, offset = divmod(self.step, per_epoch)
        while True:
            self.dataset.set_epoch(epoch)
            loader = DataLoader(
                self.dataset,
                batch_sampler=epoch_batches(sampler, epoch, train["batch_size"])[offset:],
                collate_fn=collate,
                num_workers=self.config["data"].get("workers", 0),
                pin_memory=self.device.type == "cuda",
            )
            for collated in loader:
                yield make_batch(
                    collated,
                    self.captions,
                    self.tokenizer,
                    self.model_config.context_length,
                    self.config,
                    self.generator,
                ).to(self.device)
            epoch, offset = epoch + 1, 0

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One optimiser step and EMA update; returns every loss as a float."""
        train = self.config["train"]
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if train.get("bf16") and self.device.type == "cuda"
            else nullcontext()
        )
        if train.get("channels_last"):
            batch.image = batch.image.contiguous(memory_format=torch.channels_last)
        self.objective.model.train()
        for part in self.locked_parts():
            part.eval()
        lr = self.learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with autocast:
            losses = self.network(batch)
        self.optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(self.objective.model.parameters(), train["grad_clip"])
        self.optimizer.step()
        ema = self.config["ema"]
        momentum = ema_momentum(self.progress(), ema["start"], ema["end"])
        ema_update(self.objective.teacher, self.objective.model.image, momentum)
        with torch.no_grad():
            self.objective.model.logit_scale.clamp_(0.0, math.log(100.0))
        self.step += 1
        values = {name: float(value.detach()) for name, value in losses.items()}
        values.update(
            step=self.step,
            lr=lr,
            momentum=momentum,
            logit_scale=float(self.objective.model.logit_scale.detach().exp()),
        )
        return values

    def checkpoint(self, wall_seconds: float) -> None:
        """Write last.pt (rank 0 only), and a copy step_<N>.pt at a step listed in train.keep_steps."""
        if self.rank != 0:
            return
        state = {
            "config": self.model_config.to_dict(),
            "model": self.objective.model.state_dict(),
            "tokenizer": self.tokenizer.to_str(),
            "card_extra": self.card_extra(wall_seconds),
            "teacher": self.objective.teacher.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "rng": rng_state(self.generator),
            "dem_std": self.dem_std,
            "wall_seconds": wall_seconds,
            "run_config": json.dumps(self.config),
        }
        save_checkpoint(self.out_dir / CHECKPOINT, state)
        if self.keeps_this_step():
            copy_atomic(self.out_dir / CHECKPOINT, self.out_dir / f"step_{self.step}.pt")

    def _open_log(self):
        """log.csv opened for appending; on resume, rows after the checkpoint's step are dropped."""
        path = self.out_dir / LOG_NAME
        rows = []
        if self.resumed and path.exists():
            with open(path, newline="") as handle:
                rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= self.step]
        handle = open(path, "w", newline="")  # noqa: SIM115 - closed by run()
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return handle, writer

    def run(self, command: str) -> Path:
        """Train to the configured number of steps, checkpointing; export the model; returns the model folder."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.command = command
        train = self.config["train"]
        self.started = time.time()
        handle, writer = self._open_log() if self.rank == 0 else (None, None)
        try:
            batches = self.batches()
            while self.progress() < 1.0:
                values = self.train_step(next(batches))
                values["seconds"] = round(self.elapsed(), 2)
                if writer is not None:
                    writer.writerow(values)
                    handle.flush()
                if self.step % train["checkpoint_every"] == 0 or self.keeps_this_step() or self.progress() >= 1.0:
                    self.checkpoint(self.elapsed())
        finally:
            if handle is not None:
                handle.close()
        wall = self.elapsed()
        if self.rank != 0:
            return self.out_dir / "model"
        plot_losses(self.out_dir / LOG_NAME, self.out_dir / PLOT_NAME)
        return export_model(
            self.objective.model,
            self.model_config,
            self.tokenizer,
            self.out_dir / "model",
            self.card_extra(wall),
        )

    def card_extra(self, wall_seconds: float) -> dict:
        """Training facts for the model card: command, hardware, wall time, steps, data summary."""
        datasets = {row["dataset"]: row["samples"] for row in self.dataset.summary()}
        return {
            "training": {
                "command": self.command,
                "hardware": hardware_name(self.device),
                "wall_time_seconds": round(wall_seconds, 1),
                "steps": self.step,
                "batch_size": self.config["train"]["batch_size"] * self.world,
                "crop": self.config["data"]["crop"],
                "loss_weights": self.config["loss_weights"],
                "data": {
                    "train_samples": len(self.dataset),
                    "datasets": datasets,
                    "captioned_samples": len(self.captions),
                },
                "config": self.config.get("name", ""),
                **({"started_from": self.started_from} if self.started_from else {}),
            }
        }


def run_history(source: dict, init: str) -> dict:
    """What the model card records of the checkpoint a run starts from: its path, step and training facts (with,
    nested, the run that one started from)."""
    return {"checkpoint": init, "step": int(source["step"]), **source["card_extra"]["training"]}


def pretrain(config: dict, out_dir: Path, resume: bool = False, command: str = "") -> Path:
    """Run (or resume) pretraining into out_dir; returns the exported model folder."""
    return Pretraining(config, out_dir, resume).run(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="run configuration (training/configs/*.json)")
    parser.add_argument("--out", type=Path, help="run folder (default runs/<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    parser.add_argument("--init", type=Path, help="start from another run's checkpoint (overrides the config's init)")
    parser.add_argument("--steps", type=int, help="train this many steps (instead of the config's steps and minutes)")
    parser.add_argument("--threads", type=int, help="override the number of CPU threads")
    parser.add_argument(
        "--keep-step", type=int, action="append", default=[], help="also keep this step's checkpoint as step_<N>.pt"
    )
    parser.add_argument(
        "--loss-weight", type=loss_weight, action="append", default=[], help="NAME=VALUE override (repeatable)"
    )
    args = parser.parse_args(argv)
    config = load_config(args.config, args.steps, args.threads, dict(args.loss_weight))
    if args.init is not None:
        config["init"] = str(args.init)
    config["train"]["keep_steps"] = sorted(set(config["train"].get("keep_steps", [])) | set(args.keep_step))
    out_dir = args.out or Path("runs") / config.get("name", args.config.stem)
    command = shlex.join(["python", "-m", "training.pretrain", *(sys.argv[1:] if argv is None else argv)])
    folder = pretrain(config, out_dir, args.resume, command)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"exported the trained model to {folder}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
