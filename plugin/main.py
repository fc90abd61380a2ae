"""The plugin object QGIS creates: registers the Processing provider and the GUI, and removes them again."""

from __future__ import annotations

from qgis.core import QgsApplication


class GeoMeldPlugin:
    """Wires the GeoMeld GUI and Processing provider into QGIS."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider = None

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API name
        """Register the Processing provider (also called by qgis_process, without a GUI)."""
        from .provider import GeoMeldProvider

        self.provider = GeoMeldProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API name
        """Called by QGIS when the plugin is loaded."""
        self.initProcessing()

    def unload(self) -> None:
        """Called by QGIS when the plugin is unloaded."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
