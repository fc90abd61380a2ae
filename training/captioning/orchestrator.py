"""Orchestrator agent: gathers the facts of a sample and runs captioner, verifier and evaluator on it."""

from __future__ import annotations

from typing import Any, Optional

from training.data.sample import Sample

from .captioner import CaptionBackend, TemplateCaptioner
from .evaluator import diversity, select
from .facts import Facts, landcover_from_labels, landcover_from_lulc, spectral_facts, terrain_facts
from .geography import latitude_band, region_name, season
from .verifier import verify


def gather_facts(sample: Sample) -> Facts:
    """Evidence of one sample. Class labels are used for the training split only (never validation labels)."""
    meta = sample["meta"]
    valid = sample["valid"]
    labels = list(sample["labels"]) if meta["split"] == "train" else []
    if "lulc" in sample and (sample["lulc"][valid] > 0).any():
        landcover, source = landcover_from_lulc(sample["lulc"][valid]), "lulc"
    elif labels:
        landcover, source = landcover_from_labels(labels), "labels"
    else:
        landcover, source = {}, "none"
    lat, lon, date = meta.get("lat"), meta.get("lon"), meta.get("date")
    facts = Facts(
        dataset=meta["dataset"],
        sample_id=str(meta["id"]),
        split=meta["split"],
        valid_fraction=float(valid.mean()),
        landcover=landcover,
        landcover_source=source,
        labels=labels,
        lat=lat,
        lon=lon,
        region=region_name(lat, lon),
        latitude_band=latitude_band(lat),
        date=date,
        season=season(date, lat),
        **spectral_facts(sample["image"], sample["band_mask"], valid),
    )
    if "dem" in sample:
        for key, value in terrain_facts(sample["dem"]).items():
            setattr(facts, key, value)
    return facts


class Orchestrator:
    """Runs the agents on one sample: facts -> candidate captions -> verification -> evaluation -> record."""

    def __init__(self, backend: Optional[CaptionBackend] = None, candidates: int = 8, keep: int = 3, seed: int = 0):
        self.backend = backend or TemplateCaptioner()
        self.candidates, self.keep, self.seed = candidates, keep, seed

    def run(self, sample: Sample) -> dict[str, Any]:
        """The JSONL record of one sample: accepted captions (best first), rejected ones with reasons, the facts."""
        facts = gather_facts(sample)
        verdicts = [verify(c, facts) for c in self.backend.generate(facts, self.candidates, self.seed)]
        accepted = [v.caption for v in verdicts if v.accepted]
        chosen = select(accepted, facts, self.keep)
        captions = [caption for caption, _ in chosen]
        return {
            "id": facts.sample_id,
            "dataset": facts.dataset,
            "split": facts.split,
            "captions": captions,
            "scores": [scores for _, scores in chosen],
            "diversity": diversity(captions),
            "rejected": [
                {"caption": v.caption, "claims": v.claims, "reasons": v.reasons} for v in verdicts if not v.accepted
            ],
            "claims": {v.caption: v.claims for v in verdicts if v.accepted},
            "facts": facts.to_dict(),
        }
