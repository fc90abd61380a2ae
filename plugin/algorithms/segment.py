"""Processing algorithms for class maps without training (zero-shot, clusters) and their polygons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ...model_core.defaults import MAX_CLASSES
from ..i18n import tr
from .base import INPUT, OUTPUT, PROBABILITIES, SMOOTHING, GeoMeldAlgorithm

CLASSES = "CLASSES"
CLUSTERS = "CLUSTERS"
MIN_AREA = "MIN_AREA"
SIMPLIFY = "SIMPLIFY"
AREAS = "AREAS"


class ZeroShotSegmentationAlgorithm(GeoMeldAlgorithm):
    """Class raster from class names alone."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "zeroshot_segmentation"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Zero-shot segmentation")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Classifies every pixel into one of the classes you name (for example 'water, forest, farmland, town') "
            "by comparing its embedding with the text of each class; no training labels are needed. Writes a class "
            "raster with the class names and, optionally, one probability band per class."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
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
        """Call the engine function with the parameters."""
        from ...model_core.engine.zeroshot import zeroshot_segment

        raster = self.open_input(parameters, context)
        classes = self.parameterAsString(parameters, CLASSES, context)
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        probabilities = self.optional_output(parameters, PROBABILITIES, context)
        result = zeroshot_segment(raster, self.engine(), classes, out_path, probabilities_out=probabilities)
        feedback.info(tr("Classes: {0}.").format(", ".join(result.classes)))
        return {
            OUTPUT: str(result.path),
            PROBABILITIES: None if result.probabilities is None else str(result.probabilities),
        }


class ClustersAlgorithm(GeoMeldAlgorithm):
    """Unsupervised clusters of similar embeddings."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "clusters"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Clusters (unsupervised)")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Groups the pixels into clusters of similar embeddings without any labels (k-means); 'cluster 1' is the "
            "largest. With 0 clusters the number is chosen automatically (silhouette score). Useful to discover the "
            "main land covers before labelling."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(
            QgsProcessingParameterNumber(
                CLUSTERS, tr("Number of clusters (0 = automatic)"), minValue=0, maxValue=MAX_CLASSES, defaultValue=6
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(SMOOTHING, tr("Smoothing window (px, 0 = none)"), minValue=0, defaultValue=0)
        )
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Cluster raster")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.cluster import cluster_raster

        raster = self.open_input(parameters, context)
        k = self.parameterAsInt(parameters, CLUSTERS, context) or None
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        smoothing = self.parameterAsInt(parameters, SMOOTHING, context)
        result = cluster_raster(raster, self.engine(), out_path, k, smoothing=smoothing)
        feedback.info(tr("{0} clusters.").format(result.k))
        return {OUTPUT: str(result.path)}


class VectorizeAlgorithm(GeoMeldAlgorithm):
    """Polygons with areas from a class raster."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "vectorize"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Class polygons with areas")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Turns a GeoMeld class raster (from a probe or clusters) into polygons with the class name and the "
            "geodesic area in hectares, drops polygons smaller than the minimum area, and writes a CSV with the "
            "area of every class beside the GeoPackage."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.addParameter(QgsProcessingParameterRasterLayer(INPUT, tr("Class raster")))
        self.addParameter(
            QgsProcessingParameterNumber(
                MIN_AREA, tr("Smallest polygon (ha)"), QgsProcessingParameterNumber.Double, 0.0, minValue=0.0
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                SIMPLIFY,
                tr("Simplify tolerance (map units, 0 = none)"),
                QgsProcessingParameterNumber.Double,
                0.0,
                minValue=0.0,
            )
        )
        self.addParameter(QgsProcessingParameterVectorDestination(OUTPUT, tr("Class polygons")))
        self.addOutput(QgsProcessingOutputFile(AREAS, tr("Areas per class (CSV)")))

    def files_beside(self, name: str, path: Path) -> list[Path]:
        """The per-class area table written beside the polygons."""
        return [path.with_suffix(".csv")] if name == OUTPUT else []

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.vectorize import vectorize_classes

        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        result = vectorize_classes(
            self.raster_path(parameters, context),
            out_path,
            simplify_tolerance=self.parameterAsDouble(parameters, SIMPLIFY, context) or None,
            min_area_ha=self.parameterAsDouble(parameters, MIN_AREA, context),
            feedback=feedback,
        )
        feedback.info(", ".join(f"{name}: {hectares:.2f} ha" for name, hectares in result.areas_ha.items()))
        return {OUTPUT: str(result.path), AREAS: str(result.csv_path)}
