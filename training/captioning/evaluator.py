"""Evaluator agent: scores verified captions (key-fact coverage, specificity, fluency) and keeps a diverse best few."""

from __future__ import annotations

import re

from .facts import Facts
from .verifier import parse_claims

# Claim type -> theme it covers.
CLAIM_THEME: dict[str, str] = {
    "water": "water",
    "sea": "water",
    "forest": "trees",
    "crops": "crops",
    "built": "built",
    "snow": "snow",
    "cloud": "cloud",
    "bare": "bare",
    "wetland": "wetland",
    "grassland": "grassland",
    "vegetation": "vegetation",
}
CONTEXT_CLAIMS = frozenset({"mountains", "hilly", "flat", "season"})
WEIGHTS = {"coverage": 0.5, "specificity": 0.3, "fluency": 0.2}
GOOD_LENGTH = (6, 22)  # words
DIVERSITY_PENALTY = 0.5
_WORD = re.compile(r"[a-z][a-z-]+")


def key_themes(facts: Facts) -> set[str]:
    """Themes a good caption should mention: the main land covers plus conspicuous water, snow or cloud."""
    themes = set(facts.dominant(0.2))
    if facts.landcover_source == "none":
        if facts.dense_vegetation_fraction + facts.sparse_vegetation_fraction >= 0.4:
            themes.add("vegetation")
        if facts.bare_fraction >= 0.4:
            themes.add("bare")
    for theme, value in (
        ("water", facts.water_fraction),
        ("snow", facts.snow_fraction),
        ("cloud", facts.cloud_fraction),
    ):
        if value >= 0.2:
            themes.add(theme)
    return themes


def words(caption: str) -> list[str]:
    """Lower-case words of a caption."""
    return _WORD.findall(caption.lower())


def score(caption: str, facts: Facts) -> dict[str, float]:
    """Coverage, specificity, fluency and their weighted total, each in 0..1."""
    claims = parse_claims(caption)
    wanted = key_themes(facts)
    covered = {CLAIM_THEME[c] for c in claims if c in CLAIM_THEME}
    coverage = len(wanted & covered) / len(wanted) if wanted else 1.0
    context = sum(c in CONTEXT_CLAIMS for c in claims) + (facts.region is not None and facts.region in caption)
    specificity = min(1.0, (len(covered) + context) / 4)
    tokens = words(caption)
    low, high = GOOD_LENGTH
    length_score = 1.0 if low <= len(tokens) <= high else max(0.0, 1 - abs(len(tokens) - (low + high) / 2) / high)
    content = [t for t in tokens if len(t) > 3]
    repetition = 1 - (len(content) - len(set(content))) / max(1, len(content))
    fluency = length_score * repetition
    parts = {"coverage": coverage, "specificity": specificity, "fluency": fluency}
    parts["total"] = sum(WEIGHTS[k] * v for k, v in parts.items())
    return {k: round(v, 4) for k, v in parts.items()}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the word sets of two captions."""
    first, second = set(words(a)), set(words(b))
    return len(first & second) / max(1, len(first | second))


def select(captions: list[str], facts: Facts, keep: int) -> list[tuple[str, dict[str, float]]]:
    """Greedy choice of `keep` captions maximising score minus DIVERSITY_PENALTY x similarity to those already kept."""
    scored = {caption: score(caption, facts) for caption in captions}
    chosen: list[str] = []
    remaining = list(captions)
    while remaining and len(chosen) < keep:

        def value(caption: str) -> float:
            overlap = max((similarity(caption, c) for c in chosen), default=0.0)
            return scored[caption]["total"] - DIVERSITY_PENALTY * overlap

        best = max(remaining, key=value)
        chosen.append(best)
        remaining.remove(best)
    return [(caption, scored[caption]) for caption in chosen]


def diversity(captions: list[str]) -> float:
    """Mean pairwise (1 - similarity) of a sample's captions; 0 for fewer than two."""
    pairs = [(a, b) for i, a in enumerate(captions) for b in captions[i + 1 :]]
    return round(sum(1 - similarity(a, b) for a, b in pairs) / len(pairs), 4) if pairs else 0.0
