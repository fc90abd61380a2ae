"""The bundled GeoMeld-FM as shipped: every file checksummed, credits of what it learnt from, word meaning."""

from __future__ import annotations

import numpy as np
import pytest

from model_core.runtime import load_model, read_card, sha256_file
from tests.conftest import REPO_ROOT

BUNDLED = REPO_ROOT / "resources" / "model"


@pytest.fixture(scope="module")
def bundled():
    """The bundled model (the test is about the shipped weights, never a stand-in)."""
    return load_model(BUNDLED)


def test_every_bundled_file_is_in_the_card_with_its_checksum() -> None:
    card = read_card(BUNDLED)
    on_disk = {path.name for path in BUNDLED.iterdir() if path.is_file()} - {"model_card.json"}
    assert on_disk == set(card["files"])
    for name, digest in card["files"].items():
        assert sha256_file(BUNDLED / name) == digest, name
    assert sum(path.stat().st_size for path in BUNDLED.iterdir()) < 50 * 2**20


def test_card_credits_the_teachers_and_word_vectors() -> None:
    credits = {entry["name"]: entry for entry in read_card(BUNDLED)["credits"]}
    assert credits["Galileo-Nano encoder (teacher)"]["licence"] == "MIT"
    assert credits["Presto encoder (teacher)"]["licence"] == "MIT"
    assert credits["GloVe 6B 50-d word vectors"]["licence"] == "PDDL-1.0"


@pytest.mark.parametrize(
    ("word", "nearer", "farther"),
    [
        ("woodland", "forest", "water"),
        ("lake", "water", "cropland"),
        ("houses", "residential", "forest"),
    ],
)
def test_words_land_near_their_synonyms(bundled, word: str, nearer: str, farther: str) -> None:
    vectors = np.asarray(bundled.embed_text([word, nearer, farther]))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_common_words_beyond_the_captions_are_known(bundled) -> None:
    for word in ("jungle", "orchards", "motorway"):
        assert bundled.tokenizer.tokens(word) == [word]
