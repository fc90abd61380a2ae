"""Captioner agent: writes varied candidate captions from facts. The offline template backend is the default; any
object with the CaptionBackend interface (for instance a local LLM wrapper) can replace it, none is required."""

from __future__ import annotations

import zlib
from typing import Optional, Protocol

import numpy as np

from .facts import Facts

LEADS: tuple[str, ...] = (
    "A Sentinel-2 image of",
    "Satellite view of",
    "A multispectral scene showing",
    "An overhead view of",
    "Sentinel-2 imagery of",
    "A satellite image showing",
)
CONNECTORS: tuple[str, ...] = ("with", "next to", "alongside", "bordered by", "interspersed with", "around")
SCENE_WORDS: tuple[str, ...] = ("scene", "landscape", "view", "image")
TERRAIN_PHRASES: dict[str, tuple[str, ...]] = {
    "flat": ("on flat terrain", "on a level plain", "in flat lowland"),
    "gently rolling": ("in gently rolling country", "on gently undulating ground"),
    "hilly": ("in hilly terrain", "among hills"),
    "mountainous": ("in mountainous terrain", "among steep mountains"),
}
# What usually lies next to a theme; used by one template family and NOT checked here: the verifier filters it.
NEIGHBOUR_PRIORS: dict[str, tuple[str, ...]] = {
    "water": ("farmland", "a forest", "a town"),
    "trees": ("a lake", "meadows", "farmland"),
    "crops": ("a village", "a river", "woodland"),
    "built": ("farmland", "a river", "green parks"),
    "grassland": ("forest", "a small lake", "farmland"),
    "wetland": ("open water", "forest"),
    "bare": ("rocky hills", "a dry riverbed"),
    "snow": ("mountains", "frozen lakes"),
    "cloud": ("farmland", "forest"),
    "vegetation": ("a river", "farmland", "a village"),
}


class CaptionBackend(Protocol):
    """Anything that writes candidate captions from facts."""

    def generate(self, facts: Facts, count: int, seed: int) -> list[str]:
        """Up to `count` distinct candidate captions."""
        ...


def sample_seed(sample_id: str, seed: int = 0) -> int:
    """A stable per-sample seed (CRC32 of the id mixed with a global seed)."""
    return (zlib.crc32(sample_id.encode()) + seed) % (2**32)


def _has(facts: Facts, *labels: str) -> bool:
    return any(label in facts.labels for label in labels)


def theme_phrases(theme: str, share: float, facts: Facts) -> tuple[str, ...]:
    """Synonymous noun phrases for a theme, chosen by its share and the labels' detail."""
    if theme == "water":
        if _has(facts, "Marine waters", "Coastal wetlands"):
            return ("the sea", "coastal waters", "the open sea")
        if _has(facts, "River"):
            return ("a river", "a winding river", "a river channel")
        if share >= 0.5:
            return ("open water", "a large lake", "a wide body of water")
        return ("a lake", "a reservoir", "a stretch of water") if share >= 0.1 else ("a small pond", "a small lake")
    if theme == "trees":
        detail = [p for label, p in (("Coniferous forest", "coniferous forest"), ("Broad-leaved forest",
                  "broadleaf woodland"), ("Mixed forest", "mixed forest")) if _has(facts, label)]  # fmt: skip
        dense = ("dense forest", "closed-canopy forest", "extensive woodland")
        return tuple(detail) or (dense if share >= 0.5 else ("patches of woodland", "scattered trees", "small woods"))
    if theme == "crops":
        if _has(facts, "PermanentCrop", "Permanent crops"):
            return ("orchards", "permanent crop plantations")
        return ("farmland", "cropland", "agricultural fields", "a patchwork of fields", "cultivated land")
    if theme == "built":
        if _has(facts, "Highway"):
            return ("a highway", "a major road")
        if _has(facts, "Industrial", "Industrial or commercial units"):
            return ("industrial buildings", "an industrial estate")
        if _has(facts, "Residential", "Urban fabric") or share >= 0.3:
            return ("a residential area", "a town", "built-up areas")
        return ("a few buildings", "a small village", "scattered settlements")
    if theme == "grassland":
        if _has(facts, "Pasture", "Pastures"):
            return ("pastures", "grazing meadows")
        return ("grassland", "meadows", "rangeland", "shrubland")
    if theme == "vegetation":
        return (
            ("dense green vegetation", "lush vegetation") if share >= 0.5 else ("sparse vegetation", "patchy greenery")
        )
    return {
        "bare": ("bare ground", "barren land", "exposed soil"),
        "snow": ("snow cover", "snow-covered land", "ice and snow"),
        "cloud": ("clouds", "cloud cover", "haze"),
        "wetland": ("wetlands", "marshland", "flooded vegetation"),
    }[theme]


def subjects(facts: Facts) -> list[tuple[str, float]]:
    """The themes a caption can talk about, with their shares, largest first."""
    shares = dict(facts.landcover) if facts.landcover_source != "none" else {}
    if not shares:
        shares["vegetation"] = facts.dense_vegetation_fraction + facts.sparse_vegetation_fraction
        shares["bare"] = facts.bare_fraction
    shares["water"] = max(shares.get("water", 0.0), facts.water_fraction)
    shares["snow"] = max(shares.get("snow", 0.0), facts.snow_fraction)
    shares["cloud"] = max(shares.get("cloud", 0.0), facts.cloud_fraction)
    kept = [(theme, share) for theme, share in shares.items() if share >= (0.02 if theme == "water" else 0.1)]
    return sorted(kept, key=lambda kv: -kv[1])


class TemplateCaptioner:
    """Offline captioner: template families x synonym banks, seeded per sample so the output is reproducible."""

    def generate(self, facts: Facts, count: int, seed: int) -> list[str]:
        """Up to `count` distinct captions drawn from every template family."""
        rng = np.random.RandomState(sample_seed(facts.sample_id, seed))
        topics = subjects(facts)
        if not topics:
            return []
        candidates: list[str] = []
        for _ in range(count * 4):
            caption = self._one(facts, topics, rng, len(candidates))
            if caption and caption not in candidates:
                candidates.append(caption)
            if len(candidates) == count:
                break
        return candidates

    def _one(self, facts: Facts, topics: list[tuple[str, float]], rng: np.random.RandomState, n: int) -> Optional[str]:
        def pick(options):
            return options[rng.randint(len(options))]

        phrases = [pick(theme_phrases(theme, share, facts)) for theme, share in topics[:3]]
        where = f" in {facts.region}" if facts.region and rng.rand() < 0.6 else ""
        when = f" in {facts.season}" if facts.season and rng.rand() < 0.6 else ""
        terrain = f" {pick(TERRAIN_PHRASES[facts.slope_class])}" if facts.slope_class and rng.rand() < 0.6 else ""
        family = n % 5
        main = phrases[0]
        if family == 0:
            extra = f" {pick(CONNECTORS)} {phrases[1]}" if len(phrases) > 1 else ""
            return f"{pick(LEADS)} {main}{extra}{where}{when}."
        if family == 1 and len(phrases) > 1:
            return f"{_cap(main)} {pick(CONNECTORS)} {phrases[1]}{terrain}{when}."
        if family == 2:
            return f"This {pick(SCENE_WORDS)} is dominated by {main}{where}{terrain}."
        if family == 3 and len(phrases) > 2:
            return f"{pick(LEADS)} {phrases[0]}, {phrases[1]} and {phrases[2]}{when}."
        neighbour = pick(NEIGHBOUR_PRIORS[topics[0][0]])
        return f"{_cap(main)} {pick(CONNECTORS)} {neighbour}{where}."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
