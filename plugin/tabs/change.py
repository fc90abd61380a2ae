"""Change tab: embedding change between the chosen raster (date A) and a second raster (date B)."""

from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from ..algorithms.base import OUTPUT, POLYGONS
from ..algorithms.query import BANDS_B, HITS, INPUT_B, TEXT
from ..i18n import tr
from ..layers import add_raster, add_vector, output_path
from ..styling import stored_threshold, style_heatmap, style_place_outlines


class ChangeTab(QWidget):
    """Date-B raster, optional text filter, Run."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        layout = QFormLayout(self)
        intro = QLabel(tr("The raster chosen at the top is date A; choose the same place at date B."))
        intro.setWordWrap(True)
        layout.addRow(intro)
        self.raster_b = QgsMapLayerComboBox()
        self.raster_b.setFilters(QgsMapLayerProxyModel.RasterLayer)
        layout.addRow(tr("Date B"), self.raster_b)
        self.bands_b = QLineEdit()
        self.bands_b.setPlaceholderText(tr("detected from the file"))
        layout.addRow(tr("Bands of date B"), self.bands_b)
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText(tr("optional, e.g. new buildings"))
        layout.addRow(tr("Only changes to"), self.text_filter)
        self.run_button = QPushButton(tr("Detect changes"))
        self.run_button.clicked.connect(self.run)
        layout.addRow(self.run_button)

    def run(self):
        """Start change detection between date A and date B."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        layer_b = self.raster_b.currentLayer()
        if layer_b is None:
            self.dock.show_error(tr("Choose the raster of date B."))
            return None
        parameters.update(
            {
                INPUT_B: layer_b.source(),
                BANDS_B: self.bands_b.text().strip(),
                TEXT: self.text_filter.text().strip(),
                OUTPUT: output_path("change", ".tif"),
                POLYGONS: output_path("change_places", ".gpkg"),
            }
        )
        return self.dock.run_algorithm(tr("GeoMeld change detection"), "change_detection", parameters, self._done)

    def _done(self, results: dict) -> None:
        add_raster(results[OUTPUT], tr("Change"), lambda layer: style_heatmap(layer, stored_threshold(layer)))
        add_vector(
            results[POLYGONS],
            tr("Changed places"),
            style_place_outlines,
        )
        self.dock.show_info(tr("{0} changed pixels.").format(results[HITS]))
