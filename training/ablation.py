"""Ablation of the teachers: `python -m training.ablation --config CONFIG --steps N [--out runs/ablation]`.

Trains the same recipe four times for the same number of steps, without teachers, with Galileo-Nano alone, with
Presto alone and with both, evaluates each (`training.evaluate --quick`, without the teacher rows) and writes
`ablation.md`: the main rows of every run side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model_core.atomic import write_text_atomic
from training.data.base import shared_data_dir
from training.evaluate import evaluate
from training.pretrain import load_config, pretrain

GALILEO_TERMS = ("distil_tokens", "distil_pooled")
PRESTO_TERMS = ("distil_pixels",)
VARIANTS: dict[str, tuple[str, ...]] = {
    "no teacher": (),
    "Galileo-Nano only": GALILEO_TERMS,
    "Presto only": PRESTO_TERMS,
    "both teachers": GALILEO_TERMS + PRESTO_TERMS,
}
ROWS: tuple[tuple[str, str], ...] = (
    ("EuroSAT linear probe", "accuracy (5-fold CV)"),
    ("EuroSAT 5-shot", "accuracy (mean of 3 seeds)"),
    ("BigEarthNet v2 multi-label", "micro F1"),
    ("EuroSAT zero-shot", "accuracy"),
    ("Sen1Floods11 water", "IoU"),
)


def variant_weights(config: dict, kept: Sequence[str]) -> dict[str, float]:
    """The config's distillation weights with every term not in `kept` set to 0."""
    return {
        name: (value if name in kept else 0.0) for name, value in config["loss_weights"].items() if "distil" in name
    }


def run(config_path: Path, steps: int, out: Path, threads: int | None = None) -> Path:
    """Train and evaluate every variant into `out/<n>/`; returns the path of ablation.md."""
    base = load_config(config_path, steps, threads)
    table: dict[str, dict[str, float]] = {}
    for index, (name, kept) in enumerate(VARIANTS.items()):
        folder = out / str(index)
        config = load_config(config_path, steps, threads, variant_weights(base, kept))
        model = folder / "model"
        if not (model / "model_card.json").exists():
            pretrain(config, folder, resume=True, command=f"python -m training.ablation ({name})")
        results = evaluate(model, shared_data_dir(), Path(config["data"]["packed"]), quick=True, log=lambda m: None)
        write_text_atomic(folder / "eval.json", json.dumps([r.__dict__ for r in results], indent=1))
        table[name] = {(r.task, r.metric): r.value for r in results if r.method.startswith("GeoMeld-FM")}
    lines = ["| task | metric | " + " | ".join(VARIANTS) + " |", "|---|---|" + "---:|" * len(VARIANTS)]
    for task, metric in ROWS:
        values = " | ".join(f"{table[name].get((task, metric), float('nan')):.3f}" for name in VARIANTS)
        lines.append(f"| {task} | {metric} | {values} |")
    header = f"# Teacher ablation\n\n`{config_path}`, {steps} steps each, quick evaluation on validation data.\n\n"
    return write_text_atomic(out / "ablation.md", header + "\n".join(lines) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.ablation", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="the recipe (training/configs/*.json)")
    parser.add_argument("--steps", type=int, required=True, help="training steps of every variant")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"), help="output folder")
    parser.add_argument("--threads", type=int, help="CPU threads of each run")
    args = parser.parse_args(argv)
    print(run(args.config, args.steps, args.out, args.threads).read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
