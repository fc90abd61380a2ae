"""Search tab: free-text queries (with history and teaching examples), live threshold, ranked places, examples."""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt import sip
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...model_core.defaults import DEFAULT_THRESHOLD, DEFAULT_TOP_K
from ..algorithms.base import OUTPUT, POLYGONS
from ..algorithms.query import BEST, POINTS, TEXT, TOP_K, TRY
from ..i18n import tr
from ..layers import add_raster, add_vector, labels_layer, output_path, save_vector
from ..map_tools import PointPickTool
from ..settings import query_history, remember_query
from ..styling import stored_threshold, style_heatmap, style_place_outlines


def example_prompts() -> dict[str, str]:
    """Teaching examples: the English prompt the model reads, and its label on the button."""
    return {
        "water": tr("water"),
        "forest": tr("forest"),
        "farmland": tr("farmland"),
        "town": tr("town"),
        "beach": tr("beach"),
    }


class SearchTab(QWidget):
    """Query box, example buttons, threshold slider and the list of places found."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        self.heatmap = None
        self.places_crs = QgsCoordinateReferenceSystem()
        self.example_tool: PointPickTool | None = None
        layout = QVBoxLayout(self)
        self.query = QComboBox()
        self.query.setEditable(True)
        self.query.setInsertPolicy(QComboBox.NoInsert)
        self.query.addItems(query_history())
        self.query.setCurrentIndex(-1)
        self.query.lineEdit().setPlaceholderText(tr("Describe what to find, e.g. water, not sea"))
        self.query.lineEdit().returnPressed.connect(self.search)
        layout.addWidget(self.query)
        examples = QHBoxLayout()
        for prompt, label in example_prompts().items():
            button = QPushButton(label)
            button.setToolTip(tr("Search for '{0}'").format(prompt))
            button.clicked.connect(lambda _checked=False, text=prompt: self.search_for(text))
            examples.addWidget(button)
        layout.addLayout(examples)
        buttons = QHBoxLayout()
        self.search_button = QPushButton(tr("Search"))
        self.search_button.clicked.connect(self.search)
        buttons.addWidget(self.search_button)
        self.example_button = QPushButton(tr("Find places like a clicked one"))
        self.example_button.setCheckable(True)
        self.example_button.toggled.connect(self.toggle_example_tool)
        buttons.addWidget(self.example_button)
        layout.addLayout(buttons)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel(tr("Threshold")))
        self.threshold = QSlider(Qt.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(round(100 * DEFAULT_THRESHOLD))
        self.threshold.valueChanged.connect(self.restyle)
        slider_row.addWidget(self.threshold)
        self.threshold_label = QLabel(f"{DEFAULT_THRESHOLD:.2f}")
        slider_row.addWidget(self.threshold_label)
        layout.addLayout(slider_row)
        self.places = QListWidget()
        self.places.itemActivated.connect(self.zoom_to)
        self.places.itemClicked.connect(self.zoom_to)
        layout.addWidget(self.places)

    # ---- text queries -----------------------------------------------------------------------------------------------
    def search_for(self, text: str):
        """Put `text` in the query box and search."""
        self.query.setEditText(text)
        return self.search()

    def search(self):
        """Run the text query in the box; it is kept in the history."""
        text = self.query.currentText().strip()
        if not text:
            self.dock.show_error(tr("Type what to look for first."))
            return None
        self.query.blockSignals(True)
        self.query.clear()
        self.query.addItems(remember_query(text))
        self.query.setCurrentIndex(0)
        self.query.blockSignals(False)
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters.update({TEXT: text, **self._outputs("query")})
        return self.dock.run_algorithm(tr("GeoMeld text query"), "text_query", parameters, self._show(text))

    @staticmethod
    def _outputs(stem: str) -> dict:
        return {
            OUTPUT: output_path(stem, ".tif"),
            POLYGONS: output_path(stem + "_places", ".gpkg"),
            TOP_K: DEFAULT_TOP_K,
        }

    def _show(self, name: str):
        def done(results: dict) -> None:
            """Add the finished result to the map."""
            self.heatmap = add_raster(
                results[OUTPUT], name, lambda layer: style_heatmap(layer, stored_threshold(layer))
            )
            places = add_vector(
                results[POLYGONS],
                tr("Places: {0}").format(name),
                style_place_outlines,
            )
            self.threshold.blockSignals(True)
            self.threshold.setValue(round(100 * stored_threshold(self.heatmap)))
            self.threshold.blockSignals(False)
            self.threshold_label.setText(f"{self.threshold.value() / 100:.2f}")
            self.list_places(places)
            if results.get(TRY) is not None:
                self.dock.show_warning(self.nothing_found(name, results[BEST], results[TRY]))

        return done

    def nothing_found(self, name: str, best: float, to_try: float) -> str:
        """The panel's sentence when no pixel reached the threshold: the best score and where to move the slider."""
        return tr(
            "Nothing found for '{0}': no pixel reaches the threshold {1:.2f}; the best score is {2:.2f}. "
            "Move the threshold slider to {3:.2f} to see the closest matches."
        ).format(name, self.threshold.value() / 100, best, to_try)

    # ---- results ----------------------------------------------------------------------------------------------------
    def restyle(self, value: int) -> None:
        """Move the heatmap's transparency threshold (renderer change only, nothing recomputed)."""
        self.threshold_label.setText(f"{value / 100:.2f}")
        if self.heatmap is not None and not sip.isdeleted(self.heatmap):
            style_heatmap(self.heatmap, value / 100)

    def list_places(self, layer: QgsVectorLayer) -> None:
        """Fill the list with the best places, best first."""
        self.places.clear()
        self.places_crs = layer.crs()
        request = QgsFeatureRequest().addOrderBy("rank")
        for feature in layer.getFeatures(request):
            text = tr("#{0}: score {1:.2f}, {2:.1f} ha").format(feature["rank"], feature["score"], feature["area_ha"])
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, feature.geometry().boundingBox())
            self.places.addItem(item)

    def zoom_to(self, item: QListWidgetItem) -> None:
        """Zoom the map to a place of the list."""
        canvas = self.dock.iface.mapCanvas()
        box = QgsRectangle(item.data(Qt.UserRole))
        transform = QgsCoordinateTransform(
            self.places_crs, canvas.mapSettings().destinationCrs(), QgsProject.instance()
        )
        box = transform.transformBoundingBox(box)
        box.scale(3.0)
        canvas.setExtent(box)
        canvas.refresh()

    # ---- query by example -------------------------------------------------------------------------------------------
    def toggle_example_tool(self, active: bool) -> None:
        """Switch the click-an-example map tool on or off."""
        canvas = self.dock.iface.mapCanvas()
        if active:
            layer = self.dock.raster_layer()
            crs = layer.crs() if layer is not None else canvas.mapSettings().destinationCrs()
            self.example_tool = PointPickTool(canvas, lambda: crs)
            self.example_tool.picked.connect(self.search_like)
            canvas.setMapTool(self.example_tool)
        else:
            self.release_tools()

    def search_like(self, point: QgsPointXY):
        """Find places like the clicked point (raster CRS)."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        layer = labels_layer(self.dock.raster_layer().crs(), tr("Example"))
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(point))
        layer.dataProvider().addFeatures([feature])
        parameters.update({POINTS: save_vector(layer, "example"), **self._outputs("example")})
        return self.dock.run_algorithm(
            tr("GeoMeld query by example"), "query_by_example", parameters, self._show(tr("Like the example"))
        )

    def release_tools(self) -> None:
        """Take the map tool off the canvas."""
        if self.example_tool is not None:
            self.dock.iface.mapCanvas().unsetMapTool(self.example_tool)
            self.example_tool = None
        if self.example_button.isChecked():
            self.example_button.setChecked(False)
