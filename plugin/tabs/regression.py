"""Indicators tab: learn a number (elevation, NDVI, a survey indicator) from points or polygons with a numeric field,
show its cross-validated R², and map it over the raster."""

from __future__ import annotations

from qgis.core import QgsFieldProxyModel, QgsMapLayerProxyModel
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QWidget

from ..algorithms.base import KIND, OUTPUT, REPORT
from ..algorithms.probe import LABELS, PROBE
from ..algorithms.regression import GROUP, TARGET, regression_kind_names
from ..i18n import tr
from ..layers import add_raster, output_path, save_vector
from ..styling import band_range, style_heatmap


class RegressionTab(QWidget):
    """Layer with values, numeric field, optional group field, probe kind, Train and Apply."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        self.probe_path: str | None = None
        self.target = ""
        layout = QFormLayout(self)
        intro = QLabel(tr("Predict a number for every pixel from points or polygons that carry it."))
        intro.setWordWrap(True)
        layout.addRow(intro)
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.PolygonLayer)
        self.layer_combo.setAllowEmptyLayer(True)
        layout.addRow(tr("Points or polygons"), self.layer_combo)
        self.target_combo = QgsFieldComboBox()
        self.target_combo.setFilters(QgsFieldProxyModel.Numeric)
        self.group_combo = QgsFieldComboBox()
        self.group_combo.setAllowEmptyFieldName(True)
        for combo in (self.target_combo, self.group_combo):
            self.layer_combo.layerChanged.connect(combo.setLayer)
        layout.addRow(tr("Value to predict"), self.target_combo)
        layout.addRow(tr("Groups held out (optional)"), self.group_combo)
        self.kind = QComboBox()
        self.kind.addItems(regression_kind_names())
        layout.addRow(tr("Probe"), self.kind)
        self.train_button = QPushButton(tr("Train regression probe"))
        self.train_button.clicked.connect(self.train)
        layout.addRow(self.train_button)
        self.metrics = QLabel()
        self.metrics.setWordWrap(True)
        layout.addRow(self.metrics)
        self.apply_button = QPushButton(tr("Map the value over the raster"))
        self.apply_button.clicked.connect(self.apply)
        layout.addRow(self.apply_button)

    def train(self):
        """Train a regression probe from the chosen layer and show its cross-validated scores."""
        parameters = self.dock.raster_parameters()
        layer = self.layer_combo.currentLayer()
        if parameters is None:
            return None
        if layer is None or not self.target_combo.currentField():
            self.dock.show_error(tr("Choose a point or polygon layer and its numeric field."))
            return None
        self.target = self.target_combo.currentField()
        parameters.update(
            {
                LABELS: layer.source() if layer.providerType() == "ogr" else save_vector(layer, "values"),
                TARGET: self.target,
                GROUP: self.group_combo.currentField() or None,
                KIND: self.kind.currentIndex(),
                OUTPUT: output_path("regression_probe", ".json"),
            }
        )
        return self.dock.run_algorithm(tr("GeoMeld regression probe"), "train_regression", parameters, self._trained)

    def _trained(self, results: dict) -> None:
        self.probe_path = results[OUTPUT]
        self.metrics.setText(results[REPORT])

    def apply(self):
        """Map the trained probe's value over the raster."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        if self.probe_path is None:
            self.dock.show_error(tr("Train a regression probe first."))
            return None
        parameters.update({PROBE: self.probe_path, OUTPUT: output_path("predicted", ".tif")})
        return self.dock.run_algorithm(tr("GeoMeld regression map"), "apply_regression", parameters, self._applied)

    def _applied(self, results: dict) -> None:
        add_raster(
            results[OUTPUT],
            tr("Predicted {0}").format(self.target),
            lambda layer: style_heatmap(layer, band_range(layer)[0]),
        )
        self.dock.show_info(results[REPORT])
