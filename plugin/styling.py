"""Styles for GeoMeld outputs (pure functions on a layer) and the "GeoMeld" layer group they are added to."""

from __future__ import annotations

from collections.abc import Sequence

from osgeo import gdal
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsFillSymbol,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMarkerSymbol,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsPalLayerSettings,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsRasterShader,
    QgsRasterTransparency,
    QgsRendererCategory,
    QgsSingleBandPseudoColorRenderer,
    QgsSingleSymbolRenderer,
    QgsSymbol,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor

from ..model_core.bands import normalise_band_name

GROUP_NAME = "GeoMeld"
# Distinct colours for classes without a colour table (ColorBrewer Set1/Set3-like).
PALETTE = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#ffff99",
)
HEATMAP_STOPS = ("#fde725", "#f98e09", "#bc3754", "#57106e")  # low (just above threshold) -> high
PLACE_LABELS = 10  # the best places labelled on the map
PLACE_OUTLINE = "#00e5ff"  # cyan: apart from the heatmap's yellow-to-purple ramp and from land covers
# Sentinel-2 band composites as (red, green, blue): natural colours, and vegetation in red.
TRUE_COLOUR = ("B04", "B03", "B02")
FALSE_COLOUR = ("B08", "B04", "B03")


def class_colour(value: int) -> QColor:
    """The default colour of class `value`."""
    return QColor(PALETTE[int(value) % len(PALETTE)])


def raster_classes(path: str) -> list[tuple[int, str, QColor]]:
    """(value, name, colour) of the classes 1..n of a GeoMeld class raster (0 = no data), from its names and
    colour table; rasters without names get their values as names."""
    from ..model_core.engine.classmap import class_names_of

    dataset = gdal.Open(path)
    band = dataset.GetRasterBand(1)
    names = class_names_of(dataset)
    if names:
        values = list(range(1, len(names) + 1))
    else:
        low, high = band.ComputeRasterMinMax(False)
        values = [v for v in range(max(int(low), 1), int(high) + 1) if v != band.GetNoDataValue()]
    table = band.GetRasterColorTable()
    classes = []
    for value in values:
        colour = class_colour(value - 1)
        if table is not None and value < table.GetCount():
            colour = QColor(*table.GetColorEntry(value)[:3])
        classes.append((value, names[value - 1] if names else str(value), colour))
    return classes


def style_class_raster(layer: QgsRasterLayer) -> QgsPalettedRasterRenderer:
    """Paletted renderer with the class names and colours stored in the raster."""
    classes = [QgsPalettedRasterRenderer.Class(v, c, n) for v, n, c in raster_classes(layer.source())]
    renderer = QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return renderer


def band_range(layer: QgsRasterLayer, band: int = 1) -> tuple[float, float]:
    """Minimum and maximum of a band (exact statistics)."""
    stats = layer.dataProvider().bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
    return float(stats.minimumValue), float(stats.maximumValue)


def style_heatmap(layer: QgsRasterLayer, threshold: float) -> QgsSingleBandPseudoColorRenderer:
    """Pseudocolour ramp from `threshold` to the maximum; pixels below the threshold are fully transparent."""
    _, high = band_range(layer)
    high = max(high, threshold + 1e-6)
    ramp = QgsColorRampShader(threshold, high)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    steps = len(HEATMAP_STOPS) - 1
    items = []
    for i, colour in enumerate(HEATMAP_STOPS):
        value = threshold + (high - threshold) * i / steps
        items.append(QgsColorRampShader.ColorRampItem(value, QColor(colour), f"{value:.2f}"))
    ramp.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(threshold)
    renderer.setClassificationMax(high)
    transparency = QgsRasterTransparency()
    below = QgsRasterTransparency.TransparentSingleValuePixel()
    below.min, below.max, below.percentTransparent = -1e30, threshold, 100.0
    transparency.setTransparentSingleValuePixelList([below])
    renderer.setRasterTransparency(transparency)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return renderer


def stored_threshold(layer: QgsRasterLayer, default: float = 0.5) -> float:
    """The threshold GeoMeld stored in a heatmap's metadata when writing it (else `default`)."""
    value = gdal.Open(layer.source()).GetMetadataItem("threshold")
    return float(value) if value else default


def heatmap_threshold(layer: QgsRasterLayer) -> float | None:
    """The threshold a heatmap is styled with, or None for another renderer."""
    renderer = layer.renderer()
    if isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        return renderer.classificationMin()
    return None


def style_pca_rgb(layer: QgsRasterLayer) -> QgsMultiBandColorRenderer:
    """Bands 1-3 as red, green and blue, each stretched to its minimum and maximum."""
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), 1, 2, 3)
    setters = (
        renderer.setRedContrastEnhancement,
        renderer.setGreenContrastEnhancement,
        renderer.setBlueContrastEnhancement,
    )
    for band, setter in enumerate(setters, start=1):
        low, high = band_range(layer, band)
        enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(band))
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancement.setMinimumValue(low)
        enhancement.setMaximumValue(high)
        setter(enhancement)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return renderer


def layer_band_names(path: str, mapped: Sequence[str]) -> list[str]:
    """The Sentinel band name of each band of a raster file: the panel's mapping when it counts as many bands (a
    plain file), else the file's band descriptions (one subdataset of a product); "" where a band has no name."""
    dataset = gdal.Open(path)
    if dataset.RasterCount == len(mapped):
        return list(mapped)
    descriptions = (dataset.GetRasterBand(i).GetDescription().split(",")[0] for i in range(1, dataset.RasterCount + 1))
    return [normalise_band_name(text) or "" for text in descriptions]


