"""Styles of GeoMeld outputs on real rasters: renderer types, class names, legends, heatmap transparency, group."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, Qt

from model_core.engine.classmap import style_class_raster as engine_style
from model_core.engine.vectorize import vectorize_classes
from tests.conftest import shared
from training.data.sample import LULC_CLASSES

LULC = "terramesh_examples/LULC/433D_629L_3_1.tif"
NDVI = "terramesh_examples/NDVI/637U_59R_1_3.tif"
RGB = "terramesh_examples/S2RGB/637U_59R_1_3.tif"
NAMES = list(LULC_CLASSES[1:])  # the TerraMesh land-cover classes
COLOURS = [(65, 155, 223), (57, 125, 73), (122, 135, 198), (228, 150, 53), (196, 40, 27), (165, 155, 143)] + [
    (168, 235, 255),
    (97, 97, 97),
    (227, 226, 195),
]


@pytest.fixture()
def class_raster(tmp_path) -> str:
    """The TerraMesh land-cover chip written as a GeoMeld class raster (names and colours by the engine)."""
    path = tmp_path / "lulc_classes.tif"
    gdal.Translate(str(path), str(shared(LULC)))
    dataset = gdal.Open(str(path), gdal.GA_Update)
    engine_style(dataset, NAMES, COLOURS)
    dataset = None
    return str(path)


def rendered_alpha(layer: QgsRasterLayer) -> np.ndarray:
    """Alpha channel of the layer rendered alone on a transparent background, one image pixel per raster pixel."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(layer.width(), layer.height()))
    settings.setBackgroundColor(Qt.transparent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    return pixels.reshape(image.height(), image.width(), 4)[:, :, 3]


def test_class_raster_gets_names_colours_and_legend(loaded_plugin, class_raster):
    from geomeld.plugin.styling import style_class_raster

    layer = QgsRasterLayer(class_raster, "classes")
    renderer = style_class_raster(layer)
    assert isinstance(layer.renderer(), QgsPalettedRasterRenderer) and layer.renderer() is renderer
    assert [c.label for c in renderer.classes()] == NAMES
    assert [c.value for c in renderer.classes()] == list(range(1, 10))
    assert renderer.classes()[0].color.getRgb()[:3] == COLOURS[0]
    assert [label for label, _ in layer.legendSymbologyItems()] == NAMES
    del layer


def test_heatmap_is_transparent_below_the_threshold_and_restyles_live(loaded_plugin):
    from geomeld.plugin.styling import heatmap_threshold, style_heatmap

    layer = QgsRasterLayer(str(shared(NDVI)), "ndvi as a score")
    values = gdal.Open(layer.source()).ReadAsArray()
    style_heatmap(layer, 0.9)
    assert isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer) and heatmap_threshold(layer) == 0.9
    opaque = rendered_alpha(layer) > 0
    assert abs(opaque.mean() - (values >= 0.9).mean()) < 0.02
    style_heatmap(layer, 0.5)
    assert heatmap_threshold(layer) == 0.5
    assert abs((rendered_alpha(layer) > 0).mean() - (values >= 0.5).mean()) < 0.02
    items = layer.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert items[0].value == pytest.approx(0.5) and items[-1].value == pytest.approx(values.max(), abs=1e-3)
    del layer


def test_pca_preview_is_rgb_stretched_per_band(loaded_plugin):
    from geomeld.plugin.styling import style_pca_rgb

    layer = QgsRasterLayer(str(shared(RGB)), "pca")
    renderer = style_pca_rgb(layer)
    assert isinstance(layer.renderer(), QgsMultiBandColorRenderer)
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (1, 2, 3)
    dataset = gdal.Open(layer.source())
    band = dataset.GetRasterBand(2).ReadAsArray()
    enhancement = renderer.greenContrastEnhancement()
    assert (enhancement.minimumValue(), enhancement.maximumValue()) == (band.min(), band.max())
    del layer


def test_polygons_coloured_by_class_with_area_labels(loaded_plugin, class_raster, tmp_path):
    from geomeld.plugin.styling import raster_classes, style_class_polygons

    result = vectorize_classes(class_raster, tmp_path / "polygons.gpkg", min_area_ha=1.0)
    layer = QgsVectorLayer(str(result.path), "polygons", "ogr")
    colours = {name: colour for _, name, colour in raster_classes(class_raster)}
    renderer = style_class_polygons(layer, "class_name", colours, "area_ha")
    assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    labels = [category.label() for category in renderer.categories()]
    assert labels == sorted(result.areas_ha) and set(labels) <= set(NAMES)
    water = [c for c in renderer.categories() if c.label() == "water"][0]
    assert water.symbol().color().getRgb()[:3] == COLOURS[0]
    assert layer.labelsEnabled() and "area_ha" in layer.labeling().settings().fieldName
    del layer


def test_outputs_go_into_one_geomeld_group(loaded_plugin, class_raster):
    from geomeld.plugin.styling import GROUP_NAME, add_to_group

    project = QgsProject()
    first = add_to_group(QgsRasterLayer(class_raster, "first"), project)
    second = add_to_group(QgsRasterLayer(class_raster, "second"), project)
    groups = [child for child in project.layerTreeRoot().children() if child.name() == GROUP_NAME]
    assert len(groups) == 1
    assert [node.layer().name() for node in groups[0].findLayers()] == ["second", "first"]
    project.removeAllMapLayers()
    del first, second, project
