"""Settings tab: edits GeoMeld's QgsSettings (weights, cache, outputs, tiles, threads, device)."""

from __future__ import annotations

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..i18n import tr
from ..settings import GeoMeldSettings, available_providers, load_settings, save_settings


def folder_widget(path: str, placeholder: str) -> QgsFileWidget:
    """A folder picker showing `placeholder` when empty."""
    widget = QgsFileWidget()
    widget.setStorageMode(QgsFileWidget.GetDirectory)
    widget.setFilePath(path)
    widget.lineEdit().setPlaceholderText(placeholder)
    return widget


class SettingsTab(QWidget):
    """Form bound to GeoMeldSettings; Save stores it."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        settings = load_settings()
        layout = QFormLayout(self)
        self.weights = folder_widget(settings.weights_dir, tr("bundled GeoMeld-FM weights"))
        layout.addRow(tr("Weights folder"), self.weights)
        self.cache = folder_widget(settings.cache_dir, tr("default cache folder"))
        layout.addRow(tr("Cache folder"), self.cache)
        self.cache_cap = QSpinBox()
        self.cache_cap.setRange(100, 1_000_000)
        self.cache_cap.setSuffix(" MB")
        self.cache_cap.setValue(settings.cache_cap_mb)
        layout.addRow(tr("Cache size limit"), self.cache_cap)
        self.outputs = folder_widget(settings.output_dir, tr("'outputs' in the cache folder"))
        layout.addRow(tr("Output folder"), self.outputs)
        self.tile = QSpinBox()
        self.tile.setRange(64, 2048)
        self.tile.setSingleStep(64)
        self.tile.setValue(settings.tile_size)
        layout.addRow(tr("Tile size (px)"), self.tile)
        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(tr("automatic"))
        self.threads.setValue(settings.threads)
        layout.addRow(tr("CPU threads"), self.threads)
        self.provider = QComboBox()
        self.provider.addItems(available_providers())
        self.provider.setCurrentText(settings.provider)
        layout.addRow(tr("Device"), self.provider)
        self.true_colour = QCheckBox(tr("Show Sentinel-2 rasters in true colour (B04, B03, B02)"))
        self.true_colour.setToolTip(
            tr("When the chosen raster shows its first three bands (coastal, blue, green), show it in true colour.")
        )
        self.true_colour.setChecked(settings.true_colour)
        layout.addRow(self.true_colour)
        self.save_button = QPushButton(tr("Save settings"))
        self.save_button.clicked.connect(self.save)
        layout.addRow(self.save_button)
        self.status = QLabel()
        layout.addRow(self.status)

    def current(self) -> GeoMeldSettings:
        """The settings as shown in the form."""
        return GeoMeldSettings(
            weights_dir=self.weights.filePath().strip(),
            cache_dir=self.cache.filePath().strip(),
            output_dir=self.outputs.filePath().strip(),
            cache_cap_mb=self.cache_cap.value(),
            tile_size=self.tile.value(),
            threads=self.threads.value(),
            provider=self.provider.currentText(),
            true_colour=self.true_colour.isChecked(),
        )

    def save(self) -> GeoMeldSettings:
        """Store the form's settings; later jobs use them."""
        settings = self.current()
        save_settings(settings)
        self.status.setText(tr("Saved."))
        return settings
