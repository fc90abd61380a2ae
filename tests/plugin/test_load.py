"""The plugin loads and unloads in a real QGIS as QGIS loads it, and the demo scene renders."""

from __future__ import annotations

import numpy as np
from qgis.core import Qgis, QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsRasterLayer
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QImage

from model_core.demo import demo_scene_path


def test_plugin_registers_processing_provider(loaded_plugin):
    provider = QgsApplication.processingRegistry().providerById("geomeld")
    assert provider is not None and provider.name() == "GeoMeld"
    assert loaded_plugin.provider is provider


def test_plugin_unloads_and_reloads_without_logged_errors(loaded_plugin):
    import qgis.utils

    messages: list[str] = []

    def collect(message, tag, level):
        if level >= Qgis.Warning:
            messages.append(f"{tag}: {message}")

    log = QgsApplication.messageLog()
    log.messageReceived.connect(collect)
    try:
        assert qgis.utils.unloadPlugin("geomeld")
        assert QgsApplication.processingRegistry().providerById("geomeld") is None
        assert qgis.utils.loadPlugin("geomeld")
        assert qgis.utils.startPlugin("geomeld")
    finally:
        log.messageReceived.disconnect(collect)
    assert messages == []


def test_demo_scene_renders_non_blank(tmp_path):
    layer = QgsRasterLayer(str(demo_scene_path()), "demo")
    assert layer.isValid() and layer.bandCount() == 13
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(400, 400))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image: QImage = job.renderedImage()
    path = tmp_path / "demo.png"
    assert image.save(str(path))
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    assert pixels.std() > 10, "rendered map is blank"
    del layer
