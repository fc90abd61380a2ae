"""Shared behaviour of GeoMeld's Processing algorithms: errors, progress, the input raster and the model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtGui import QIcon

from ...model_core.errors import DamagedCacheEntryError
from ...model_core.feedback import Feedback
from ..i18n import tr
from ..settings import engine_context, load_settings
from ..tasks import error_message, processing_feedback

if TYPE_CHECKING:
    from ...model_core.engine.context import EngineContext

ICON = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "resources", "icons", "geomeld.svg")
# Names of parameters and results that several algorithms share (the panel's tabs use them too).
INPUT = "INPUT"
BANDS = "BANDS"
SCALE = "SCALE"
OUTPUT = "OUTPUT"
POLYGONS = "POLYGONS"
KIND = "KIND"
PROBABILITIES = "PROBABILITIES"
SMOOTHING = "SMOOTHING"
REPORT = "REPORT"
DEVICE = "DEVICE"  # results of every job that ran the model: the device, and a sentence when it is not the chosen one
DEVICE_NOTE = "DEVICE_NOTE"
# Parameter types whose value is an input file, and destinations that are not files the user named.
INPUT_TYPES = ("raster", "vector", "source", "file")
NOT_FILES = ("TEMPORARY_OUTPUT", "memory:")


class GeoMeldAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses declare parameters and implement `execute`, which calls one engine function."""

    _feedback: Feedback = Feedback()  # the running job's, set by processAlgorithm
    _device: str = ""  # the device that ran the job's model, and why it is not the one chosen ("" when it is)
    _device_note: str = ""

    def createInstance(self) -> GeoMeldAlgorithm:
        """A fresh instance (Processing needs one per run)."""
        return type(self)()

    def icon(self) -> QIcon:
        """GeoMeld's icon."""
        return QIcon(ICON)

    def add_raster_input(self, description: str | None = None) -> None:
        """Add the Sentinel raster input, the optional band list and the optional reflectance scale."""
        self.addParameter(QgsProcessingParameterRasterLayer(INPUT, description or tr("Sentinel-2 raster")))
        bands = QgsProcessingParameterString(
            BANDS,
            tr("Band names in file order (e.g. B02,B03,B04,B08 or eurosat, l1c, l2a; empty: detect)"),
            optional=True,
        )
        self.addParameter(bands)
        self.add_scale_input(SCALE)

    def add_scale_input(self, name: str, description: str | None = None) -> None:
        """Add an optional reflectance scale (empty: detected from the values)."""
        scale = QgsProcessingParameterNumber(
            name,
            description or tr("Reflectance scale (empty: detect; 10000 for most products, 1000 for x1000 ones)"),
            QgsProcessingParameterNumber.Double,
            optional=True,
            minValue=0.0,
        )
        self.addParameter(scale)

    def raster_path(self, parameters: dict[str, Any], context: QgsProcessingContext, name: str = INPUT) -> str:
        """The file path of a raster layer parameter."""
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            raise QgsProcessingException(tr("Choose a raster layer."))
        return layer.source()

    def open_input(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        name: str = INPUT,
        bands_name: str = BANDS,
        scale_name: str = SCALE,
        feedback: Feedback | None = None,
    ):
        """Open an input raster with its bands mapped (GeoMeld errors explain bad rasters); its notices (a detected
        scale, an unlikely band order) go to the log."""
        from ...model_core.io import open_raster

        bands = self.parameterAsString(parameters, bands_name, context).strip() or None
        given = parameters.get(scale_name)
        scale = None if given in (None, "") else self.parameterAsDouble(parameters, scale_name, context)
        raster = open_raster(self.raster_path(parameters, context, name), bands=bands, reflectance_scale=scale)
        for notice in raster.notices:
            (feedback or self._feedback).info(notice)
        return raster

    def engine(self) -> EngineContext:
        """The job's engine context from the GeoMeld settings (model, embedding cache, tile size) with its progress
        and cancel. The log says which device runs the job, and when ONNX Runtime could not use the one chosen."""
        context = engine_context(load_settings(), self._feedback)
        model = context.model
        self._device, self._device_note = model.device, model.device_note
        self._feedback.info(tr("Device: {0}").format(model.device))
        if model.device_note:
            self._feedback.info(tr("Warning: {0}").format(model.device_note))
        return context

    def optional_output(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext) -> str | None:
        """The path of an optional output, or None when the user skipped it."""
        if parameters.get(name) is None:
            return None
        return self.parameterAsOutputLayer(parameters, name, context) or None

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run the engine call; every error (cancel included) becomes a one-sentence QgsProcessingException.

        Outputs that would overwrite an input or another output, or whose folder is missing or not writable, are
        refused first. The cache entries the job uses stay locked until it ends; when one turns out damaged it is
        dropped and the job runs once more, recomputing it. Jobs that ran the model add DEVICE (and DEVICE_NOTE) to
        their results.
        """
        from ...model_core.engine.cache import holding_entries
        from ...model_core.outputs import check_outputs

        self._feedback = processing_feedback(feedback)
        try:
            check_outputs(self.output_files(parameters), self.input_files(parameters, context))
            try:
                with holding_entries():
                    results = self.execute(parameters, context, self._feedback)
            except DamagedCacheEntryError as exc:
                self._feedback.info(str(exc))
                with holding_entries():
                    results = self.execute(parameters, context, self._feedback)
            return dict(results, **{DEVICE: self._device, DEVICE_NOTE: self._device_note}) if self._device else results
        except QgsProcessingException:
            raise
        except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
            raise QgsProcessingException(error_message(exc)) from None

    def files_beside(self, name: str, path: Path) -> list[Path]:
        """Files a parameter's writer (or reader) adds beside its file; subclasses name theirs."""
        return []

    def input_files(self, parameters: dict[str, Any], context: QgsProcessingContext) -> list[list[Path]]:
        """The files of the input parameters (rasters, vector layers, files), each with the files beside it."""
        files = []
        for definition in self.parameterDefinitions():
            name, kind = definition.name(), definition.type()
            if kind not in INPUT_TYPES or parameters.get(name) in (None, ""):
                continue
            if kind == "file":
                path = self.parameterAsFile(parameters, name, context)
            else:
                layer = (
                    self.parameterAsRasterLayer(parameters, name, context)
                    if kind == "raster"
                    else self.parameterAsVectorLayer(parameters, name, context)
                )
                path = layer.source().split("|")[0] if layer is not None else ""
            if path:
                files.append([Path(path), *self.files_beside(name, Path(path))])
        return files

    def output_files(self, parameters: dict[str, Any]) -> list[list[Path]]:
        """The files the user named for the outputs (not temporary outputs), each with the files written beside it."""
        files = []
        for definition in self.destinationParameterDefinitions():
            value = parameters.get(definition.name())
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                value = value.sink.staticValue()
            if isinstance(value, str) and value and not value.startswith(NOT_FILES):
                files.append([Path(value), *self.files_beside(definition.name(), Path(value))])
        return files

    def execute(self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: Feedback) -> dict[str, Any]:
        """Do the work; subclasses implement this."""
        raise NotImplementedError
