"""Processing algorithms over many rasters or polygons: embeddings of many rasters (resumable, a mosaic per CRS) and
embeddings per polygon. They run in QGIS's own process (a QgsTask from the panel) and need no Dask; the batch job
uses a Dask cluster only when given its scheduler address and Dask is installed."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from ..i18n import tr
from ..settings import load_settings
from .base import BANDS, OUTPUT, POLYGONS, REPORT, SCALE, GeoMeldAlgorithm
from .probe import vector_file

INPUTS = "INPUTS"
SCHEDULER = "SCHEDULER"
MOSAICS = "MOSAICS"
EMBEDDED = "EMBEDDED"
SKIPPED = "SKIPPED"
FAILED = "FAILED"
STD = "STD"


def raster_options(bands: str | None, scale: float | None):
    """The engine's options for workers, from the GeoMeld settings (weights, threads, tile size), bands and
    reflectance scale."""
    from ...model_core.engine.batch import RasterOptions

    settings = load_settings()
    return RasterOptions(
        weights=settings.weights_path(),
        bands=bands,
        scale=scale,
        threads=settings.thread_count(),
        tile=settings.tile_size,
    )


class BatchEmbedAlgorithm(GeoMeldAlgorithm):
    """Embedding rasters of many rasters, resumable, with a VRT mosaic per CRS."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "batch_embed"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Compute embeddings of many rasters")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Computes the embedding raster of every chosen raster into one folder (<name>_embedding.tif) and a VRT "
            "mosaic per coordinate system. Running it again skips the rasters whose embedding is complete, so an "
            "interrupted job resumes. A raster that fails is reported and the others go on. The rasters are embedded "
            "one after another here; with the address of a Dask scheduler (tcp://host:8786, Dask installed) they "
            "are spread over that cluster's workers."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.addParameter(
            QgsProcessingParameterMultipleLayers(INPUTS, tr("Sentinel-2 rasters"), QgsProcessing.TypeRaster)
        )
        self.addParameter(
            QgsProcessingParameterString(
                BANDS, tr("Band names in file order (empty: detect in each raster)"), optional=True
            )
        )
        self.add_scale_input(SCALE)
        self.addParameter(QgsProcessingParameterFolderDestination(OUTPUT, tr("Output folder")))
        self.addParameter(
            QgsProcessingParameterString(SCHEDULER, tr("Dask scheduler address (empty: here)"), optional=True)
        )
        self.addOutput(QgsProcessingOutputString(MOSAICS, tr("Mosaics")))
        for name, label in ((EMBEDDED, tr("Embedded")), (SKIPPED, tr("Skipped")), (FAILED, tr("Failed"))):
            self.addOutput(QgsProcessingOutputNumber(name, label))
        self.addOutput(QgsProcessingOutputString(REPORT, tr("Report")))

    def output_files(self, parameters: dict[str, Any]) -> list:
        """None to check: the output is a folder (created when missing), each raster in it is written atomically."""
        return []

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Embed the rasters here, or on the Dask cluster at the scheduler address."""
        from ...model_core.engine import batch

        sources = [layer.source() for layer in self.parameterAsLayerList(parameters, INPUTS, context)]
        if not sources:
            raise QgsProcessingException(tr("Choose one or more rasters."))
        folder = self.parameterAsString(parameters, OUTPUT, context)
        scale = None if parameters.get(SCALE) in (None, "") else self.parameterAsDouble(parameters, SCALE, context)
        options = raster_options(self.parameterAsString(parameters, BANDS, context).strip() or None, scale)
        scheduler = self.parameterAsString(parameters, SCHEDULER, context).strip()
        if scheduler:
            from ...model_core.cluster import dask_runner

            with dask_runner(scheduler=scheduler, log=feedback.info) as (runner, _):
                report = batch.embed_batch(sources, folder, options, runner, feedback)
        else:
            report = batch.embed_batch(sources, folder, options, feedback=feedback)
        for result in report.results:
            if result.status == batch.FAILED:
                feedback.info(tr("{0} failed: {1}").format(result.source, result.message))
        feedback.info(report.summary())
        return {
            OUTPUT: folder,
            MOSAICS: ";".join(str(path) for path in report.mosaics.values()),
            EMBEDDED: report.count(batch.EMBEDDED),
            SKIPPED: report.count(batch.SKIPPED),
            FAILED: report.count(batch.FAILED),
            REPORT: report.summary(),
        }


class ZonalEmbeddingsAlgorithm(GeoMeldAlgorithm):
    """Mean (and standard deviation) of the pixel embeddings per polygon."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "zonal_embeddings"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Embeddings per polygon")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "For every polygon, the mean of the embeddings of the pixels inside it (and optionally their standard "
            "deviation), the numbers of valid and nodata pixels, the share of its area that the raster covers, its "
            "area in hectares and a status (full, partial, nodata, outside). Written as a GeoPackage with the "
            "polygons' attributes, or as a Parquet table; a regression probe can learn from it."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(
            QgsProcessingParameterVectorLayer(POLYGONS, tr("Polygons"), [QgsProcessing.TypeVectorPolygon])
        )
        self.addParameter(QgsProcessingParameterBoolean(STD, tr("Also the standard deviation"), defaultValue=False))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                OUTPUT, tr("Table"), tr("GeoPackage (*.gpkg);;Parquet (*.parquet)"), defaultValue=None
            )
        )
        self.addOutput(QgsProcessingOutputString(REPORT, tr("Report")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Embed the raster (cached), sum the embeddings under the polygons and write the table."""
        from collections import Counter

        from ...model_core.engine.embedding import EmbeddingFile, embed_raster
        from ...model_core.engine.zonal import read_polygons, stat_columns, write_table, zonal_sums

        raster = self.open_input(parameters, context)
        polygons_path, layer_name = vector_file(self.parameterAsVectorLayer(parameters, POLYGONS, context))
        polygons = read_polygons(polygons_path, layer_name)
        out_path = self.parameterAsFileOutput(parameters, OUTPUT, context)
        embedded = embed_raster(raster, self.engine().scaled(0, 80))
        sums = zonal_sums(EmbeddingFile(embedded.path), polygons, feedback=feedback.scaled(80, 98))
        columns = stat_columns(polygons, sums, self.parameterAsBool(parameters, STD, context))
        write_table(out_path, polygons, columns)
        counts = Counter(columns["status"])
        report = ", ".join(f"{count} {status}" for status, count in counts.items())
        feedback.info(tr("Polygons: {0}.").format(report))
        return {OUTPUT: out_path, REPORT: report}
