"""The GeoMeld panel driven through real Qt events in a real QGIS: labelling, probe, search, errors, cancel.

Also renders the README tour screenshots; with GEOMELD_UPDATE_SCREENSHOTS=1 they replace docs/screenshots/*.png,
otherwise they go to a temporary folder, so a test run leaves the checkout unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsContrastEnhancement,
    QgsPalettedRasterRenderer,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtCore import QPoint, Qt, QUrl
from qgis.PyQt.QtGui import QImage
from qgis.PyQt.QtTest import QTest

from model_core.bands import S2_BANDS
from model_core.demo import demo_scene_path
from tests.conftest import REPO_ROOT, shared

DOC_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"
CROP = (480, 480, 384, 384)  # coast of the demo scene: farmland, marsh and lagoon


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where the screenshots go: docs/screenshots when GEOMELD_UPDATE_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("GEOMELD_UPDATE_SCREENSHOTS") == "1":
        return DOC_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def panel(loaded_plugin, weights_dir, qgis_canvas, tmp_path_factory):
    """The plugin's dock with GeoMeld's weights and cache pointed at test folders."""
    patch = pytest.MonkeyPatch()
    patch.setenv("GEOMELD_WEIGHTS_DIR", str(weights_dir))
    patch.setenv("GEOMELD_CACHE_DIR", str(tmp_path_factory.mktemp("dock_cache")))
    dock = loaded_plugin.dock
    dock.resize(520, 680)
    yield dock
    dock.shutdown()
    QgsProject.instance().removeAllMapLayers()
    patch.undo()


@pytest.fixture(scope="module")
def demo_crop(tmp_path_factory) -> Path:
    """A crop of the demo scene (real Sentinel-2 L1C) small enough for quick tests."""
    path = tmp_path_factory.mktemp("demo") / "demo_crop.tif"
    gdal.Translate(str(path), str(demo_scene_path()), srcWin=list(CROP))
    return path


def add_layer(path: Path, name: str) -> QgsRasterLayer:
    """Add a raster to the project (and so to the canvas and the panel's combo)."""
    layer = QgsRasterLayer(str(path), name)
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


def scene_layer(path: Path) -> QgsRasterLayer:
    """The demo crop in the project (added once), shown in true colour."""
    found = QgsProject.instance().mapLayersByName("demo crop")
    if found:
        return found[0]
    from geomeld.plugin.styling import TRUE_COLOUR, style_composite

    scene = add_layer(path, "demo crop")
    style_composite(scene, S2_BANDS, TRUE_COLOUR)
    return scene


def meaning_colour(text: str) -> tuple[int, int, int]:
    """The colour of a meaning of the class-colour lexicon."""
    from model_core.engine.palette import LEXICON

    return next(meaning.colour for meaning in LEXICON if meaning.text == text)


def bands_shown(layer: QgsRasterLayer) -> tuple[int, int, int]:
    """The bands a multiband layer draws as red, green and blue."""
    renderer = layer.renderer()
    return renderer.redBand(), renderer.greenBand(), renderer.blueBand()


def select(panel, layer: QgsRasterLayer, canvas) -> None:
    """Choose `layer` in the panel and show it on the canvas."""
    panel.raster_combo.setLayer(layer)
    canvas.setDestinationCrs(layer.crs())
    canvas.setLayers([layer])
    canvas.setExtent(layer.extent())
    canvas.refresh()


def wait(panel, seconds: float = 180.0) -> None:
    """Process events until the panel's background job has finished."""
    deadline = time.monotonic() + seconds
    while panel.task is not None and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    QgsApplication.processEvents()
    assert panel.task is None, "the GeoMeld task did not finish"


def geomeld_layers() -> list:
    """Layers of the GeoMeld group, top first."""
    group = QgsProject.instance().layerTreeRoot().findGroup("GeoMeld")
    return [] if group is None else [node.layer() for node in group.findLayers()]


def critical_messages(iface) -> list[str]:
    """Critical messages pushed to the message bar so far."""
    return list(iface.messageBar().get_messages(Qgis.Critical))


def render(layers: list, path: Path, size: int = 640) -> QImage:
    """Render layers over the extent of the last one and save the image as a PNG."""
    from geomeld.plugin.snapshot import render_layers

    image = render_layers(layers, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path))
    return image


def not_blank(image: QImage) -> bool:
    """True when an image has real contrast."""
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    return pixels.std() > 10


