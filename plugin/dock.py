"""The GeoMeld panel: raster and band mapping on top, one tab per job, progress and Cancel at the bottom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qgis.core import Qgis, QgsMapLayerProxyModel, QgsRasterLayer
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .algorithms.base import BANDS, DEVICE_NOTE, INPUT, SCALE
from .i18n import tr
from .settings import load_settings
from .styling import FALSE_COLOUR, TRUE_COLOUR, layer_band_names, shows_first_bands, style_composite
from .tasks import AlgorithmTask, error_message, log_message


class GeoMeldDock(QgsDockWidget):
    """Panel holding the tabs; runs their jobs as background tasks, one at a time."""

    def __init__(self, iface) -> None:
        super().__init__(tr("GeoMeld"))
        self.setObjectName("GeoMeldDock")
        self.iface = iface
        self.task: AlgorithmTask | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.raster_combo = QgsMapLayerComboBox()
        self.raster_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.raster_combo.layerChanged.connect(self.detect_bands)
        form.addRow(tr("Sentinel-2 raster"), self.raster_combo)
        self.bands_edit = QLineEdit()
        self.bands_edit.setPlaceholderText(tr("detected from the file, e.g. B01,B02,...,B12"))
        self.bands_edit.setToolTip(tr("Band names in file order; edit them when the detection is wrong."))
        form.addRow(tr("Bands"), self.bands_edit)
        self.scale_edit = QLineEdit()
        self.scale_edit.setPlaceholderText(tr("detected from the values"))
        self.scale_edit.setToolTip(
            tr("Number dividing the pixel values into reflectance: 10000 for most products, 1000 for x1000 ones.")
        )
        form.addRow(tr("Reflectance scale"), self.scale_edit)
        self.band_status = QLabel()
        self.band_status.setWordWrap(True)
        form.addRow("", self.band_status)
        colours = QHBoxLayout()
        self.true_colour_button = QPushButton(tr("True colour"))
        self.true_colour_button.setToolTip(tr("Show the raster as the eye sees it: B04, B03, B02 (red, green, blue)."))
        self.false_colour_button = QPushButton(tr("False colour"))
        self.false_colour_button.setToolTip(tr("Show vegetation in red: B08, B04, B03 (near infrared, red, green)."))
        for button, composite in ((self.true_colour_button, TRUE_COLOUR), (self.false_colour_button, FALSE_COLOUR)):
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, bands=composite: self.show_composite(bands))
            colours.addWidget(button)
        form.addRow(tr("Show as"), colours)
        layout.addLayout(form)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.ready_label = QLabel()
        self.ready_label.setWordWrap(True)
        self.ready_label.setVisible(False)
        layout.addWidget(self.ready_label)
        self.install_button = QPushButton(tr("Install the missing Python packages..."))
        self.install_button.setVisible(False)
        layout.addWidget(self.install_button)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.setWidget(body)
        self._add_tabs()
        self.detect_bands(self.raster_combo.currentLayer())

    def _add_tabs(self) -> None:
        from .tabs.change import ChangeTab
        from .tabs.embed import EmbedTab
        from .tabs.probe import ProbeTab
        from .tabs.regression import RegressionTab
        from .tabs.search import SearchTab
        from .tabs.segment import SegmentTab
        from .tabs.settings import SettingsTab

        self.embed_tab = EmbedTab(self)
        self.probe_tab = ProbeTab(self)
        self.regression_tab = RegressionTab(self)
        self.segment_tab = SegmentTab(self)
        self.search_tab = SearchTab(self)
        self.change_tab = ChangeTab(self)
        self.settings_tab = SettingsTab(self)
        self.tabs.addTab(self.embed_tab, tr("Embed"))
        self.tabs.addTab(self.probe_tab, tr("Label && Probe"))
        self.tabs.addTab(self.regression_tab, tr("Indicators"))
        self.tabs.addTab(self.segment_tab, tr("Segment"))
        self.tabs.addTab(self.search_tab, tr("Search"))
        self.tabs.addTab(self.change_tab, tr("Change"))
        self.tabs.addTab(self.settings_tab, tr("Settings"))

    @staticmethod
    def default_area() -> Qt.DockWidgetArea:
        """Where QGIS puts the panel first."""
        return Qt.RightDockWidgetArea

    # ---- state ------------------------------------------------------------------------------------------------------
    def set_ready(self, ready: bool) -> None:
        """Enable the job tabs only when the Python dependencies are there (Settings stays usable)."""
        for index in range(self.tabs.count() - 1):
            self.tabs.widget(index).setEnabled(ready)
        self.ready_label.setText(tr("GeoMeld needs Python packages that are missing."))
        self.ready_label.setVisible(not ready)
        self.install_button.setVisible(not ready)

    def raster_layer(self) -> QgsRasterLayer | None:
        """The raster chosen at the top of the panel."""
        return self.raster_combo.currentLayer()

    def detect_bands(self, layer: QgsRasterLayer | None) -> None:
        """Fill the band field from the layer's band mapping, or explain why it cannot be used."""
        self.bands_edit.clear()
        self.band_status.clear()
        self.true_colour_button.setEnabled(False)
        self.false_colour_button.setEnabled(False)
        self.scale_edit.clear()
        self.scale_edit.setPlaceholderText(tr("detected from the values"))
        if layer is None:
            return
        try:
            from ..model_core.io import open_raster

            raster = open_raster(layer.source())
        except Exception as exc:  # noqa: BLE001 - the message explains the raster problem
            self.band_status.setText(str(exc))
            return
        self.bands_edit.setText(",".join(raster.band_names))
        self.scale_edit.setPlaceholderText(tr("detected: {0:g}").format(raster.reflectance_scale))
        status = tr("{0} x {1} px, {2} bands mapped.").format(raster.width, raster.height, len(raster.band_names))
        self.band_status.setText(" ".join([status, *raster.notices]))
        self.offer_composites(layer)

    # ---- how the raster is drawn ------------------------------------------------------------------------------------
    def layer_bands(self, layer: QgsRasterLayer) -> list[str]:
        """The Sentinel band name of each band of a layer (from the band field when it lists them all)."""
        mapped = [name.strip() for name in self.bands_edit.text().split(",") if name.strip()]
        return layer_band_names(layer.source(), mapped)

    def offer_composites(self, layer: QgsRasterLayer) -> None:
        """Enable the true- and false-colour buttons the layer has bands for; with the setting on, show a layer that
        is drawn in its first three bands (coastal, blue, green on Sentinel-2) in true colour at once."""
        bands = self.layer_bands(layer)
        for button, composite in ((self.true_colour_button, TRUE_COLOUR), (self.false_colour_button, FALSE_COLOUR)):
            button.setEnabled(all(name in bands for name in composite))
        if load_settings().true_colour and shows_first_bands(layer) and bands[:3] != list(TRUE_COLOUR):
            style_composite(layer, bands, TRUE_COLOUR)

    def show_composite(self, composite: tuple[str, ...]) -> None:
        """Draw the chosen raster in a band composite (TRUE_COLOUR or FALSE_COLOUR)."""
        layer = self.raster_layer()
        if layer is not None and style_composite(layer, self.layer_bands(layer), composite) is None:
            self.show_error(tr("This raster lacks a band of {0}.").format(", ".join(composite)))

    def raster_parameters(self) -> dict[str, Any] | None:
        """INPUT and BANDS parameters for the chosen raster (None, with a message, when there is none)."""
        layer = self.raster_layer()
        if layer is None:
            self.show_error(tr("Choose a Sentinel-2 raster layer first."))
            return None
        scale = self.scale_edit.text().strip().replace(",", ".")
        try:
            value = float(scale) if scale else None
        except ValueError:
            value = float("nan")
        if value is not None and not (value > 0 and value != float("inf")):
            self.show_error(tr("The reflectance scale must be a positive number such as 10000 or 1000."))
            return None
        return {INPUT: layer.source(), BANDS: self.bands_edit.text().strip(), SCALE: value}

    # ---- running jobs -----------------------------------------------------------------------------------------------
    def run_algorithm(
        self, description: str, algorithm: str, parameters: dict[str, Any], on_success: Callable[[dict], None]
    ) -> AlgorithmTask | None:
        """Start `geomeld:<algorithm>` in the background; on success `on_success(results)` adds the layers."""
        if self.task is not None:
            self.show_error(tr("GeoMeld is still busy with another job; wait or cancel it."))
            return None
        task = AlgorithmTask(description, f"geomeld:{algorithm}", parameters, self._succeeded(on_success), self._failed)
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task = task
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        from qgis.core import QgsApplication

        QgsApplication.taskManager().addTask(task)
        return task

    def _succeeded(self, on_success: Callable[[dict], None]) -> Callable[[dict], None]:
        def handle(results: dict) -> None:
            """Add the results to the map; a failure there is one message too."""
            self._finish()
            self.progress.setValue(100)
            if results.get(DEVICE_NOTE):
                self.show_warning(results[DEVICE_NOTE])
            try:
                on_success(results)
            except Exception as exc:  # noqa: BLE001 - shown as one sentence
                self.show_error(error_message(exc))

        return handle

    def _failed(self, message: str) -> None:
        self._finish()
        self.progress.setValue(0)
        self.show_error(message)

    def _finish(self) -> None:
        self.task = None
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        """Cancel the running job (its output is not written)."""
        if self.task is not None:
            self.task.cancel()

    def show_error(self, message: str) -> None:
        """One sentence in the QGIS message bar (and the log)."""
        log_message(message)
        self.iface.messageBar().pushMessage(tr("GeoMeld"), message, Qgis.Critical, 0)

    def show_warning(self, message: str) -> None:
        """A sentence that needs the user's attention (an empty result) in the message bar (and the log)."""
        log_message(message, Qgis.Warning)
        self.iface.messageBar().pushMessage(tr("GeoMeld"), message, Qgis.Warning, 15)

    def show_info(self, message: str) -> None:
        """A success message in the message bar."""
        self.iface.messageBar().pushMessage(tr("GeoMeld"), message, Qgis.Success, 5)

    def shutdown(self) -> None:
        """Cancel jobs (their results are dropped) and release map tools before the plugin unloads."""
        if self.task is not None:
            self.task.on_success = self.task.on_error = lambda _result: None
            self.task.cancel()
            self.task = None
        for tab in (self.probe_tab, self.search_tab):
            tab.release_tools()
