"""The "GeoMeld" Processing provider."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms import ALGORITHMS
from .algorithms.base import ICON


class GeoMeldProvider(QgsProcessingProvider):
    """Holds one Processing algorithm per GeoMeld capability."""

    def id(self) -> str:
        """The provider id (algorithms are geomeld:<name>)."""
        return "geomeld"

    def name(self) -> str:
        """The provider name shown in the Processing toolbox."""
        return "GeoMeld"

    def icon(self) -> QIcon:
        """GeoMeld's icon."""
        return QIcon(ICON)

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API name
        """Add one instance of every algorithm."""
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
