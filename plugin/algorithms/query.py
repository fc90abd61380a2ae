"""Processing algorithms answering queries as heatmaps: free text and example points."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ...model_core.defaults import DEFAULT_TOP_K
from ..i18n import tr
from .base import OUTPUT, POLYGONS, GeoMeldAlgorithm

TEXT = "TEXT"
EXACT = "EXACT"
INPUT_B = "INPUT_B"
BANDS_B = "BANDS_B"
SCALE_B = "SCALE_B"
POINTS = "POINTS"
THRESHOLD = "THRESHOLD"
TOP_K = "TOP_K"
MASK = "MASK"
HITS = "HIT_PIXELS"
BEST = "BEST_SCORE"
TRY = "THRESHOLD_TO_TRY"


class HeatmapAlgorithm(GeoMeldAlgorithm):
    """Common parameters and outputs of the heatmap queries."""

    def add_heatmap_outputs(self, threshold_label: str | None = None, maximum: float = 1.0) -> None:
        """Threshold, top-k and the heatmap, mask and polygon outputs."""
        self.addParameter(
            QgsProcessingParameterNumber(
                THRESHOLD,
                threshold_label or tr("Threshold (0-1; empty: automatic)"),
                QgsProcessingParameterNumber.Double,
                optional=True,
                minValue=0.0,
                maxValue=maximum,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(TOP_K, tr("Number of places to list"), minValue=1, defaultValue=DEFAULT_TOP_K)
        )
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Heatmap")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(MASK, tr("Mask"), optional=True, createByDefault=False)
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(POLYGONS, tr("Polygons"), optional=True, createByDefault=False)
        )
        self.addOutput(QgsProcessingOutputNumber(HITS, tr("Pixels above the threshold")))
        self.addOutput(QgsProcessingOutputNumber(BEST, tr("Best score")))
        self.addOutput(QgsProcessingOutputNumber(TRY, tr("Threshold to try when nothing was found")))

    def heatmap_options(self, parameters: dict[str, Any], context) -> dict[str, Any]:
        """Keyword arguments of the engine's query functions taken from the common parameters."""
        threshold = parameters.get(THRESHOLD)
        return {
            "mask_out": self.optional_output(parameters, MASK, context),
            "polygons_out": self.optional_output(parameters, POLYGONS, context),
            "top_k": self.parameterAsInt(parameters, TOP_K, context),
            "threshold": None if threshold in (None, "") else self.parameterAsDouble(parameters, THRESHOLD, context),
        }

    def heatmap_results(self, result, feedback) -> dict[str, Any]:
        """The output dictionary of a QueryResult, with the ranked places in the log."""
        from ...model_core.engine.hits import format_places

        feedback.info(tr("Threshold {0:.3f}: {1} pixels.").format(result.threshold, result.hit_pixels))
        if result.places:
            feedback.info(format_places(result.places))
        if result.threshold_to_try is not None:
            feedback.info(nothing_found(result.threshold, result.best_score, result.threshold_to_try))
        return {
            OUTPUT: str(result.heatmap),
            MASK: None if result.mask is None else str(result.mask),
            POLYGONS: None if result.polygons is None else str(result.polygons),
            HITS: result.hit_pixels,
            BEST: result.best_score,
            TRY: result.threshold_to_try,
        }


def nothing_found(threshold: float, best: float, to_try: float) -> str:
    """The sentence for a query whose pixels all score below the threshold: the best score and a threshold to try."""
    return tr(
        "Nothing found: no pixel reaches the threshold {0:.2f}; the best score is {1:.2f}. "
        "Try a threshold of {2:.2f} to see the closest matches."
    ).format(threshold, best, to_try)


class TextQueryAlgorithm(HeatmapAlgorithm):
    """Heatmap of how well each pixel matches a free-text query."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "text_query"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Text query heatmap")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Scores every pixel against a free-text description such as 'water', 'pine forest' or 'water, not sea' "
            "and writes a 0-1 heatmap (0.5 = more like the text than like any ordinary land cover), optionally a "
            "mask of the pixels above the threshold and polygons of the best matching places with their areas. "
            "The first query of a raster indexes its embedding once; later queries take a fraction of a second."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterString(TEXT, tr("What to look for (e.g. water, forest, town)")))
        exact = QgsProcessingParameterBoolean(
            EXACT, tr("Score every pixel (slower; default: score the embedding's codebook)"), defaultValue=False
        )
        exact.setFlags(exact.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(exact)
        self.add_heatmap_outputs()

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.query import text_query

        raster = self.open_input(parameters, context)
        text = self.parameterAsString(parameters, TEXT, context)
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        exact = self.parameterAsBool(parameters, EXACT, context)
        options = self.heatmap_options(parameters, context)
        result = text_query(raster, self.engine(), text, out_path, exact=exact, **options)
        return self.heatmap_results(result, feedback)


class QueryByExampleAlgorithm(HeatmapAlgorithm):
    """Heatmap of similarity to example points."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "query_by_example"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Query by example")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Finds places that look like the example points: every pixel is scored by the similarity of its "
            "embedding to the mean embedding of the examples (0-1 over the raster). The default threshold is chosen "
            "automatically (Otsu)."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterFeatureSource(POINTS, tr("Example points")))
        self.add_heatmap_outputs()

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.similar import similar_to_points

        raster = self.open_input(parameters, context)
        source = self.parameterAsSource(parameters, POINTS, context)
        request = QgsFeatureRequest().setDestinationCrs(
            QgsCoordinateReferenceSystem.fromWkt(raster.crs_wkt), context.transformContext()
        )
        points = [
            (point.x(), point.y()) for feature in source.getFeatures(request) for point in feature.geometry().vertices()
        ]
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        result = similar_to_points(raster, self.engine(), points, out_path, **self.heatmap_options(parameters, context))
        return self.heatmap_results(result, feedback)


class ChangeDetectionAlgorithm(HeatmapAlgorithm):
    """Map of how much the embeddings changed between two dates of one place."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "change_detection"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Change detection")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Compares two Sentinel-2 rasters of the same place (dates A and B) pixel by pixel through their "
            "embeddings and writes the change (0 = same, up to 2) on the grid of A; B is resampled when needed. "
            "The default threshold is chosen automatically. With a text filter such as 'new buildings' only changes "
            "whose date-B pixels match the text count."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input(tr("Sentinel-2 raster, date A"))
        self.addParameter(QgsProcessingParameterRasterLayer(INPUT_B, tr("Sentinel-2 raster, date B")))
        self.addParameter(
            QgsProcessingParameterString(BANDS_B, tr("Band names of date B (empty: detect)"), optional=True)
        )
        self.add_scale_input(SCALE_B, tr("Reflectance scale of date B (empty: detect)"))
        self.addParameter(QgsProcessingParameterString(TEXT, tr("Only changes to (text, optional)"), optional=True))
        self.add_heatmap_outputs(tr("Threshold (0-2; empty: automatic)"), 2.0)

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.change import change_map

        raster_a = self.open_input(parameters, context)
        raster_b = self.open_input(parameters, context, INPUT_B, BANDS_B, SCALE_B)
        text = self.parameterAsString(parameters, TEXT, context).strip() or None
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        options = self.heatmap_options(parameters, context)
        result = change_map(raster_a, raster_b, self.engine(), out_path, text_filter=text, **options)
        return self.heatmap_results(result, feedback)
