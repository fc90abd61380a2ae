"""Segment tab: class maps from class names (zero-shot) or unsupervised clusters, and their polygons."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from ..algorithms.base import INPUT, OUTPUT
from ..algorithms.segment import CLASSES, CLUSTERS, MIN_AREA
from ..i18n import tr
from ..layers import add_raster, add_vector, output_path
from ..styling import raster_classes, style_class_polygons, style_class_raster


class SegmentTab(QWidget):
    """Zero-shot classes, number of clusters, minimum polygon area."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        layout = QFormLayout(self)
        self.classes = QLineEdit("water, forest, farmland, town")
        layout.addRow(tr("Classes"), self.classes)
        self.zeroshot_button = QPushButton(tr("Segment by class names"))
        self.zeroshot_button.clicked.connect(self.zeroshot)
        layout.addRow(self.zeroshot_button)
        self.clusters = QSpinBox()
        self.clusters.setRange(2, 50)
        self.clusters.setValue(6)
        layout.addRow(tr("Clusters"), self.clusters)
        self.cluster_button = QPushButton(tr("Find clusters"))
        self.cluster_button.clicked.connect(self.cluster)
        layout.addRow(self.cluster_button)
        self.min_area = QDoubleSpinBox()
        self.min_area.setRange(0.0, 10000.0)
        self.min_area.setValue(0.5)
        self.min_area.setSuffix(" ha")
        layout.addRow(tr("Smallest polygon"), self.min_area)
        self.polygons_button = QPushButton(tr("Polygons of the last class map"))
        self.polygons_button.clicked.connect(self.vectorize)
        layout.addRow(self.polygons_button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout.addRow(self.result)
        self.last_class_map: str | None = None

    def zeroshot(self):
        """Classify the raster into the named classes."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters.update({CLASSES: self.classes.text(), OUTPUT: output_path("zeroshot", ".tif")})
        description = tr("GeoMeld zero-shot segmentation")
        return self.dock.run_algorithm(description, "zeroshot_segmentation", parameters, self._class_map(tr("Classes")))

    def cluster(self):
        """Group the pixels into clusters of similar embeddings."""
        parameters = self.dock.raster_parameters()
        if parameters is None:
            return None
        parameters.update({CLUSTERS: self.clusters.value(), OUTPUT: output_path("clusters", ".tif")})
        return self.dock.run_algorithm(tr("GeoMeld clusters"), "clusters", parameters, self._class_map(tr("Clusters")))

    def _class_map(self, name: str):
        def done(results: dict) -> None:
            """Add the finished result to the map."""
            self.last_class_map = results[OUTPUT]
            add_raster(results[OUTPUT], name, style_class_raster)

        return done

    def vectorize(self):
        """Turn the last class map into polygons with areas."""
        if self.last_class_map is None:
            self.dock.show_error(tr("Make a class map first (class names, clusters or a probe)."))
            return None
        parameters = {
            INPUT: self.last_class_map,
            MIN_AREA: self.min_area.value(),
            OUTPUT: output_path("polygons", ".gpkg"),
        }
        return self.dock.run_algorithm(tr("GeoMeld polygons"), "vectorize", parameters, self._vectorized)

    def _vectorized(self, results: dict) -> None:
        colours = {name: colour for _, name, colour in raster_classes(self.last_class_map)}
        add_vector(
            results[OUTPUT],
            tr("Class polygons"),
            lambda layer: style_class_polygons(layer, "class_name", colours, "area_ha"),
        )
