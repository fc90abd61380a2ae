"""Label & Probe tab: click labelled points, train a probe, show its scores and confusion matrix, apply it."""

from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel, QgsProject
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QPixmap
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from ..algorithms.base import KIND, OUTPUT, REPORT
from ..algorithms.probe import FIELD, LABELS, MATRIX, PROBE, REPORT_FILE, SUGGESTIONS, probe_kind_names
from ..i18n import tr
from ..layers import CLASS_FIELD, add_raster, add_to_group, add_vector, labels_layer, output_path, save_vector
from ..map_tools import LabelPointTool
from ..styling import style_class_raster, style_suggestions


class ProbeTab(QWidget):
    """Class picker, labelling tool, training layer and field, probe kind, Train and Apply."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        self.labels = None
        self.tool: LabelPointTool | None = None
        self.probe_path: str | None = None
        layout = QFormLayout(self)
        self.class_combo = QComboBox()
        self.class_combo.setEditable(True)
        self.class_combo.addItems([tr("water"), tr("forest"), tr("farmland"), tr("town")])
        layout.addRow(tr("Class"), self.class_combo)
        row = QHBoxLayout()
        self.label_button = QPushButton(tr("Click points on the map"))
        self.label_button.setCheckable(True)
        self.label_button.toggled.connect(self.toggle_labelling)
        row.addWidget(self.label_button)
        layout.addRow(row)
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.PolygonLayer)
        self.layer_combo.setAllowEmptyLayer(True)
        layout.addRow(tr("Training labels"), self.layer_combo)
        self.field_combo = QgsFieldComboBox()
        self.layer_combo.layerChanged.connect(self.field_combo.setLayer)
        layout.addRow(tr("Class field"), self.field_combo)
        self.kind = QComboBox()
        self.kind.addItems(probe_kind_names())
        layout.addRow(tr("Probe"), self.kind)
        self.train_button = QPushButton(tr("Train probe"))
        self.train_button.clicked.connect(self.train)
        layout.addRow(self.train_button)
        self.metrics = QLabel()
        self.metrics.setWordWrap(True)
        layout.addRow(self.metrics)
        self.matrix = QLabel()
        layout.addRow(self.matrix)
        self.report_link = QLabel()
        self.report_link.setOpenExternalLinks(True)
        layout.addRow(self.report_link)
        self.apply_button = QPushButton(tr("Apply probe to the raster"))
        self.apply_button.clicked.connect(self.apply)
        layout.addRow(self.apply_button)

    # ---- labelling --------------------------------------------------------------------------------------------------
    def labels_layer(self):
        """The memory layer holding clicked labels (created on first use in the raster's CRS)."""
        if self.labels is None or QgsProject.instance().mapLayer(self.labels.id()) is None:
            raster = self.dock.raster_layer()
            crs = raster.crs() if raster is not None else self.dock.iface.mapCanvas().mapSettings().destinationCrs()
            self.labels = add_to_group(labels_layer(crs))
            self.layer_combo.setLayer(self.labels)
            self.field_combo.setField(CLASS_FIELD)
        return self.labels

    def toggle_labelling(self, active: bool) -> None:
        """Switch the click-to-label map tool on or off."""
        canvas = self.dock.iface.mapCanvas()
        if active:
            self.labels_layer()
            self.tool = LabelPointTool(canvas, self.labels_layer, self.class_combo.currentText)
            canvas.setMapTool(self.tool)
        else:
            self.release_tools()

    def release_tools(self) -> None:
        """Take the labelling tool off the canvas and drop the reference to the labels layer."""
        if self.tool is not None:
            self.dock.iface.mapCanvas().unsetMapTool(self.tool)
            self.tool = None
        if self.label_button.isChecked():
            self.label_button.setChecked(False)

    # ---- probe ------------------------------------------------------------------------------------------------------
    def train(self):
        """Train a probe from the training layer and show its cross-validated scores."""
        parameters = self.dock.raster_parameters()
        layer = self.layer_combo.currentLayer()
        if parameters is None:
            return None
        if layer is None or not self.field_combo.currentField():
            self.dock.show_error(tr("Label some points first, or choose a layer and its class field."))
            return None
        labels = layer.source() if layer.providerType() == "ogr" else save_vector(layer, "labels")
        parameters.update(
            {
                LABELS: labels,
                FIELD: self.field_combo.currentField(),
                KIND: self.kind.currentIndex(),
                OUTPUT: output_path("probe", ".json"),
                MATRIX: output_path("confusion", ".png"),
                REPORT_FILE: output_path("probe_report", ".html"),
            }
        )
        return self.dock.run_algorithm(tr("GeoMeld probe training"), "train_probe", parameters, self._trained)

    def _trained(self, results: dict) -> None:
        self.probe_path = results[OUTPUT]
        self.metrics.setText(results[REPORT])
        if results.get(MATRIX):
            self.matrix.setPixmap(QPixmap(results[MATRIX]).scaledToWidth(320))
        if results.get(REPORT_FILE):
            link = QUrl.fromLocalFile(results[REPORT_FILE]).toString()
            text = tr("Open the accuracy report (areas with 95 % intervals)")
            self.report_link.setText(f'<a href="{link}">{text}</a>')

    def apply(self):
        """Classify the raster with the trained probe."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        if self.probe_path is None:
            self.dock.show_error(tr("Train a probe first."))
            return None
        parameters.update(
            {
                PROBE: self.probe_path,
                OUTPUT: output_path("probe_classes", ".tif"),
                SUGGESTIONS: output_path("label_here_next", ".gpkg"),
            }
        )
        return self.dock.run_algorithm(tr("GeoMeld probe classification"), "apply_probe", parameters, self._applied)

    def _applied(self, results: dict) -> None:
        self.dock.segment_tab.last_class_map = results[OUTPUT]
        add_raster(results[OUTPUT], tr("Probe classes"), style_class_raster)
        add_vector(results[SUGGESTIONS], tr("Label here next"), style_suggestions)
