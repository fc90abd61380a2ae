"""Text prompts: query parsing ("water, not sea"), template ensembling and the bank of background land-cover phrases.

A text query is scored per pixel against its own prompts *and* a set of background phrases; the softmax over both
makes the score a probability-like 0..1 value whose meaning does not depend on the query (0.5 = more like the
query than like any ordinary land cover).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import QueryInputError
from ..linalg import matmul
from ..tokenizer import UNK as UNKNOWN_TOKEN

# Several phrasings per query; their text embeddings are averaged (prompt ensembling).
TEMPLATES: tuple[str, ...] = (
    "a satellite image of {}",
    "{} seen from above",
    "an aerial view of {}",
    "a Sentinel-2 image showing {}",
    "a remote sensing image of {}",
)
# Generic land-cover phrases; the ones least similar to a query form its background.
BACKGROUND_BANK: tuple[str, ...] = (
    "dense forest",
    "coniferous forest",
    "broadleaf woodland",
    "shrubland",
    "grassland",
    "pasture",
    "annual cropland",
    "ploughed bare fields",
    "orchards and vineyards",
    "rice paddies",
    "wetland and marsh",
    "river",
    "lake",
    "open sea",
    "sandy beach",
    "bare rock",
    "desert sand",
    "snow and ice",
    "clouds",
    "cloud shadow",
    "dense city centre",
    "suburban houses",
    "industrial buildings",
    "highway",
    "railway",
    "airport",
    "quarry or open-pit mine",
    "greenhouses",
    "sports fields and parks",
    "burnt area",
    "mountain slopes",
    "harbour with ships",
)
BACKGROUND_SIZE = 20
# Leading words that turn a comma-separated part of a query into a negative prompt.
_NEGATION = re.compile(r"^(?:not|no|without|except|excluding)\s+", re.IGNORECASE)

# Ensembled embeddings per (model id, phrase); text encoding is cheap but a query needs ~30 phrases.
_PHRASE_CACHE: dict[tuple[str, str], np.ndarray] = {}
_PHRASE_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class ParsedQuery:
    """The positive phrases of a query and the negative ones ("water, not sea" -> ('water',), ('sea',))."""

    positives: tuple[str, ...]
    negatives: tuple[str, ...]


def parse_query(text: str, negatives: Sequence[str] = ()) -> ParsedQuery:
    """Split a query into positive and negative phrases; extra negatives (e.g. --negative sea) are appended."""
    if text is None or not str(text).strip():
        raise QueryInputError("The query text is empty; type what to look for, e.g. 'flooded fields'.")
    raw = str(text)
    positives: list[str] = []
    negative_list: list[str] = []
    # "a but not b" -> "a", "not b"
    raw = re.sub(r"\bbut not\b", ", not", raw, flags=re.IGNORECASE)
    for part in re.split(r"[,;]", raw):
        phrase = " ".join(part.split())
        if not phrase:
            continue
        stripped = _NEGATION.sub("", phrase)
        (negative_list if stripped != phrase else positives).append(stripped)
    negative_list.extend(" ".join(str(n).split()) for n in negatives if str(n).strip())
    if not positives:
        raise QueryInputError(f"The query '{text}' only says what to exclude; add what to look for, e.g. 'water'.")
    return ParsedQuery(_unique(positives), tuple(n for n in _unique(negative_list) if n not in positives))


def parse_class_list(text: str | Sequence[str]) -> list[str]:
    """Class names from 'water,forest,cropland' or a list; at least two distinct names."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = list(_unique(" ".join(str(item).split()) for item in items if str(item).strip()))
    if len(names) < 2:
        raise QueryInputError(
            "Zero-shot segmentation needs at least two class names separated by commas, e.g. 'water,forest'."
        )
    return names


