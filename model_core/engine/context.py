"""What an engine job runs with: the model, the embedding cache, the tile size of embeddings, progress and cancel.

The command line builds it from its options (environment variables only as their defaults) and the plugin from its
settings; engine functions take it whole, so no job reads the environment or makes an embedding cache of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..defaults import DEFAULT_TILE
from ..feedback import Feedback
from ..runtime import GeoMeldModel
from .cache import EmbeddingCache


@dataclass(frozen=True)
class EngineContext:
    """The model, the embedding cache (None: an embedding is only written where the job names a file), the tile size
    of embedding runs in px, and the feedback that reports the job's progress and tells it when it is cancelled."""

    model: GeoMeldModel
    cache: EmbeddingCache | None = None
    tile_size: int = DEFAULT_TILE
    feedback: Feedback = field(default_factory=Feedback)

    def scaled(self, start: float, end: float) -> EngineContext:
        """The same context for a step of the job: its progress 0-100 maps onto start-end of this one's."""
        return replace(self, feedback=self.feedback.scaled(start, end))

    def uncached(self) -> EngineContext:
        """The same context without the embedding cache (for embeddings written only to a file the job names)."""
        return replace(self, cache=None)