def class_pixels(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pixel rows/cols of clearly water, vegetated and open land in a Sentinel-2 crop (NDWI/NDVI thresholds)."""
    dataset = gdal.Open(str(path))
    green, red, nir = (dataset.GetRasterBand(i).ReadAsArray().astype(float) for i in (3, 4, 8))
    ndwi = (green - nir) / (green + nir + 1e-6)
    ndvi = (nir - red) / (nir + red + 1e-6)
    masks = {"water": ndwi > 0.3, "vegetation": ndvi > 0.5, "open land": (ndvi < 0.25) & (ndwi < 0.0)}
    return {name: np.nonzero(mask[8:-8, 8:-8]) for name, mask in masks.items()}


def click_map(canvas, layer: QgsRasterLayer, col: float, row: float) -> None:
    """Left-click the canvas where pixel (col, row) of `layer` is shown."""
    extent = layer.extent()
    x = extent.xMinimum() + (col + 0.5) * layer.rasterUnitsPerPixelX()
    y = extent.yMaximum() - (row + 0.5) * layer.rasterUnitsPerPixelY()
    point = canvas.getCoordinateTransform().transform(x, y)
    QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, QPoint(round(point.x()), round(point.y())))


def test_panel_has_the_seven_tabs(panel):
    names = [panel.tabs.tabText(i).replace("&&", "&") for i in range(panel.tabs.count())]
    assert names == ["Embed", "Label & Probe", "Indicators", "Segment", "Search", "Change", "Settings"]
    assert panel.tabs.widget(0).isEnabled()


def test_band_mapping_is_detected_and_bad_rasters_explained(panel, qgis_canvas, demo_crop):
    rgb = add_layer(shared(RGB_CHIP), "rgb chip")
    select(panel, rgb, qgis_canvas)
    assert panel.bands_edit.text() == "" and "B02" in panel.band_status.text()
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    assert panel.bands_edit.text() == "B01,B02,B03,B04,B05,B06,B07,B08,B8A,B09,B10,B11,B12"
    QgsProject.instance().removeMapLayer(rgb.id())
    del rgb, scene


def test_true_and_false_colour(panel, qgis_canvas, demo_crop, screenshots):
    layer = add_layer(demo_crop, "as QGIS opens it")
    assert bands_shown(layer) == (1, 2, 3)  # QGIS's default: coastal, blue, green
    select(panel, layer, qgis_canvas)
    assert bands_shown(layer) == (4, 3, 2)  # shown in true colour at once (the setting's default)
    assert layer.renderer().minMaxOrigin().limits() == QgsRasterMinMaxOrigin.CumulativeCut
    enhancement = layer.renderer().redContrastEnhancement()
    assert enhancement.contrastEnhancementAlgorithm() == QgsContrastEnhancement.StretchToMinimumMaximum
    assert not_blank(render([layer], screenshots / "true_colour.png"))
    QTest.mouseClick(panel.false_colour_button, Qt.LeftButton)
    assert bands_shown(layer) == (8, 4, 3)
    QTest.mouseClick(panel.true_colour_button, Qt.LeftButton)
    assert bands_shown(layer) == (4, 3, 2)
    from geomeld.plugin.settings import load_settings, save_settings

    original = load_settings()
    try:
        save_settings(dataclasses.replace(original, true_colour=False))
        untouched = add_layer(demo_crop, "left as it is")
        select(panel, untouched, qgis_canvas)
        assert bands_shown(untouched) == (1, 2, 3) and panel.true_colour_button.isEnabled()
    finally:
        save_settings(original)
    QgsProject.instance().removeMapLayers([layer.id(), untouched.id()])
    del layer, untouched


def test_an_empty_query_gives_the_best_score_and_a_threshold_to_try(panel, qgis_iface, qgis_canvas, demo_crop):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    tab = panel.search_tab
    parameters = panel.raster_parameters()
    parameters.update(TEXT="forest", THRESHOLD=1.0, **tab._outputs("query"))
    before = len(qgis_iface.messageBar().get_messages(Qgis.Warning))
    panel.run_algorithm("GeoMeld text query", "text_query", parameters, tab._show("forest"))
    wait(panel)
    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)[before:]
    assert len(warnings) == 1 and "Nothing found for 'forest'" in warnings[0], warnings
    assert re.search(r"the best score is \d\.\d\d\. Move the threshold slider to \d\.\d\d", warnings[0])
    assert "--" not in warnings[0]  # panel wording, no command-line flags
    del scene


def test_non_sentinel_layer_gives_message_and_no_layer(panel, qgis_iface, qgis_canvas):
    rgb = add_layer(shared(RGB_CHIP), "rgb chip")
    select(panel, rgb, qgis_canvas)
    before, layers = len(critical_messages(qgis_iface)), len(geomeld_layers())
    QTest.mouseClick(panel.embed_tab.preview_button, Qt.LeftButton)
    wait(panel)
    messages = critical_messages(qgis_iface)[before:]
    assert len(messages) == 1 and "GeoMeld needs Sentinel-2 bands" in messages[0] and "Traceback" not in messages[0]
    assert len(geomeld_layers()) == layers
    QgsProject.instance().removeMapLayer(rgb.id())
    del rgb


def test_cancel_mid_task_adds_nothing(panel, qgis_iface, qgis_canvas, demo_crop):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    before, layers = len(critical_messages(qgis_iface)), len(geomeld_layers())
    QTest.mouseClick(panel.embed_tab.preview_button, Qt.LeftButton)
    assert panel.task is not None and panel.cancel_button.isEnabled()
    QTest.mouseClick(panel.cancel_button, Qt.LeftButton)
    wait(panel)
    messages = critical_messages(qgis_iface)[before:]
    assert len(messages) == 1 and "Cancelled" in messages[0]
    assert len(geomeld_layers()) == layers
    outputs = Path(panel.settings_tab.current().output_path())
    assert not list(outputs.glob("pca_preview_*")) if outputs.exists() else True
    del scene


def test_label_clicks_train_and_apply_probe(panel, qgis_canvas, demo_crop, screenshots):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    tab = panel.probe_tab
    panel.tabs.setCurrentWidget(tab)
    QTest.mouseClick(tab.label_button, Qt.LeftButton)
    assert qgis_canvas.mapTool() is tab.tool
    rng = np.random.default_rng(1)
    for name, (rows, cols) in class_pixels(demo_crop).items():
        tab.class_combo.lineEdit().clear()
        QTest.keyClicks(tab.class_combo.lineEdit(), name)
        for index in rng.choice(len(rows), 6, replace=False):
            click_map(qgis_canvas, scene, cols[index] + 8, rows[index] + 8)
    labels = tab.labels_layer()
    values = [feature["class"] for feature in labels.getFeatures()]
    assert sorted(set(values)) == ["open land", "vegetation", "water"] and len(values) == 18
    QTest.mouseClick(tab.label_button, Qt.LeftButton)
    assert tab.tool is None
    QTest.mouseClick(tab.train_button, Qt.LeftButton)
    wait(panel)
    assert "accuracy" in tab.metrics.text() and "f1" in tab.metrics.text()
    assert tab.matrix.pixmap() is not None and not tab.matrix.pixmap().isNull()
    QTest.mouseClick(tab.apply_button, Qt.LeftButton)
    wait(panel)
    suggestions, classes = geomeld_layers()[:2]
    assert suggestions.name() == "Label here next" and suggestions.featureCount() >= 1 and suggestions.labelsEnabled()
    assert classes.name() == "Probe classes" and isinstance(classes.renderer(), QgsPalettedRasterRenderer)
    assert [c.label for c in classes.renderer().classes()] == ["open land", "vegetation", "water"]
    legend = [label for label, _ in classes.legendSymbologyItems()]
    assert legend == ["open land", "vegetation", "water"]
    colours = {c.label: c.color.getRgb()[:3] for c in classes.renderer().classes()}
    assert colours["water"] == meaning_colour("water") and colours["vegetation"] == meaning_colour("grassland")
    group = QgsProject.instance().layerTreeRoot().findGroup("GeoMeld")
    assert group.isExpanded() and group.findLayer(classes.id()).isExpanded()  # legends show at once
    assert "held-out blocks of points" in tab.metrics.text() and "area per class" in tab.metrics.text()
    report = Path(QUrl(tab.report_link.text().split('"')[1]).toLocalFile())
    assert report.exists() and "Olofsson" in report.read_text()
    classes.setOpacity(0.6)
    image = render([classes, scene], screenshots / "probe_result.png")
    assert not_blank(image)
    del scene, labels, classes, suggestions


def test_text_query_with_history_threshold_and_places(panel, qgis_canvas, demo_crop, screenshots):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    tab = panel.search_tab
    panel.tabs.setCurrentWidget(tab)
    QTest.keyClicks(tab.query.lineEdit(), "water")
    QTest.keyClick(tab.query.lineEdit(), Qt.Key_Return)
    wait(panel)
    from geomeld.plugin.settings import query_history

    assert tab.query.itemText(0) == "water" and query_history()[0] == "water"
    heatmap = tab.heatmap
    assert heatmap.name() == "water" and isinstance(heatmap.renderer(), QgsSingleBandPseudoColorRenderer)
    assert heatmap.renderer().classificationMin() == pytest.approx(0.5)
    places = geomeld_layers()[0]
    assert places.name() == "Places: water" and geomeld_layers()[1] is heatmap  # outlines drawn over the heatmap
    assert places.renderer().symbol().symbolLayer(0).brushStyle() == Qt.NoBrush
    image = render([places, heatmap, scene], screenshots / "text_query.png")
    assert not_blank(image)
    tab.threshold.setValue(20)
    assert tab.heatmap.renderer().classificationMin() == pytest.approx(0.2)
    transparency = tab.heatmap.renderer().rasterTransparency().transparentSingleValuePixelList()
    assert transparency[0].max == pytest.approx(0.2) and transparency[0].percentTransparent == 100
    if tab.places.count():
        before = qgis_canvas.extent()
        tab.zoom_to(tab.places.item(0))
        assert qgis_canvas.extent() != before
    QgsProject.instance().removeMapLayer(heatmap.id())  # the user deletes the heatmap; the slider must not fail
    tab.threshold.setValue(40)
    assert tab.threshold_label.text() == "0.40"
    del scene, heatmap


def test_example_buttons_and_query_by_example_click(panel, qgis_canvas, demo_crop):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    tab = panel.search_tab
    QTest.mouseClick(tab.example_button, Qt.LeftButton)
    assert qgis_canvas.mapTool() is tab.example_tool
    rows, cols = class_pixels(demo_crop)["water"]
    click_map(qgis_canvas, scene, cols[0] + 8, rows[0] + 8)
    wait(panel)
    heatmap = tab.heatmap
    assert heatmap.name() == "Like the example" and isinstance(heatmap.renderer(), QgsSingleBandPseudoColorRenderer)
    QTest.mouseClick(tab.example_button, Qt.LeftButton)
    assert tab.example_tool is None
    del scene, heatmap


def test_clusters_then_polygons_from_the_segment_tab(panel, qgis_canvas, demo_crop):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    tab = panel.segment_tab
    panel.tabs.setCurrentWidget(tab)
    tab.clusters.setValue(3)
    QTest.mouseClick(tab.cluster_button, Qt.LeftButton)
    wait(panel)
    clusters = geomeld_layers()[0]
    assert clusters.name() == "Clusters" and isinstance(clusters.renderer(), QgsPalettedRasterRenderer)
    assert [c.label for c in clusters.renderer().classes()] == ["cluster 1", "cluster 2", "cluster 3"]
    tab.min_area.setValue(1.0)
    QTest.mouseClick(tab.polygons_button, Qt.LeftButton)
    wait(panel)
    polygons = geomeld_layers()[0]
    assert polygons.name() == "Class polygons" and isinstance(polygons.renderer(), QgsCategorizedSymbolRenderer)
    assert {c.label() for c in polygons.renderer().categories()} <= {"cluster 1", "cluster 2", "cluster 3"}
    assert polygons.labelsEnabled() and min(f["area_ha"] for f in polygons.getFeatures()) >= 1.0
    del scene, clusters, polygons


def test_change_tab_compares_two_dates(panel, qgis_canvas):
    slovenia = "eolearn_testeopatch_slovenia/reference_scene_{}_s2l1c.tif"
    date_a = add_layer(shared(slovenia.format(1)), "slovenia A")
    date_b = add_layer(shared(slovenia.format(4)), "slovenia B")
    select(panel, date_a, qgis_canvas)
    tab = panel.change_tab
    panel.tabs.setCurrentWidget(tab)
    tab.raster_b.setLayer(date_b)
    QTest.mouseClick(tab.run_button, Qt.LeftButton)
    wait(panel)
    places, change = geomeld_layers()[:2]
    assert change.name() == "Change" and isinstance(change.renderer(), QgsSingleBandPseudoColorRenderer)
    assert places.name() == "Changed places" and places.featureCount() >= 1
    del date_a, date_b, places, change


def test_shutdown_mid_job_drops_the_result(panel, qgis_iface, qgis_canvas, demo_crop):
    scene = scene_layer(demo_crop)
    select(panel, scene, qgis_canvas)
    before, layers = len(critical_messages(qgis_iface)), len(geomeld_layers())
    panel.segment_tab.clusters.setValue(4)
    QTest.mouseClick(panel.segment_tab.cluster_button, Qt.LeftButton)
    task = panel.task
    assert task is not None
    panel.shutdown()  # what unloading the plugin does
    assert panel.task is None
    deadline = time.monotonic() + 60
    while QgsApplication.taskManager().countActiveTasks() and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    QgsApplication.processEvents()
    assert QgsApplication.taskManager().countActiveTasks() == 0
    assert len(geomeld_layers()) == layers and len(critical_messages(qgis_iface)) == before
    del scene, task


def test_dock_screenshot(panel, screenshots):
    panel.tabs.setCurrentWidget(panel.search_tab)
    image = panel.grab().toImage()
    screenshots.mkdir(parents=True, exist_ok=True)
    assert image.save(str(screenshots / "dock.png"))
    assert not_blank(image) and image.width() >= 400


def test_settings_tab_round_trip(panel):
    from geomeld.plugin.settings import load_settings, save_settings

    from model_core.devices import offered_devices

    original = load_settings()
    try:
        tab = panel.settings_tab
        tab.tile.setValue(256)
        tab.threads.setValue(2)
        QTest.mouseClick(tab.save_button, Qt.LeftButton)
        stored = load_settings()
        assert (stored.tile_size, stored.threads, stored.provider) == (256, 2, "CPU")
        assert stored.onnx_providers() == ["CPUExecutionProvider"] and stored.thread_count() == 2
        offered = [tab.provider.itemText(i) for i in range(tab.provider.count())]
        assert offered == offered_devices() and offered[0] == "CPU"
    finally:
        save_settings(original)


def test_the_settings_cache_limit_applies_to_every_job(panel, qgis_canvas, tmp_path):
    """With a 1 MB cache limit in the Settings, each panel job (embed, text query, query by example, zero-shot; each
    on a raster of its own, whose embedding is larger than 1 MB) keeps only its own embedding in the configured cache
    folder: storing it evicts the one before, so every job's cache has the limit of the Settings."""
    from geomeld.plugin.settings import load_settings, save_settings

    from model_core.engine.cache import EmbeddingCache

    scene = gdal.Open(str(demo_scene_path()))
    rasters = []
    for index, (col, row) in enumerate([(480, 480), (736, 480), (480, 736), (736, 736)]):
        path = tmp_path / f"crop_{index}.tif"
        gdal.Translate(str(path), scene, srcWin=[col, row, 256, 256])
        rasters.append(path)
    cache = EmbeddingCache(tmp_path / "cache" / "embeddings")
    original = load_settings()
    try:
        save_settings(dataclasses.replace(original, cache_dir=str(tmp_path / "cache"), cache_cap_mb=1))
        jobs = [
            lambda layer: panel.embed_tab.embed(),
            lambda layer: panel.search_tab.search_for("water"),
            lambda layer: panel.search_tab.search_like(QgsPointXY(layer.extent().center())),
            lambda layer: panel.segment_tab.zeroshot(),
        ]
        for path, job in zip(rasters, jobs):
            layer = add_layer(path, path.stem)
            select(panel, layer, qgis_canvas)
            job(layer)
            wait(panel)
            entries = cache.entries()
            sources = [json.loads((cache.folder / f"{key}.json").read_text())["source"] for key, _, _ in entries]
            assert sources == [str(path)] and entries[0][1] > 1024 * 1024
    finally:
        save_settings(original)


def test_reflectance_scale_field(panel, qgis_iface, qgis_canvas):
    x1000 = add_layer(shared("rsgislib_aberystwyth_s2/s2_20210527_aberystwyth_10band_sref_x1000.tif"), "x1000 scene")
    select(panel, x1000, qgis_canvas)
    assert panel.scale_edit.placeholderText() == "detected: 1000" and "x 1000" in panel.band_status.text()
    assert panel.raster_parameters()["SCALE"] is None  # empty: detected by the algorithm
    panel.scale_edit.setText("0")
    assert panel.raster_parameters() is None
    assert any("reflectance scale must be a positive number" in text for text in critical_messages(qgis_iface))
    panel.scale_edit.setText("10000")
    assert panel.raster_parameters()["SCALE"] == 10000.0
    QgsProject.instance().removeMapLayer(x1000.id())
    del x1000
