"""Layers the panel creates: the labels memory layer, saved copies for background tasks, and styled results."""

from __future__ import annotations

import os
import time
import uuid

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsField,
    QgsProject,
    QgsRasterLayer,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from ..model_core.errors import GeoMeldError
from .i18n import tr
from .settings import load_settings
from .styling import add_to_group

CLASS_FIELD = "class"


def labels_layer(crs: QgsCoordinateReferenceSystem, name: str | None = None) -> QgsVectorLayer:
    """An empty memory point layer with a text field `class`, for labelling by clicking."""
    layer = QgsVectorLayer(f"Point?crs={crs.authid() or 'wkt:' + crs.toWkt()}", name or tr("GeoMeld labels"), "memory")
    layer.dataProvider().addAttributes([QgsField(CLASS_FIELD, QVariant.String)])
    layer.updateFields()
    return layer


def output_path(stem: str, extension: str) -> str:
    """A new file name in the GeoMeld output folder (created), unique by time."""
    folder = load_settings().output_path()
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{stem}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}{extension}")


def save_vector(layer: QgsVectorLayer, stem: str) -> str:
    """Write a vector layer (e.g. a memory layer) to a GeoPackage in the output folder that a task can read."""
    return write_gpkg(layer, output_path(stem, ".gpkg"))


def write_gpkg(layer: QgsVectorLayer, path: str) -> str:
    """Write a vector layer to a GeoPackage at `path`."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, path, QgsCoordinateTransformContext(), options
    )
    if error != QgsVectorFileWriter.NoError:
        raise GeoMeldError(tr("Could not save the layer '{0}' ({1}).").format(layer.name(), message))
    return path


def add_raster(path: str, name: str, style=None, project: QgsProject | None = None) -> QgsRasterLayer:
    """Load a finished raster, style it and add it to the "GeoMeld" group."""
    return _add_result(QgsRasterLayer(path, name), path, style, project)


def add_vector(path: str, name: str, style=None, project: QgsProject | None = None) -> QgsVectorLayer:
    """Load a finished vector file, style it and add it to the "GeoMeld" group."""
    return _add_result(QgsVectorLayer(path, name, "ogr"), path, style, project)


def _add_result(layer, path: str, style, project: QgsProject | None):
    if not layer.isValid():
        raise GeoMeldError(tr("QGIS cannot open the result '{0}'.").format(path))
    if style is not None:
        style(layer)
    add_to_group(layer, project)
    return layer
