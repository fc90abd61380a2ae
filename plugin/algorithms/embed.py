"""Processing algorithm: per-pixel embeddings of a Sentinel raster."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from ...model_core.defaults import MAX_STRIDE
from ..i18n import tr
from .base import OUTPUT, GeoMeldAlgorithm

STRIDE = "STRIDE"


class EmbedAlgorithm(GeoMeldAlgorithm):
    """Compute the embedding raster (one band per embedding dimension)."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "embed"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Compute embeddings")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Computes a GeoMeld-FM embedding for every pixel (or every STRIDE-th pixel) of a Sentinel-2 raster and "
            "writes it as a multi-band GeoTIFF. Results are cached, so later probes, clusters and text queries on the "
            "same raster are fast. Band names are read from the file; type them in file order when they are missing."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(
            QgsProcessingParameterNumber(
                STRIDE,
                tr("Stride (1 = every pixel, 4 = one embedding per 4x4 pixels)"),
                minValue=1,
                maxValue=MAX_STRIDE,
                defaultValue=1,
            )
        )
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Embedding raster")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.codebook import embed_for_queries

        raster = self.open_input(parameters, context)
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        stride = self.parameterAsInt(parameters, STRIDE, context)
        result = embed_for_queries(raster, self.engine(), out_path, stride=stride)
        feedback.info(
            tr("Embedding of {0} x {1} px, {2} dimensions{3}.").format(
                result.width, result.height, result.dim, tr(" (from the cache)") if result.cached else ""
            )
        )
        return {OUTPUT: str(result.path)}


class PcaPreviewAlgorithm(GeoMeldAlgorithm):
    """RGB picture of the embeddings: their first three principal components."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "pca_preview"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Embedding colour preview (PCA)")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Shows what the model sees: the embeddings of the raster (computed or taken from the cache) are reduced "
            "to their three main directions (PCA) and written as an RGB image. Areas of similar colour have similar "
            "embeddings, so fields, forests, water and towns usually stand out."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("PCA colour preview")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.embedding import embed_raster
        from ...model_core.engine.pca import pca_preview

        raster = self.open_input(parameters, context)
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        embedding = embed_raster(raster, self.engine().scaled(0, 85))
        return {OUTPUT: str(pca_preview(embedding.path, out_path, feedback=feedback.scaled(85, 100)))}
