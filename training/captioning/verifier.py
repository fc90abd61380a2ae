"""Verification agent: parses the claims a caption makes and checks each against the facts with explicit thresholds.

A caption with any unsupported claim is rejected. Claims need evidence: a forest, crop, built-up, wetland or
grassland claim needs land-cover evidence (LULC or class labels); a terrain claim needs a DEM; a season claim needs
the acquisition date. Captions are affirmative descriptions: negations ("no water") are not parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from .facts import Facts
from .themes import MARINE_LABELS

# Minimum evidence per claim (fractions of valid pixels or of label shares; metres; degrees).
WATER_MIN = 0.02
SEA_MIN = 0.25
LANDCOVER_MIN = 0.1
BUILT_INDEX_MIN = 0.3
VEGETATION_MIN = 0.15
SNOW_MIN = 0.1
CLOUD_MIN = 0.1
BARE_MIN = 0.2
MOUNTAIN_RELIEF_M, MOUNTAIN_SLOPE_DEG = 300.0, 15.0
HILLY_RELIEF_M, HILLY_SLOPE_DEG = 40.0, 2.0
FLAT_RELIEF_M, FLAT_SLOPE_DEG = 40.0, 2.0

# Claim type -> word pattern (matched on lower-case text at word starts).
CLAIM_PATTERNS: dict[str, str] = {
    "water": r"water|lakes?\b|ponds?\b|reservoirs?|rivers?|streams?|lagoons?|channels?|canals?",
    "sea": r"sea\b|seas\b|ocean|coast|shore|marine|bay\b",
    "forest": r"forest|woodland|wooded|trees?\b|tree cover|conifer|broad-?leaved|canopy|timber",
    "crops": r"crop|farm|fields?\b|arable|agricultur|cultivat|orchard|plantation|tilled",
    "built": r"urban|town|city|village|built|buildings?|settlement|residential|industrial|highway|roads?\b|suburb",
    "snow": r"snow|ice\b|icy|glacier|frozen",
    "cloud": r"cloud|haze|hazy|overcast",
    "bare": r"bare|barren|desert|sand|rock|exposed soil",
    "wetland": r"wetland|marsh|swamp|bog\b|fen\b|flooded vegetation",
    "grassland": r"grass|pasture|meadow|rangeland|shrub|heath|moor",
    "vegetation": r"vegetation|vegetated|green cover|verdant|greenery",
    "mountains": r"mountain|alpine|steep",
    "hilly": r"hill|rolling|undulating",
    "flat": r"flat|plains?\b|lowland|level terrain",
    "season": r"winter|spring\b|summer|autumn|fall\b",
}
_COMPILED = {claim: re.compile(r"\b(?:" + pattern + ")") for claim, pattern in CLAIM_PATTERNS.items()}
_SEASON = re.compile(r"\b(winter|spring|summer|autumn|fall)\b")


@dataclass
class Verdict:
    """Result of verifying one caption: the claims found and, for rejected ones, why."""

    caption: str
    claims: list[str]
    reasons: list[str]

    @property
    def accepted(self) -> bool:
        """True when every claim is supported."""
        return not self.reasons


def parse_claims(caption: str) -> list[str]:
    """Claim types a caption makes, in CLAIM_PATTERNS order ('gently rolling' is hilly, not flat)."""
    text = caption.lower()
    return [claim for claim, pattern in _COMPILED.items() if pattern.search(text)]


def _cover(facts: Facts, theme: str) -> float:
    return facts.landcover.get(theme, 0.0)


def _need(value: Optional[float], minimum: float, what: str) -> Optional[str]:
    if value is None:
        return f"no evidence for {what}"
    return None if value >= minimum else f"{what} {value:.2f} < {minimum}"


def _water(f: Facts) -> Optional[str]:
    return _need(f.water_fraction, WATER_MIN, "water fraction (optical/radar/land cover)")


def _sea(f: Facts) -> Optional[str]:
    if MARINE_LABELS & set(f.labels):
        return None
    return _need(f.water_fraction, SEA_MIN, "water fraction for sea/coast")


def _landcover(theme: str) -> Callable[[Facts], Optional[str]]:
    def check(f: Facts) -> Optional[str]:
        if f.landcover_source == "none":
            return f"no land-cover evidence for {theme}"
        return _need(_cover(f, theme), LANDCOVER_MIN, f"{theme} land cover")

    return check


def _built(f: Facts) -> Optional[str]:
    if f.landcover_source != "none":
        return _need(_cover(f, "built"), LANDCOVER_MIN, "built land cover")
    return _need(f.builtup_index_fraction, BUILT_INDEX_MIN, "built-up index fraction")


def _either(theme: str, index_value: Callable[[Facts], float], minimum: float) -> Callable[[Facts], Optional[str]]:
    def check(f: Facts) -> Optional[str]:
        value = max(_cover(f, theme), index_value(f))
        return _need(value, minimum, f"{theme} fraction (land cover or index)")

    return check


def _vegetation(f: Facts) -> Optional[str]:
    green = f.dense_vegetation_fraction + f.sparse_vegetation_fraction
    covered = sum(_cover(f, t) for t in ("trees", "crops", "grassland", "wetland"))
    return _need(max(green, covered), VEGETATION_MIN, "vegetated fraction")


def _terrain(kind: str) -> Callable[[Facts], Optional[str]]:
    def check(f: Facts) -> Optional[str]:
        if f.relief is None or f.slope_mean_deg is None:
            return f"no elevation data for a {kind} claim"
        relief, slope = f.relief, f.slope_mean_deg
        ok = {
            "mountains": relief >= MOUNTAIN_RELIEF_M or slope >= MOUNTAIN_SLOPE_DEG,
            "hilly": relief >= HILLY_RELIEF_M or slope >= HILLY_SLOPE_DEG,
            "flat": relief < FLAT_RELIEF_M and slope < FLAT_SLOPE_DEG,
        }[kind]
        return None if ok else f"terrain is not {kind} (relief {relief:.0f} m, slope {slope:.1f} deg)"

    return check


def _season_check(caption: str) -> Callable[[Facts], Optional[str]]:
    def check(f: Facts) -> Optional[str]:
        word = _SEASON.search(caption.lower()).group(1)
        said = "autumn" if word == "fall" else word
        if f.season is None:
            return f"season '{said}' claimed without a known date"
        return None if said == f.season else f"season '{said}' but the image is from {f.season}"

    return check


CHECKS: dict[str, Callable[[Facts], Optional[str]]] = {
    "water": _water,
    "sea": _sea,
    "forest": _landcover("trees"),
    "crops": _landcover("crops"),
    "built": _built,
    "snow": _either("snow", lambda f: f.snow_fraction, SNOW_MIN),
    "cloud": _either("cloud", lambda f: f.cloud_fraction, CLOUD_MIN),
    "bare": _either("bare", lambda f: f.bare_fraction, BARE_MIN),
    "wetland": _landcover("wetland"),
    "grassland": _landcover("grassland"),
    "vegetation": _vegetation,
    "mountains": _terrain("mountains"),
    "hilly": _terrain("hilly"),
    "flat": _terrain("flat"),
}


def verify(caption: str, facts: Facts) -> Verdict:
    """Check every claim of a caption; the verdict lists one reason per unsupported claim."""
    claims = parse_claims(caption)
    reasons = []
    for claim in claims:
        check = _season_check(caption) if claim == "season" else CHECKS[claim]
        reason = check(facts)
        if reason:
            reasons.append(f"{claim}: {reason}")
    return Verdict(caption, claims, reasons)