def check_texts(model, texts: Sequence[str]) -> None:
    """Raise QueryInputError (one clear sentence) for an empty, too long or unrepresentable query text."""
    tokenizer = model.tokenizer
    limit = int(model.context_length) - 2
    for text in texts:
        if not text or not text.strip():
            raise QueryInputError("A query text is empty; type what to look for, e.g. 'flooded fields'.")
        unknown = [word for word in text.split() if UNKNOWN_TOKEN in tokenizer.tokens(word)]
        if unknown:
            raise QueryInputError(
                f"The query '{text}' contains characters the model's vocabulary cannot represent "
                f"({' '.join(unknown)}); use plain words, e.g. 'flooded fields'."
            )
        longest = max(len(tokenizer.tokens(template.format(text))) for template in TEMPLATES)
        overhead = longest - len(tokenizer.tokens(text))
        if longest > limit:
            raise QueryInputError(
                f"The query '{text[:40]}' is too long: use at most {limit - overhead} word pieces "
                f"(it has {len(tokenizer.tokens(text))})."
            )


def phrase_embeddings(model, phrases: Sequence[str]) -> np.ndarray:
    """(N, D) L2-normalised text embeddings, each the mean over TEMPLATES of one phrase."""
    missing = [p for p in _unique(phrases) if (model.model_id, p) not in _PHRASE_CACHE]
    if missing:
        texts = [template.format(phrase) for phrase in missing for template in TEMPLATES]
        encoded = np.asarray(model.embed_text(texts), dtype=np.float32).reshape(len(missing), len(TEMPLATES), -1)
        if len(_PHRASE_CACHE) + len(missing) > _PHRASE_CACHE_LIMIT:
            _PHRASE_CACHE.clear()
        for phrase, vectors in zip(missing, encoded):
            _PHRASE_CACHE[(model.model_id, phrase)] = _normalise(vectors.mean(axis=0))
    return np.stack([_PHRASE_CACHE[(model.model_id, p)] for p in phrases]).astype(np.float32)


def background_phrases(
    model, positives: Sequence[str], size: int = BACKGROUND_SIZE, bank: Sequence[str] = BACKGROUND_BANK
) -> list[str]:
    """The `size` bank phrases least similar to the query (none sharing a word with it)."""
    words = {w for p in positives for w in _words(p)}
    candidates = [b for b in bank if not (_words(b) & words)]
    query = phrase_embeddings(model, positives)
    similarity = (phrase_embeddings(model, candidates) @ query.T).max(axis=1)
    order = np.argsort(similarity, kind="stable")
    return [candidates[i] for i in sorted(order[:size])]


@dataclass(frozen=True)
class TextScorer:
    """Per-pixel query probability: softmax with the model's logit scale over query + background embeddings."""

    vectors: np.ndarray  # (P + K, D) positives first
    n_positive: int
    logit_scale: float
    positives: tuple[str, ...]
    background: tuple[str, ...]

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """(N, D) L2-normalised pixel embeddings -> (N,) probability of the query (sum over its phrases)."""
        weights = self._exp_logits(pixels)
        return weights[:, : self.n_positive].sum(axis=1) / weights.sum(axis=1)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """(N, D) pixel embeddings -> (N, P + K) softmax probabilities."""
        weights = self._exp_logits(pixels)
        weights /= weights.sum(axis=1, keepdims=True)
        return weights

    def _exp_logits(self, pixels: np.ndarray) -> np.ndarray:
        """exp(logit - max logit) per pixel and prompt (the softmax numerators)."""
        logits = matmul(pixels, self.logit_scale * self.vectors.T)
        logits -= logits.max(axis=1, keepdims=True)
        return np.exp(logits, out=logits)


def text_scorer(model, text: str, negatives: Sequence[str] = ()) -> TextScorer:
    """Validate and embed a query; negatives join the background side of the softmax."""
    parsed = parse_query(text, negatives)
    check_texts(model, parsed.positives + parsed.negatives)
    background = _unique(tuple(background_phrases(model, parsed.positives)) + parsed.negatives)
    vectors = phrase_embeddings(model, parsed.positives + background)
    return TextScorer(vectors, len(parsed.positives), float(model.logit_scale), parsed.positives, background)


def class_scorer(model, classes: Sequence[str]) -> TextScorer:
    """Scorer over class names only (zero-shot segmentation); probabilities() gives one column per class."""
    names = tuple(parse_class_list(classes))
    check_texts(model, names)
    return TextScorer(phrase_embeddings(model, names), len(names), float(model.logit_scale), names, ())


def _normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def _unique(items) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)
