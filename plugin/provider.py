"""The "GeoMeld" Processing provider."""

from __future__ import annotations

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icons", "geomeld.svg")


class GeoMeldProvider(QgsProcessingProvider):
    """Holds one Processing algorithm per GeoMeld capability."""

    def id(self) -> str:
        return "geomeld"

    def name(self) -> str:
        return "GeoMeld"

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API name
        """Add the algorithms (grown by later modules)."""
