"""Captioning a whole pack into captions.jsonl, with rejection statistics per claim type and per dataset."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable

from model_core.atomic import write_text_atomic
from training.data.packed import PackedDataset
from training.data.sample import SPLITS

from .orchestrator import Orchestrator


def caption_pack(
    pack: os.PathLike, out: os.PathLike, orchestrator: Orchestrator, log: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """Caption every sample of both splits of a pack; write one JSON line per sample atomically; return the records."""
    records = []
    for split in SPLITS:
        dataset = PackedDataset(pack, split)
        for index in range(len(dataset)):
            records.append(orchestrator.run(dataset[index]))
        log(f"  {split}: {len(dataset)} samples captioned")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, "".join(json.dumps(record) + "\n" for record in records))
    return records


def rejection_stats(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Counter]]:
    """Counts of claims made/rejected per claim type and of captions proposed/rejected per dataset."""
    made, failed, proposed, rejected, empty = Counter(), Counter(), Counter(), Counter(), Counter()
    for record in records:
        for claims in record["claims"].values():
            made.update(set(claims))
        for item in record["rejected"]:
            made.update(set(item["claims"]))
            failed.update({reason.split(":")[0] for reason in item["reasons"]})
        proposed[record["dataset"]] += len(record["claims"]) + len(record["rejected"])
        rejected[record["dataset"]] += len(record["rejected"])
        empty[record["dataset"]] += not record["captions"]
    return {
        "claims": {"made": made, "rejected": failed},
        "datasets": {"proposed": proposed, "rejected": rejected, "without_caption": empty},
    }


def summary_text(records: list[dict[str, Any]]) -> str:
    """Rejection rates per claim type and per dataset as text tables."""
    stats = rejection_stats(records)
    made, failed = stats["claims"]["made"], stats["claims"]["rejected"]
    lines = [f"{'claim':12s} {'made':>6s} {'rejected':>8s} {'rate':>6s}"]
    for claim in sorted(made, key=lambda c: -made[c]):
        lines.append(f"{claim:12s} {made[claim]:6d} {failed[claim]:8d} {failed[claim] / made[claim]:6.1%}")
    proposed, rejected, empty = (stats["datasets"][k] for k in ("proposed", "rejected", "without_caption"))
    lines.append(f"\n{'dataset':28s} {'captions':>8s} {'rejected':>8s} {'rate':>6s} {'no caption':>10s}")
    for name in proposed:
        rate = rejected[name] / proposed[name] if proposed[name] else 0.0
        lines.append(f"{name:28s} {proposed[name]:8d} {rejected[name]:8d} {rate:6.1%} {empty[name]:10d}")
    return "\n".join(lines)