def shows_first_bands(layer: QgsRasterLayer) -> bool:
    """True when a layer is drawn as QGIS draws a multiband raster by default: bands 1, 2 and 3 as red, green, blue."""
    renderer = layer.renderer()
    return isinstance(renderer, QgsMultiBandColorRenderer) and (
        renderer.redBand(),
        renderer.greenBand(),
        renderer.blueBand(),
    ) == (1, 2, 3)


def style_composite(
    layer: QgsRasterLayer, band_names: Sequence[str], composite: Sequence[str] = TRUE_COLOUR
) -> QgsMultiBandColorRenderer | None:
    """Draw the bands named in `composite` (red, green, blue; e.g. TRUE_COLOUR) of a layer whose bands are
    `band_names`, each stretched to its 2-98 % cumulative cut; None (the layer unchanged) when a band is missing."""
    if not all(name in band_names for name in composite):
        return None
    red, green, blue = (list(band_names).index(name) + 1 for name in composite)
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), red, green, blue)
    layer.setRenderer(renderer)
    layer.setContrastEnhancement(QgsContrastEnhancement.StretchToMinimumMaximum, QgsRasterMinMaxOrigin.CumulativeCut)
    layer.triggerRepaint()
    return layer.renderer()


def style_class_polygons(
    layer: QgsVectorLayer, class_field: str, colours: dict[str, QColor] | None = None, area_field: str | None = None
) -> QgsCategorizedSymbolRenderer:
    """Polygons coloured by class (colours by class name, defaults otherwise), labelled with their area in ha."""
    index = layer.fields().indexOf(class_field)
    categories = []
    for number, value in enumerate(sorted(layer.uniqueValues(index), key=str)):
        symbol = QgsSymbol.defaultSymbol(layer.geometryType())
        colour = (colours or {}).get(str(value), class_colour(number))
        symbol.setColor(colour)
        symbol.setOpacity(0.75)
        categories.append(QgsRendererCategory(value, symbol, str(value)))
    renderer = QgsCategorizedSymbolRenderer(class_field, categories)
    layer.setRenderer(renderer)
    if area_field and layer.fields().indexOf(area_field) >= 0:
        label_areas(layer, area_field)
    layer.triggerRepaint()
    return renderer


def style_place_outlines(layer: QgsVectorLayer) -> QgsSingleSymbolRenderer:
    """Places (query hits, changes: fields rank and area_ha) as outlines without fill, so the heatmap under them stays
    visible; the best PLACE_LABELS are labelled '#rank: area ha', as the panel lists them."""
    symbol = QgsFillSymbol.createSimple(
        {"style": "no", "outline_color": PLACE_OUTLINE, "outline_width": "0.5", "outline_width_unit": "MM"}
    )
    renderer = QgsSingleSymbolRenderer(symbol)
    layer.setRenderer(renderer)
    settings = QgsPalLayerSettings()
    settings.isExpression = True
    label = "'#' || \"rank\" || ': ' || format_number(\"area_ha\", 1) || ' ha'"
    settings.fieldName = f'CASE WHEN "rank" <= {PLACE_LABELS} THEN {label} END'
    enable_labels(layer, settings)
    layer.triggerRepaint()
    return renderer


def style_suggestions(layer: QgsVectorLayer) -> QgsVectorLayer:
    """Points to label next: bright markers numbered by usefulness (rank 1 first)."""
    symbol = QgsMarkerSymbol.createSimple({"name": "star", "color": "#ffde00", "outline_color": "#000000", "size": "4"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    settings = QgsPalLayerSettings()
    settings.fieldName = "rank"
    enable_labels(layer, settings)
    layer.triggerRepaint()
    return layer


def label_areas(layer: QgsVectorLayer, area_field: str) -> QgsPalLayerSettings:
    """Label each polygon with its area in hectares."""
    settings = QgsPalLayerSettings()
    settings.isExpression = True
    settings.fieldName = f"format_number(\"{area_field}\", 1) || ' ha'"
    return enable_labels(layer, settings)


def enable_labels(layer: QgsVectorLayer, settings: QgsPalLayerSettings) -> QgsPalLayerSettings:
    """Turn on labels with `settings` in small buffered text."""
    text = QgsTextFormat()
    text.setSize(8)
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    text.setBuffer(buffer)
    settings.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    return settings


def geomeld_group(project: QgsProject | None = None) -> QgsLayerTreeGroup:
    """The "GeoMeld" group of the layer tree (created at the top when missing), expanded so its legends show."""
    root = (project or QgsProject.instance()).layerTreeRoot()
    group = root.findGroup(GROUP_NAME)
    group = group if group is not None else root.insertGroup(0, GROUP_NAME)
    group.setExpanded(True)
    return group


def add_to_group(layer: QgsMapLayer, project: QgsProject | None = None) -> QgsMapLayer:
    """Add a layer to the project inside the "GeoMeld" group, on top, with its legend expanded."""
    project = project or QgsProject.instance()
    project.addMapLayer(layer, False)
    geomeld_group(project).insertLayer(0, layer).setExpanded(True)
    return layer
