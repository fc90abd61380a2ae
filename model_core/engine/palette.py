"""Class colours: by meaning for land-cover names (water blue, forest green...), distinct palette colours otherwise.

A class name takes the colour of a small land-cover lexicon (after ESA WorldCover and Dynamic World) when one of its
words names an entry ("pine forest", "sandy beach", "open water"; the last such word counts, as English puts the
head noun last), or, for other names, when the model's text embedding puts it clearly nearest one entry. The
embedding is trusted only from a text tower that passes a self-check: it must place most of the lexicon's own words
nearest their entry. Names matching no entry (clusters, "open land") take the palette in order, skipping colours
close to a meaning's colour on the same map; a second name of one meaning ("sea", "lake") gets a shade of its colour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

# Colour-blind friendly qualitative colours (Okabe-Ito, then Tableau 10 extras), cycled for more classes.
PALETTE: tuple[RGB, ...] = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
    (140, 86, 75),
    (127, 127, 127),
    (188, 189, 34),
    (148, 103, 189),
)


@dataclass(frozen=True)
class Meaning:
    """One entry of the land-cover lexicon: the text that stands for it, its colour and the words that name it."""

    text: str
    colour: RGB
    words: frozenset[str]


def _meaning(text: str, colour: RGB, words: str) -> Meaning:
    return Meaning(text, colour, frozenset(words.split()))


LEXICON: tuple[Meaning, ...] = (
    _meaning(
        "water",
        (65, 155, 223),
        "water waters sea seas ocean lake lakes river rivers lagoon lagoons reservoir pond ponds bay estuary canal "
        "stream streams harbour harbor",
    ),
    _meaning(
        "forest",
        (57, 125, 73),
        "forest forests tree trees woodland woodlands wood woods pine pines conifer coniferous deciduous broadleaf "
        "broadleaved plantation jungle",
    ),
    _meaning(
        "grassland",
        (136, 176, 83),
        "grass grasses grassland grasslands pasture pastures meadow meadows lawn lawns rangeland savanna heath "
        "moorland shrub shrubs shrubland scrub vegetation",
    ),
    _meaning(
        "cropland",
        (228, 150, 53),
        "crop crops cropland croplands farmland farmlands farm farms field fields agriculture agricultural arable "
        "cultivated orchard orchards vineyard vineyards paddy rice wheat maize corn",
    ),
    _meaning(
        "built-up area",
        (196, 40, 27),
        "built builtup town towns urban city cities building buildings house houses residential settlement "
        "settlements village villages suburb suburbs industrial road roads street streets",
    ),
    _meaning(
        "bare ground",
        (214, 196, 150),
        "bare sand sandy beach beaches dune dunes desert soil soils rock rocks rocky quarry gravel barren",
    ),
    _meaning(
        "wetland",
        (122, 135, 198),
        "wetland wetlands marsh marshes saltmarsh swamp swamps bog bogs fen fens mangrove mangroves tidal flooded "
        "reeds",
    ),
    _meaning("snow and ice", (200, 235, 250), "snow snowy ice icy glacier glaciers snowfield"),
    _meaning("clouds", (245, 245, 245), "cloud clouds cloudy haze"),
)
# A palette colour closer than this (RGB distance) to a meaning's colour on the same map is skipped.
MIN_DISTANCE = 100.0
# The text embedding names a meaning when it is this much closer to it than to the next one ...
EMBEDDING_MARGIN = 0.05
# ... and only from a text tower that puts at least this share of the lexicon's own words nearest their entry.
SELF_CHECK = 0.8
_TRUSTED: dict[str, bool] = {}


def default_colours(count: int) -> list[RGB]:
    """`count` RGB colours, cycling the palette."""
    return [PALETTE[index % len(PALETTE)] for index in range(count)]


def meaning_by_words(name: str) -> int | None:
    """Index into LEXICON of the last word of `name` that names an entry, or None."""
    for word in reversed(re.findall(r"[a-z]+", name.lower())):
        for index, meaning in enumerate(LEXICON):
            if word in meaning.words:
                return index
    return None


def _nearest(model, texts: Sequence[str]) -> list[int | None]:
    """Per text, the lexicon entry its embedding is clearly nearest (by EMBEDDING_MARGIN), else None."""
    lexicon = model.embed_text([meaning.text for meaning in LEXICON])
    similarity = model.embed_text(list(texts)) @ lexicon.T
    order = np.argsort(-similarity, axis=1)
    rows = np.arange(len(texts))
    margin = similarity[rows, order[:, 0]] - similarity[rows, order[:, 1]]
    return [int(best) if gap >= EMBEDDING_MARGIN else None for best, gap in zip(order[:, 0], margin)]


def embedding_trusted(model) -> bool:
    """Whether a model's text embedding places at least SELF_CHECK of the lexicon's words nearest their own entry
    (checked once per model)."""
    key = str(model.model_id)
    if key not in _TRUSTED:
        words = [(word, index) for index, meaning in enumerate(LEXICON) for word in sorted(meaning.words)]
        found = _nearest(model, [word for word, _ in words])
        _TRUSTED[key] = float(np.mean([hit == index for hit, (_, index) in zip(found, words)])) >= SELF_CHECK
    return _TRUSTED[key]


def meanings(names: Sequence[str], model=None) -> list[int | None]:
    """The LEXICON entry of each class name: by its words, else by its text embedding when `model` is given and
    trusted; None where neither names one."""
    found = [meaning_by_words(name) for name in names]
    unknown = [index for index, hit in enumerate(found) if hit is None]
    if unknown and model is not None and embedding_trusted(model):
        for index, hit in zip(unknown, _nearest(model, [names[i] for i in unknown])):
            found[index] = hit
    return found


def shade(colour: RGB, step: int) -> RGB:
    """The colour for the step-th repeat of a meaning: darker, lighter, darker still..."""
    if step == 0:
        return colour
    amount = 0.3 * ((step + 1) // 2)
    if step % 2:
        return tuple(round(value * max(1.0 - amount, 0.2)) for value in colour)
    return tuple(round(value + (255 - value) * min(amount, 0.8)) for value in colour)


def class_colours(names: Sequence[str], model=None) -> list[RGB]:
    """A colour for each class name: its meaning's colour (shaded for repeats), else the next palette colour not
    close to a meaning's colour given here."""
    found = meanings(names, model)
    colours: list[RGB | None] = []
    for index, hit in enumerate(found):
        colours.append(None if hit is None else shade(LEXICON[hit].colour, found[:index].count(hit)))
    used = [colour for colour in colours if colour is not None]
    position = 0  # the palette's next colour
    for index, colour in enumerate(colours):
        if colour is None:
            ahead = [PALETTE[(position + step) % len(PALETTE)] for step in range(len(PALETTE))]
            step = next((s for s, c in enumerate(ahead) if all(_distance(c, u) >= MIN_DISTANCE for u in used)), 0)
            colours[index] = ahead[step]
            position += step + 1
    return colours


def _distance(a: RGB, b: RGB) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))
