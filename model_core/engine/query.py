"""Free-text queries over a raster's cached embedding: calibrated heatmap, hit mask, ranked places and polygons."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..defaults import DEFAULT_THRESHOLD, DEFAULT_TOP_K
from ..feedback import Feedback
from ..io import SentinelRaster, open_raster
from .codebook import score_by_codebook
from .context import EngineContext
from .embedding import EmbeddingResult, embed_raster
from .hits import QueryOutputs, QueryResult, check_threshold
from .prompts import text_scorer
from .scoremap import Grid, score_embeddings

# Share of the progress bar spent embedding; a cached embedding leaves the whole bar to the rest of the job.
EMBED_SHARE = 80.0


def after_embedding(feedback: Feedback, embedding: EmbeddingResult, end: float = 95.0) -> Feedback:
    """The feedback of a job's work after embedding: from EMBED_SHARE, or from 0 when the embedding came from the
    cache (indexing or scoring is then the whole job, and the bar says so), up to `end`."""
    return feedback.scaled(0.0 if embedding.cached else EMBED_SHARE, end)


def as_raster(raster: SentinelRaster | str | os.PathLike) -> SentinelRaster:
    """A SentinelRaster as given, or opened from a path."""
    return raster if isinstance(raster, SentinelRaster) else open_raster(raster)


def text_query(
    raster: SentinelRaster | str | os.PathLike,
    context: EngineContext,
    text: str,
    out_heatmap: str | os.PathLike,
    *,
    mask_out: str | os.PathLike | None = None,
    polygons_out: str | os.PathLike | None = None,
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = None,
    negatives: Sequence[str] = (),
    exact: bool = False,
) -> QueryResult:
    """Heatmap (0..1) of how well each pixel matches `text`, with hit mask, polygons and the top-k places.

    The text may carry negatives ("water, not sea"); `negatives` adds more. Scores are a softmax over the query's
    prompts and background land-cover prompts, so the default threshold 0.5 means the same for every query.
    Pixels are scored through the embedding's codebook (built at the first query, then reused): each pixel takes
    the score of its nearest of 4096 centroids. `exact` scores every pixel's own embedding instead (seconds, not
    milliseconds, on large rasters).
    """
    model, feedback = context.model, context.feedback
    outputs = QueryOutputs(out_heatmap, mask_out, polygons_out, top_k)
    outputs.check([raster])
    threshold = check_threshold(threshold)
    scorer = text_scorer(model, text, negatives)
    raster = as_raster(raster)
    embedding = embed_raster(raster, context.scaled(0, EMBED_SHARE))
    scoring = after_embedding(feedback, embedding)
    heat = (
        score_embeddings([embedding.path], scorer, scoring)
        if exact
        else score_by_codebook(embedding.path, scorer, scoring)
    )
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    details = {
        "query": text,
        "positives": " | ".join(scorer.positives),
        "background": " | ".join(scorer.background),
        "scoring": "exact" if exact else "codebook",
    }
    return outputs.finish(context, heat, Grid.of(embedding.path), threshold, details, embedding.cached)
