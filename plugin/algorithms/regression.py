"""Processing algorithms of regression probes: learn a number (elevation, NDVI, an indicator) from points or polygons
with a numeric field, report its cross-validated scores, and map it over a raster as a float raster."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterVectorLayer,
)

from ...model_core.defaults import REGRESSION_KINDS
from ..i18n import tr
from .base import KIND, OUTPUT, REPORT, GeoMeldAlgorithm
from .probe import LABELS, PROBE, TrainProbeAlgorithm

TARGET = "TARGET"
GROUP = "GROUP"
R2 = "R2"
GROUP_R2 = "GROUP_R2"
RMSE = "RMSE"


def regression_kind_names() -> list[str]:
    """The regression probe kinds as shown to the user."""
    return [tr("Ridge regression"), tr("Random forest")]


class TrainRegressionAlgorithm(TrainProbeAlgorithm):
    """Fit a regression probe from points or polygons with a numeric field (labels read as for class probes)."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "train_regression"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Train regression probe")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Learns to predict a number, such as elevation, NDVI or a survey indicator, from the embeddings under "
            "points or polygons that carry it in a numeric field. Reports the cross-validated R2, RMSE and MAE with "
            "random folds and, with a group field (a city, a year, a site), with whole groups held out, which tells "
            "how well the probe carries over to places it has not seen. Saves the probe for 'Apply regression probe'."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterVectorLayer(LABELS, tr("Points or polygons with values")))
        self.addParameter(
            QgsProcessingParameterField(
                TARGET,
                tr("Numeric field to predict"),
                parentLayerParameterName=LABELS,
                type=QgsProcessingParameterField.Numeric,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                GROUP,
                tr("Group field (held out whole in cross-validation)"),
                parentLayerParameterName=LABELS,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(KIND, tr("Probe"), options=regression_kind_names(), defaultValue=0)
        )
        self.addParameter(QgsProcessingParameterFileDestination(OUTPUT, tr("Probe file"), tr("Probe (*.json)")))
        for name, label in ((R2, tr("R2 (random folds)")), (GROUP_R2, tr("R2 (groups held out)")), (RMSE, "RMSE")):
            self.addOutput(QgsProcessingOutputNumber(name, label))
        self.addOutput(QgsProcessingOutputString(REPORT, tr("Report")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.regression import train_regression

        raster = self.open_input(parameters, context)
        labels, layer_name = self.labels_path(parameters, context)
        group = self.parameterAsString(parameters, GROUP, context) or None
        probe = train_regression(
            raster,
            self.engine(),
            labels,
            self.parameterAsString(parameters, TARGET, context),
            group_field=group,
            layer=layer_name,
            kind=REGRESSION_KINDS[self.parameterAsEnum(parameters, KIND, context)],
        )
        out_path = self.parameterAsFileOutput(parameters, OUTPUT, context)
        summary = self.save_reported(probe, out_path, feedback)
        random, grouped = (None, None) if probe.report is None else (probe.report.random, probe.report.grouped)
        return {
            OUTPUT: out_path,
            R2: None if random is None else random.r2,
            GROUP_R2: None if grouped is None else grouped.r2,
            RMSE: None if random is None else random.rmse,
            REPORT: summary,
        }


class ApplyRegressionAlgorithm(GeoMeldAlgorithm):
    """Predict the probe's number for every pixel of a raster."""

    def name(self) -> str:
        """The algorithm's id within the provider."""
        return "apply_regression"

    def displayName(self) -> str:
        """The name shown in the Processing toolbox."""
        return tr("Apply regression probe")

    def shortHelpString(self) -> str:
        """The help shown beside the parameters."""
        return tr(
            "Maps the number a regression probe learned (see 'Train regression probe') over every pixel of a raster "
            "and writes it as a float raster; pixels without data stay empty."
        )

    def initAlgorithm(self, config: dict | None = None) -> None:
        """Declare the parameters and outputs."""
        self.add_raster_input()
        self.addParameter(QgsProcessingParameterFile(PROBE, tr("Regression probe file"), extension="json"))
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT, tr("Predicted values")))
        self.addOutput(QgsProcessingOutputString(REPORT, tr("Report")))

    def execute(self, parameters: dict[str, Any], context, feedback) -> dict[str, Any]:
        """Call the engine function with the parameters."""
        from ...model_core.engine.probe_file import load_regression_probe
        from ...model_core.engine.regression import apply_regression

        raster = self.open_input(parameters, context)
        engine = self.engine()
        probe = load_regression_probe(self.parameterAsFile(parameters, PROBE, context), str(engine.model.model_id))
        out_path = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        result = apply_regression(raster, engine, probe, out_path)
        feedback.info(result.summary())
        return {OUTPUT: str(result.path), REPORT: result.summary()}
