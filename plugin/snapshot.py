"""Map snapshots: layers rendered off screen to an image, as the demo job and the documentation's screenshots need."""

from __future__ import annotations

from qgis.core import QgsMapLayer, QgsMapRendererParallelJob, QgsMapSettings
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QImage


def render_layers(layers: list[QgsMapLayer], size: int = 900) -> QImage:
    """Render layers (top first) over the extent and in the CRS of the last one, as a size x size image."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setExtent(layers[-1].extent())
    settings.setOutputSize(QSize(size, size))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()
