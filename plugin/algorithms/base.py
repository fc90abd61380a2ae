"""Shared behaviour of GeoMeld's Processing algorithms: errors, progress, the input raster and the model."""

from __future__ import annotations

import os
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtGui import QIcon

from ...model_core.feedback import Feedback
from ..i18n import tr
from ..settings import apply_engine_settings, configured_model, embedding_cache, load_settings
from ..tasks import error_message, processing_feedback

ICON = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "resources", "icons", "geomeld.svg")
INPUT = "INPUT"
BANDS = "BANDS"


class GeoMeldAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses declare parameters and implement `execute`, which calls one engine function."""

    def createInstance(self) -> GeoMeldAlgorithm:
        """A fresh instance (Processing needs one per run)."""
        return type(self)()

    def icon(self) -> QIcon:
        """GeoMeld's icon."""
        return QIcon(ICON)

    def add_raster_input(self, description: str | None = None) -> None:
        """Add the Sentinel raster input and the optional band list."""
        self.addParameter(QgsProcessingParameterRasterLayer(INPUT, description or tr("Sentinel-2 raster")))
        bands = QgsProcessingParameterString(
            BANDS,
            tr("Band names in file order (e.g. B02,B03,B04,B08 or eurosat, l1c, l2a; empty: detect)"),
            optional=True,
        )
        self.addParameter(bands)

    def raster_path(self, parameters: dict[str, Any], context: QgsProcessingContext, name: str = INPUT) -> str:
        """The file path of a raster layer parameter."""
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            raise QgsProcessingException(tr("Choose a raster layer."))
        return layer.source()

    def open_input(
        self, parameters: dict[str, Any], context: QgsProcessingContext, name: str = INPUT, bands_name: str = BANDS
    ):
        """Open an input raster with its bands mapped (GeoMeld errors explain bad rasters)."""
        from ...model_core.io import open_raster

        bands = self.parameterAsString(parameters, bands_name, context).strip() or None
        return open_raster(self.raster_path(parameters, context, name), bands=bands)

    def model(self):
        """GeoMeld-FM with the user's weights, device and threads; the embedding cache and tiles follow the settings."""
        settings = load_settings()
        apply_engine_settings(settings)
        return configured_model(settings)

    def cache(self):
        """The embedding cache configured in the settings."""
        return embedding_cache()

    def optional_output(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext) -> str | None:
        """The path of an optional output, or None when the user skipped it."""
        if parameters.get(name) is None:
            return None
        return self.parameterAsOutputLayer(parameters, name, context) or None

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run the engine call; every error (cancel included) becomes a one-sentence QgsProcessingException."""
        try:
            return self.execute(parameters, context, processing_feedback(feedback))
        except QgsProcessingException:
            raise
        except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
            raise QgsProcessingException(error_message(exc)) from None

    def execute(self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: Feedback) -> dict[str, Any]:
        """Do the work; subclasses implement this."""
        raise NotImplementedError
