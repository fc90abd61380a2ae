"""Map tools of the panel: click to add a labelled point, click to pick an example for query by example."""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsCoordinateTransform, QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapToolEmitPoint
from qgis.PyQt.QtCore import pyqtSignal

from .layers import CLASS_FIELD


class PointPickTool(QgsMapToolEmitPoint):
    """Emits `picked(point)` in the layer CRS of `target_crs()` for every left click on the canvas."""

    picked = pyqtSignal(QgsPointXY)

    def __init__(self, canvas: QgsMapCanvas, target_crs: Callable) -> None:
        super().__init__(canvas)
        self.target_crs = target_crs

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:
        """Transform the clicked point to the target CRS and emit it."""
        point = self.toMapCoordinates(event.pos())
        transform = QgsCoordinateTransform(
            self.canvas().mapSettings().destinationCrs(), self.target_crs(), QgsProject.instance()
        )
        self.picked.emit(transform.transform(point))


class LabelPointTool(PointPickTool):
    """Adds a point with the current class (from `current_class()`) to a labels layer at every click."""

    def __init__(self, canvas: QgsMapCanvas, layer: Callable[[], QgsVectorLayer], current_class: Callable[[], str]):
        super().__init__(canvas, lambda: layer().crs())
        self.layer = layer
        self.current_class = current_class
        self.picked.connect(self.add_point)

    def add_point(self, point: QgsPointXY) -> QgsFeature:
        """Add a labelled point (layer CRS) to the labels layer."""
        layer = self.layer()
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(point))
        feature.setAttribute(CLASS_FIELD, self.current_class())
        layer.dataProvider().addFeatures([feature])
        layer.updateExtents()
        layer.triggerRepaint()
        return feature
