"""Publish a trained, exported model as the plugin's bundled weights, with its evaluation in the model card.

    python -m training.publish --model runs/cpu_long/model --eval runs/cpu_long/eval/eval.json --out resources/model

Every file is checked against the sha256 in the exported card before it is copied; the card is written last, so
a folder whose card exists is complete.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model_core.atomic import copy_atomic, write_text_atomic
from model_core.paths import BUNDLED_WEIGHTS_DIR
from model_core.runtime import read_card
from training.credits import credits_for

CARD_NAME = "model_card.json"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024


def publish(model_dir: Path, eval_json: Path | None, out_dir: Path) -> Path:
    """Copy the exported model files into out_dir and write its card with the evaluation table added."""
    card = read_card(model_dir)  # verifies every file against its sha256
    total = sum((model_dir / name).stat().st_size for name in card["files"])
    if total > MAX_BUNDLE_BYTES:
        raise ValueError(f"The model files take {total / 2**20:.1f} MiB; the bundle must stay under 50 MiB.")
    if eval_json is not None:
        report = json.loads(eval_json.read_text(encoding="utf-8"))
        card["evaluation"] = {
            "command": f"python -m training.evaluate --weights {model_dir} --out {eval_json.parent}",
            "quick": report.get("quick", False),
            "results": report["results"],
        }
    card["credits"] = credits_for(card)
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = out_dir / CARD_NAME
    if stale.exists():
        stale.unlink()  # the folder is incomplete until the new card is written
    for name in card["files"]:
        copy_atomic(model_dir / name, out_dir / name)
    write_text_atomic(out_dir / CARD_NAME, json.dumps(card, indent=2) + "\n")
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="folder written by training.export")
    parser.add_argument("--eval", type=Path, help="eval.json written by training.evaluate")
    parser.add_argument("--out", type=Path, default=BUNDLED_WEIGHTS_DIR)
    args = parser.parse_args(argv)
    out = publish(args.model, args.eval, args.out)
    print(f"published {args.model} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
