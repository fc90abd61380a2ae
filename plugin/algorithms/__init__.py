"""GeoMeld's Processing algorithms, one small class per capability."""

from __future__ import annotations

from .embed import EmbedAlgorithm, PcaPreviewAlgorithm
from .query import ChangeDetectionAlgorithm, QueryByExampleAlgorithm, TextQueryAlgorithm
from .segment import ZeroShotSegmentationAlgorithm

ALGORITHMS = (
    EmbedAlgorithm,
    PcaPreviewAlgorithm,
    ZeroShotSegmentationAlgorithm,
    TextQueryAlgorithm,
    QueryByExampleAlgorithm,
    ChangeDetectionAlgorithm,
)
