"""Processing algorithms of probes: train from labelled points/polygons, apply to a raster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
)

from ...model_core.defaults import PROBE_KINDS
from ..i18n import tr
from .base import KIND, OUTPUT, PROBABILITIES, REPORT, SMOOTHING, GeoMeldAlgorithm

LABELS = "LABELS"
FIELD = "FIELD"
PROBE = "PROBE"
MATRIX = "MATRIX"
ACCURACY = "ACCURACY"
REPORT_FILE = "REPORT_FILE"
HELD_OUT_ACCURACY = "HELD_OUT_ACCURACY"
UNCERTAINTY = "UNCERTAINTY"
SUGGESTIONS = "SUGGESTIONS"
MIN_PIXELS = "MIN_PIXELS"


def vector_file(layer) -> tuple[str, str | None]:
    """File and layer name of a vector layer for the engine (other than OGR layers, such as memory layers, are saved
    to a temporary GeoPackage first)."""
    from ..layers import write_gpkg

    if layer.providerType() != "ogr":
        return write_gpkg(layer, QgsProcessingUtils.generateTempFilename("labels.gpkg")), None
    path, _, options = layer.source().partition("|")
    name = dict(part.split("=", 1) for part in options.split("|") if "=" in part).get("layername")
    return path, name


def probe_arrays(name: str, path: Path) -> list[Path]:
    """The .npz a probe file keeps beside it (for the probe file parameters)."""
    return [path.with_suffix(".npz")] if name in (OUTPUT, PROBE) else []


def probe_kind_names() -> list[str]:
    """The probe kinds as shown to the user."""
    return [tr("Logistic regression"), tr("Random forest"), tr("k nearest neighbours")]


class TrainProbeAlgorithm(GeoMeldAlgorithm):
    """Fit a probe classifier from labelled features and report its cross-validated scores."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "train_probe"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Train probe classifier")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Learns your classes from a handful of labelled points or polygons: the embeddings under the labels "
            "train a small classifier (the probe). Reports the cross-validated accuracy and per-class F1 score over "
            "pixels and with whole polygons (or blocks of points) held out, the figure to quote, draws the confusion "
            "matrix, and estimates each class's area adjusted by the held-out confusion matrix with its 95 % "
            "confidence interval (Olofsson et al. 2014) in an optional HTML or JSON report. Saves the probe as a JSON "
            "file (with its arrays in an .npz beside it) for 'Apply probe classifier'."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterVectorLayer(LABELS, tr("Labelled points or polygons")))
        self.addParameter(QgsProcessingParameterField(FIELD, tr("Class field"), parentLayerParameterName=LABELS))
        self.addParameter(QgsProcessingParameterEnum(KIND, tr("Probe"), options=probe_kind_names(), defaultValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(OUTPUT, tr("Probe file"), tr("Probe (*.json)")))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                MATRIX, tr("Confusion matrix"), tr("PNG image (*.png)"), optional=True, createByDefault=False
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                REPORT_FILE,
                tr("Accuracy report"),
                tr("HTML page (*.html);;JSON (*.json)"),
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(QgsProcessingOutputNumber(ACCURACY, tr("Cross-validated accuracy")))
        self.addOutput(QgsProcessingOutputNumber(HELD_OUT_ACCURACY, tr("Accuracy with whole polygons held out")))
        self.addOutput(QgsProcessingOutputString(REPORT, tr("Report")))

    def files_beside(self, name: str, path: Path) -> list[Path]:
        """The probe's arrays (.npz) beside its file."""
        return probe_arrays(name, path)

    def optional_file(self, parameters: dict[str, Any], name: str, context) -> str | None:
        """The path of an optional file output, or None when the user skipped it."""
        if not parameters.get(name):
            return None
        return self.parameterAsFileOutput(parameters, name, context) or None

    def labels_path(self, parameters: dict[str, Any], context) -> tuple[str, str | None]:
        """File and layer name of the labels (memory layers are saved to a temporary GeoPackage first)."""
        return vector_file(self.parameterAsVectorLayer(parameters, LABELS, context))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.classify import train_probe
        from ...model_core.engine.report import confusion_matrix_png, write_probe_report

        raster = self.open_input(parameters, context)
        labels, layer_name = self.labels_path(parameters, context)
        field = self.parameterAsString(parameters, FIELD, context)
        kind = PROBE_KINDS[self.parameterAsEnum(parameters, KIND, context)]
        out_path = self.parameterAsFileOutput(parameters, OUTPUT, context)
        matrix = self.optional_file(parameters, MATRIX, context)
        probe, _ = train_probe(raster, self.engine(), labels, field, layer=layer_name, kind=kind)
        summary = self.save_reported(probe, out_path, feedback)
        report = probe.report
        matrix = matrix if matrix and report is not None and report.confusion else None
        if matrix:
            confusion_matrix_png(report, matrix)
        report_file = self.optional_file(parameters, REPORT_FILE, context) if report is not None else None
        if report_file:
            write_probe_report(report, report_file)
        held_out = None if report is None or report.held_out is None else report.held_out.accuracy
        return {
            OUTPUT: out_path,
            MATRIX: matrix,
            REPORT_FILE: report_file,
            ACCURACY: None if report is None else report.accuracy,
            HELD_OUT_ACCURACY: held_out,
            REPORT: summary,
        }

    def save_reported(self, probe, out_path: str, feedback) -> str:
        """Save a fitted probe (of classes or of values) and log its cross-validation; returns that summary."""
        from ...model_core.engine.probe_file import save_probe

        save_probe(probe, out_path)
        summary = probe.report.summary() if probe.report is not None else ""
        feedback.info(summary)
        return summary


class ApplyProbeAlgorithm(GeoMeldAlgorithm):
    """Classify every pixel with a trained probe."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "apply_probe"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Apply probe classifier")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Classifies every pixel of a raster with a probe trained by 'Train probe classifier' and writes a class "
            "raster with the class names and colours. Optionally writes the class probabilities, the uncertainty "
            "(where the probe hesitates) and points where a new label would help most. Smoothing and a minimum "
            "patch size clean up speckle."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterFile(PROBE, tr("Probe file"), extension="json"))
        self.addParameter(
            QgsProcessingParameterNumber(SMOOTHING, tr("Smoothing window (px, 0 = none)"), minValue=0, defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                MIN_PIXELS, tr("Smallest patch (px, 0 = keep all)"), minValue=0, defaultValue=0
            )
        )
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Class raster")))
        for name, label in ((PROBABILITIES, tr("Class probabilities")), (UNCERTAINTY, tr("Uncertainty"))):
            self.addParameter(
                QgsProcessingParameterRasterDestination(name, label, optional=True, createByDefault=False)
            )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                SUGGESTIONS, tr("Where to label next"), optional=True, createByDefault=False
            )
        )

    def files_beside(self, name: str, path: Path) -> list[Path]:
        """The probe's arrays (.npz) beside its file."""
        return probe_arrays(name, path)

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.classify import apply_probe
        from ...model_core.engine.probe_file import load_probe
        from ...model_core.errors import reading

        raster = self.open_input(parameters, context)
        engine = self.engine()
        probe_path = self.parameterAsFile(parameters, PROBE, context)
        with reading(Path(probe_path).with_suffix(".npz"), tr("train the probe again")):
            probe = load_probe(probe_path, str(engine.model.model_id))
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        result = apply_probe(
            raster,
            engine,
            probe,
            out_path,
            probabilities_path=self.optional_output(parameters, PROBABILITIES, context),
            uncertainty_path=self.optional_output(parameters, UNCERTAINTY, context),
            suggestions_path=self.optional_output(parameters, SUGGESTIONS, context),
            smoothing=self.parameterAsInt(parameters, SMOOTHING, context),
            min_mapping_unit_px=self.parameterAsInt(parameters, MIN_PIXELS, context),
        )
        feedback.info(", ".join(f"{name}: {count} px" for name, count in result.pixel_counts.items()))
        return {
            OUTPUT: str(result.path),
            PROBABILITIES: None if result.probabilities_path is None else str(result.probabilities_path),
            UNCERTAINTY: None if result.uncertainty_path is None else str(result.uncertainty_path),
            SUGGESTIONS: None if result.suggestions_path is None else str(result.suggestions_path),
        }
