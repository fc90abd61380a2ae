"""Embed tab: compute the embeddings of the chosen raster and show their PCA colour preview."""

from __future__ import annotations

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..algorithms.base import OUTPUT, REPORT
from ..algorithms.batch import INPUTS
from ..algorithms.embed import STRIDE
from ..i18n import tr
from ..layers import add_raster, output_path
from ..styling import style_pca_rgb


class EmbedTab(QWidget):
    """Stride, Compute and Preview buttons; below them, embeddings of many raster files into one folder."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        layout = QFormLayout(self)
        intro = QLabel(
            tr("Embeddings describe every pixel for the model; they are computed once and cached for all other tabs.")
        )
        intro.setWordWrap(True)
        layout.addRow(intro)
        self.stride = QSpinBox()
        self.stride.setRange(1, 16)
        self.stride.setValue(1)
        layout.addRow(tr("Stride"), self.stride)
        self.embed_button = QPushButton(tr("Compute embeddings"))
        self.embed_button.clicked.connect(self.embed)
        layout.addRow(self.embed_button)
        self.preview_button = QPushButton(tr("Show colour preview (PCA)"))
        self.preview_button.clicked.connect(self.preview)
        layout.addRow(self.preview_button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout.addRow(self.result)
        many = QLabel(tr("Many rasters: one embedding raster each and a mosaic per CRS; a second run resumes."))
        many.setWordWrap(True)
        layout.addRow(many)
        self.batch_inputs = QgsFileWidget()
        self.batch_inputs.setStorageMode(QgsFileWidget.GetMultipleFiles)
        self.batch_inputs.setFilter(tr("Rasters (*.tif *.tiff *.vrt *.jp2);;All files (*)"))
        layout.addRow(tr("Raster files"), self.batch_inputs)
        self.batch_folder = QgsFileWidget()
        self.batch_folder.setStorageMode(QgsFileWidget.GetDirectory)
        layout.addRow(tr("Output folder"), self.batch_folder)
        self.batch_button = QPushButton(tr("Embed all"))
        self.batch_button.clicked.connect(self.embed_many)
        layout.addRow(self.batch_button)

    def embed(self):
        """Compute the embedding raster of the chosen layer."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters.update({STRIDE: self.stride.value(), OUTPUT: output_path("embedding", ".tif")})
        return self.dock.run_algorithm(tr("GeoMeld embeddings"), "embed", parameters, self._embedded)

    def _embedded(self, results: dict) -> None:
        self.result.setText(tr("Embeddings written to {0}.").format(results[OUTPUT]))

    def preview(self):
        """Compute (or reuse) the embeddings and add their PCA colour preview to the map."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters[OUTPUT] = output_path("pca_preview", ".tif")
        return self.dock.run_algorithm(tr("GeoMeld colour preview"), "pca_preview", parameters, self._previewed)

    def _previewed(self, results: dict) -> None:
        add_raster(results[OUTPUT], tr("Embedding preview (PCA)"), style_pca_rgb)
        self.result.setText(tr("Similar colours mean similar embeddings."))

    def embed_many(self):
        """Embed every chosen raster file into the output folder (in the background, without Dask)."""
        files = QgsFileWidget.splitFilePaths(self.batch_inputs.filePath())
        if not files or not self.batch_folder.filePath():
            self.dock.show_error(tr("Choose the raster files and an output folder."))
            return None
        parameters = {INPUTS: files, OUTPUT: self.batch_folder.filePath()}
        return self.dock.run_algorithm(tr("GeoMeld embeddings of many rasters"), "batch_embed", parameters, self._many)

    def _many(self, results: dict) -> None:
        self.result.setText(results[REPORT])
