"""Embed tab: compute the embeddings of the chosen raster and show their PCA colour preview."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..i18n import tr
from ..layers import add_raster, output_path
from ..styling import style_pca_rgb


class EmbedTab(QWidget):
    """Stride, Compute and Preview buttons."""

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

    def embed(self):
        """Compute the embedding raster of the chosen layer."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters.update(STRIDE=self.stride.value(), OUTPUT=output_path("embedding", ".tif"))
        return self.dock.run_algorithm(tr("GeoMeld embeddings"), "embed", parameters, self._embedded)

    def _embedded(self, results: dict) -> None:
        self.result.setText(tr("Embeddings written to {0}.").format(results["OUTPUT"]))

    def preview(self):
        """Compute (or reuse) the embeddings and add their PCA colour preview to the map."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters["OUTPUT"] = output_path("pca_preview", ".tif")
        return self.dock.run_algorithm(tr("GeoMeld colour preview"), "pca_preview", parameters, self._previewed)

    def _previewed(self, results: dict) -> None:
        add_raster(results["OUTPUT"], tr("Embedding preview (PCA)"), style_pca_rgb)
        self.result.setText(tr("Similar colours mean similar embeddings."))
