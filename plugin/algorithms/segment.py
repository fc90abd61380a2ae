"""Processing algorithms producing class maps without training: zero-shot from class names."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsProcessingParameterRasterDestination, QgsProcessingParameterString

from ..i18n import tr
from .base import GeoMeldAlgorithm

CLASSES = "CLASSES"
OUTPUT = "OUTPUT"
PROBABILITIES = "PROBABILITIES"


class ZeroShotSegmentationAlgorithm(GeoMeldAlgorithm):
    """Class raster from class names alone."""

    def name(self) -> str:
        return "zeroshot_segmentation"

    def displayName(self) -> str:
        return tr("Zero-shot segmentation")

    def shortHelpString(self) -> str:
        return tr(
            "Classifies every pixel into one of the classes you name (for example 'water, forest, farmland, town') "
            "by comparing its embedding with the text of each class; no training labels are needed. Writes a class "
            "raster with the class names and, optionally, one probability band per class."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        self.add_raster_input()
        self.addParameter(
            QgsProcessingParameterString(
                CLASSES, tr("Class names, separated by commas"), "water, forest, farmland, town"
            )
        )
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Class raster")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                PROBABILITIES, tr("Class probabilities"), optional=True, createByDefault=False
            )
        )

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        from ...model_core.engine.zeroshot import zeroshot_segment

        raster = self.open_input(parameters, context)
        classes = self.parameterAsString(parameters, CLASSES, context)
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        result = zeroshot_segment(
            raster,
            self.model(),
            classes,
            out_path,
            probabilities_out=self.optional_output(parameters, PROBABILITIES, context),
            feedback=feedback,
        )
        feedback.info(tr("Classes: {0}.").format(", ".join(result.classes)))
        return {
            OUTPUT: str(result.path),
            PROBABILITIES: None if result.probabilities is None else str(result.probabilities),
        }
