"""GeoMeld's Processing algorithms, one small class per capability."""

from __future__ import annotations

from .batch import BatchEmbedAlgorithm, ZonalEmbeddingsAlgorithm
from .embed import EmbedAlgorithm, PcaPreviewAlgorithm
from .probe import ApplyProbeAlgorithm, TrainProbeAlgorithm
from .query import ChangeDetectionAlgorithm, QueryByExampleAlgorithm, TextQueryAlgorithm
from .regression import ApplyRegressionAlgorithm, TrainRegressionAlgorithm
from .segment import ClustersAlgorithm, VectorizeAlgorithm, ZeroShotSegmentationAlgorithm

ALGORITHMS = (
    EmbedAlgorithm,
    PcaPreviewAlgorithm,
    TrainProbeAlgorithm,
    ApplyProbeAlgorithm,
    ClustersAlgorithm,
    ZeroShotSegmentationAlgorithm,
    TextQueryAlgorithm,
    QueryByExampleAlgorithm,
    ChangeDetectionAlgorithm,
    VectorizeAlgorithm,
    BatchEmbedAlgorithm,
    ZonalEmbeddingsAlgorithm,
    TrainRegressionAlgorithm,
    ApplyRegressionAlgorithm,
)
