"""Training samples for probes: labelled points, lines or polygons from a vector file, sampled from an embedding raster.

Features may be in any CRS (they are reprojected to the raster's); features outside the raster or on nodata are
counted and skipped. Polygons are rasterised over the window they cover and sampled up to a per-class cap.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, ogr, osr

from ..defaults import MAX_PER_CLASS, MAX_SAMPLES
from ..errors import LabelInputError
from ..feedback import Feedback, ensure_feedback
from ..io import SentinelRaster, Window
from .accuracy import GROUP_BLOCK
from .context import EngineContext
from .embedding import EmbeddingFile, EmbeddingResult, embed_raster

ogr.UseExceptions()
osr.UseExceptions()

MIN_SAMPLES_WARNING = 3
BLOCK = 256
BLOCKS_PER_ROW = 1 << 20  # block ids of point labels: block row * BLOCKS_PER_ROW + block column


@dataclass
class LabelSamples:
    """Embeddings (N, D) with class indices (N,) into `class_names`, and how the features were used."""

    embeddings: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    pixels: np.ndarray  # (N, 2) column, row in the embedding grid
    features_used: int = 0
    features_skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    groups: np.ndarray | None = None  # (N,) what held-out validation keeps together: see `sample_groups`

    def counts(self) -> dict[str, int]:
        """Number of samples per class."""
        return {name: int((self.labels == index).sum()) for index, name in enumerate(self.class_names)}


def open_layer(path: str, layer_name: str | None) -> tuple[ogr.DataSource, ogr.Layer]:
    """A vector file and one of its layers (default: the first); LabelInputError says what is wrong."""
    try:
        source = ogr.Open(path)
    except RuntimeError:
        source = None
    if source is None:
        raise LabelInputError(f"'{path}' is not a vector file OGR can read (GeoPackage, Shapefile, GeoJSON...).")
    names = [source.GetLayerByIndex(i).GetName() for i in range(source.GetLayerCount())]
    if layer_name is not None and layer_name not in names:
        raise LabelInputError(f"'{path}' has no layer '{layer_name}'; its layers are: {', '.join(names)}.")
    if not names:
        raise LabelInputError(f"'{path}' holds no layer.")
    return source, source.GetLayerByName(layer_name) if layer_name is not None else source.GetLayerByIndex(0)


def _sort_classes(values: set[str]) -> list[str]:
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def _class_value(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def layer_transform(vector: ogr.Layer, crs_wkt: str) -> osr.CoordinateTransformation | None:
    """The transformation from a layer's CRS to `crs_wkt` (None when they are the same); refuses a layer without CRS."""
    source_srs = vector.GetSpatialRef()
    if source_srs is None:
        raise LabelInputError(f"Layer '{vector.GetName()}' has no CRS; set the layer's CRS in QGIS first.")
    try:
        return crs_transform(source_srs, crs_wkt)
    except RuntimeError as exc:
        raise LabelInputError(
            f"Layer '{vector.GetName()}' has a CRS that cannot be brought into the raster's ({exc}); set the layer's "
            "CRS in QGIS first."
        ) from None


def crs_transform(source_srs: osr.SpatialReference, crs_wkt: str) -> osr.CoordinateTransformation | None:
    """The transformation from `source_srs` to `crs_wkt` in x/y (east/north) order; None when they are the same."""
    target_srs = osr.SpatialReference(wkt=crs_wkt)
    for srs in (source_srs, target_srs):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return None if source_srs.IsSame(target_srs) else osr.CoordinateTransformation(source_srs, target_srs)


def read_features(
    path: str | os.PathLike, fields: Sequence[str], crs_wkt: str, layer: str | None = None
) -> tuple[list[tuple[tuple[str, ...], ogr.Geometry]], int]:
    """(values of `fields`, geometry reprojected to `crs_wkt`) of every feature with a geometry and a value in the
    first field (others may be empty: ""), and the number of features without them."""
    source, vector = open_layer(str(path), layer)
    definition = vector.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    for name in fields:
        if name not in names:
            raise LabelInputError(
                f"Layer '{vector.GetName()}' has no field '{name}'; its fields are: {', '.join(names) or 'none'}."
            )
    if vector.GetFeatureCount() == 0:
        raise LabelInputError(f"Layer '{vector.GetName()}' of '{path}' is empty: draw some labelled features first.")
    transform = layer_transform(vector, crs_wkt)
    features, unlabelled = [], 0
    for feature in vector:
        geometry = feature.GetGeometryRef()
        raw = [feature.GetField(name) for name in fields]
        values = tuple("" if value is None else _class_value(value) for value in raw)
        if geometry is None or geometry.IsEmpty() or values[0] == "":
            unlabelled += 1
            continue
        geometry = geometry.Clone()
        if transform is not None:
            try:
                geometry.Transform(transform)
            except RuntimeError as exc:
                raise LabelInputError(
                    f"The coordinates of layer '{vector.GetName()}' do not fit its CRS ({exc}); set the layer's "
                    "right CRS in QGIS first."
                ) from None
        features.append((values, geometry))
    del source
    return features, unlabelled


def read_label_features(
    path: str | os.PathLike, class_field: str, crs_wkt: str, layer: str | None = None
) -> tuple[list[tuple[str, ogr.Geometry]], int]:
    """(class value, geometry reprojected to `crs_wkt`) of every labelled feature, and the number without a label."""
    features, unlabelled = read_features(path, [class_field], crs_wkt, layer)
    return [(values[0], geometry) for values, geometry in features], unlabelled


def embed_under_labels(
    raster: SentinelRaster,
    context: EngineContext,
    labels_path: str | os.PathLike,
    fields: Sequence[str],
    layer: str | None,
    stride: int,
) -> EmbeddingResult:
    """Check the label file (layer, fields, CRS) before the model runs, then embed the raster (cached) as the first
    80 % of a probe's training."""
    read_features(labels_path, fields, raster.crs_wkt, layer)
    return embed_raster(raster, context.scaled(0, 80), stride=stride)


def _pixel(embedding: EmbeddingFile, x: float, y: float) -> tuple[int, int]:
    x0, dx, _, y0, _, dy = embedding.geotransform
    return int(np.floor((x - x0) / dx)), int(np.floor((y - y0) / dy))


def envelope_window(embedding: EmbeddingFile, geometry: ogr.Geometry) -> Window | None:
    """The window of the embedding grid under a geometry's envelope, cut to the raster (None when outside)."""
    xmin, xmax, ymin, ymax = geometry.GetEnvelope()
    col0, row0 = _pixel(embedding, xmin, ymax)
    col1, row1 = _pixel(embedding, xmax, ymin)
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, embedding.width - 1), min(row1, embedding.height - 1)
    if col1 < col0 or row1 < row0:
        return None
    return Window(col0, row0, col1 - col0 + 1, row1 - row0 + 1)


def _geometry_pixels(embedding: EmbeddingFile, geometry: ogr.Geometry) -> np.ndarray:
    """(K, 2) column/row of the pixels a geometry covers inside the raster (points: their pixel)."""
    flat = ogr.GT_Flatten(geometry.GetGeometryType())
    if flat in (ogr.wkbPoint, ogr.wkbMultiPoint):
        points = (
            [geometry]
            if flat == ogr.wkbPoint
            else [geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]
        )
        pixels = np.array([_pixel(embedding, p.GetX(), p.GetY()) for p in points], dtype=np.int64).reshape(-1, 2)
    else:
        window = envelope_window(embedding, geometry)
        if window is None:
            return np.empty((0, 2), dtype=np.int64)
        mask = rasterise(embedding, geometry, window, touched=flat not in (ogr.wkbPolygon, ogr.wkbMultiPolygon))
        rows, cols = np.nonzero(mask)
        pixels = np.stack([cols + window.col, rows + window.row], axis=1)
        if not len(pixels):  # smaller than a pixel: use the pixel under its centroid
            centroid = geometry.Centroid()
            pixels = np.array([_pixel(embedding, centroid.GetX(), centroid.GetY())], dtype=np.int64)
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < embedding.width) & (pixels[:, 1] >= 0)
    inside &= pixels[:, 1] < embedding.height
    return pixels[inside]


def sample_groups(number: int, geometry: ogr.Geometry, pixels: np.ndarray) -> np.ndarray:
    """The group of each pixel a feature gives, for validation that holds groups out whole: the feature itself
    (its number, >= 0) for polygons and lines; for points, their GROUP_BLOCK px block of the grid (ids < 0)."""
    if ogr.GT_Flatten(geometry.GetGeometryType()) in (ogr.wkbPoint, ogr.wkbMultiPoint):
        return -1 - (pixels[:, 1] // GROUP_BLOCK * BLOCKS_PER_ROW + pixels[:, 0] // GROUP_BLOCK)
    return np.full(len(pixels), number, dtype=np.int64)


def rasterise(embedding: EmbeddingFile, geometry: ogr.Geometry, window: Window, touched: bool) -> np.ndarray:
    """Bool mask of a geometry burnt into an in-memory raster over `window` of the embedding grid."""
    x0, dx, rx, y0, ry, dy = embedding.geotransform
    target = gdal.GetDriverByName("MEM").Create("", window.width, window.height, 1, gdal.GDT_Byte)
    target.SetGeoTransform((x0 + window.col * dx, dx, rx, y0 + window.row * dy, ry, dy))
    target.SetProjection(embedding.crs_wkt)
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = memory.CreateLayer("feature", osr.SpatialReference(wkt=embedding.crs_wkt))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(geometry)
    layer.CreateFeature(feature)
    options = ["ALL_TOUCHED=TRUE"] if touched else []
    gdal.RasterizeLayer(target, [1], layer, burn_values=[1], options=options)
    return target.ReadAsArray().astype(bool)


def _read_pixels(embedding: EmbeddingFile, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (K, D) of the given pixels and a bool (K,) mask of those holding data, read block by block."""
    values = np.zeros((len(pixels), embedding.dim), dtype=np.float32)
    valid = np.zeros(len(pixels), dtype=bool)
    blocks = defaultdict(list)
    for index, (col, row) in enumerate(pixels):
        blocks[(col // BLOCK, row // BLOCK)].append(index)
    for indices in blocks.values():
        cols, rows = pixels[indices, 0], pixels[indices, 1]
        window = Window(
            int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)
        )
        block, mask = embedding.read_with_mask(window)
        values[indices] = block[:, rows - window.row, cols - window.col].T
        valid[indices] = mask[rows - window.row, cols - window.col]
    return values, valid


def collect_samples(
    embedding_path: str | os.PathLike,
    labels_path: str | os.PathLike,
    class_field: str,
    *,
    layer: str | None = None,
    max_per_class: int = MAX_PER_CLASS,
    seed: int = 0,
    feedback: Feedback | None = None,
) -> LabelSamples:
    """Sample an embedding raster under labelled features; raises LabelInputError when they cannot train a probe."""
    feedback = ensure_feedback(feedback)
    embedding = EmbeddingFile(embedding_path)
    features, unlabelled = read_label_features(labels_path, class_field, embedding.crs_wkt, layer)
    per_class: dict[str, list[np.ndarray]] = defaultdict(list)
    per_class_groups: dict[str, list[np.ndarray]] = defaultdict(list)
    skipped = unlabelled
    for number, (value, geometry) in enumerate(features):
        feedback.check_cancelled()
        pixels = _geometry_pixels(embedding, geometry)
        if len(pixels):
            per_class[value].append(pixels)
            per_class_groups[value].append(sample_groups(number, geometry, pixels))
        else:
            skipped += 1
        feedback.set_progress(50.0 * (number + 1) / max(len(features), 1))
    if not per_class:
        raise LabelInputError(
            f"All {len(features)} labelled feature(s) of '{labels_path}' lie outside the raster; "
            "check that the labels and the raster cover the same area."
        )
    rng = np.random.default_rng(seed)
    class_names = _sort_classes(set(per_class))
    chunks, labels, group_chunks = [], [], []
    for index, name in enumerate(class_names):
        pixels, first = np.unique(np.concatenate(per_class[name]), axis=0, return_index=True)
        groups = np.concatenate(per_class_groups[name])[first]
        if len(pixels) > max_per_class:
            chosen = np.sort(rng.choice(len(pixels), max_per_class, replace=False))
            pixels, groups = pixels[chosen], groups[chosen]
        chunks.append(pixels)
        group_chunks.append(groups)
        labels.append(np.full(len(pixels), index, dtype=np.int64))
    pixels, label_array = np.concatenate(chunks), np.concatenate(labels)
    values, valid = _read_pixels(embedding, pixels)
    samples = LabelSamples(
        values[valid],
        label_array[valid],
        class_names,
        pixels[valid],
        features_used=len(features) + unlabelled - skipped,
        features_skipped=skipped,
        groups=np.concatenate(group_chunks)[valid],
    )
    present = [name for name, count in samples.counts().items() if count > 0]
    if len(present) < 2:
        raise LabelInputError(
            f"The labels inside the raster hold only one class ({', '.join(present) or 'none'}) in field "
            f"'{class_field}'; a probe needs at least two classes."
        )
    if len(present) < len(class_names):
        keep = [class_names.index(name) for name in present]
        remap = {old: new for new, old in enumerate(keep)}
        samples.labels = np.array([remap[int(label)] for label in samples.labels], dtype=np.int64)
        samples.class_names = present
    if skipped:
        samples.warnings.append(f"{skipped} feature(s) lie outside the raster, on nodata or have no class; skipped.")
    for name, count in samples.counts().items():
        if count < MIN_SAMPLES_WARNING:
            samples.warnings.append(f"Class '{name}' has only {count} sample(s); label at least {MIN_SAMPLES_WARNING}.")
    for message in samples.warnings:
        feedback.info(message)
    feedback.set_progress(100.0)
    return samples


@dataclass
class NumericSamples:
    """Embeddings (N, D) with numeric targets (N,) and group names (N,; "" without a group field) for regression."""

    embeddings: np.ndarray
    targets: np.ndarray
    groups: np.ndarray
    features_used: int = 0
    features_skipped: int = 0
    warnings: list[str] = field(default_factory=list)


def number_of(value: str, field_name: str) -> float:
    """A field's value as a number; LabelInputError names the field when it holds text."""
    try:
        return float(value)
    except ValueError:
        raise LabelInputError(
            f"Field '{field_name}' holds '{value}', not a number; a regression probe needs a numeric target field."
        ) from None


def collect_numeric_samples(
    embedding_path: str | os.PathLike,
    labels_path: str | os.PathLike,
    target_field: str,
    *,
    group_field: str | None = None,
    layer: str | None = None,
    max_samples: int = MAX_SAMPLES,
    seed: int = 0,
    feedback: Feedback | None = None,
) -> NumericSamples:
    """Sample an embedding raster under points or polygons carrying a numeric `target_field` (every pixel of a polygon
    gets its value and group), at most `max_samples` pixels chosen at random."""
    feedback = ensure_feedback(feedback)
    embedding = EmbeddingFile(embedding_path)
    fields = [target_field, group_field] if group_field else [target_field]
    features, unlabelled = read_features(labels_path, fields, embedding.crs_wkt, layer)
    pixels, targets, groups = [], [], []
    for number, (values, geometry) in enumerate(features):
        feedback.check_cancelled()
        found = _geometry_pixels(embedding, geometry)
        if len(found):
            pixels.append(found)
            targets.append(np.full(len(found), number_of(values[0], target_field)))
            groups.append(np.full(len(found), values[-1] if group_field else "", dtype=object))
        feedback.set_progress(50.0 * (number + 1) / max(len(features), 1))
    if not pixels:
        raise LabelInputError(
            f"All {len(features)} feature(s) of '{labels_path}' with a value in '{target_field}' lie outside the "
            "raster; check that the features and the raster cover the same area."
        )
    pixel_array, target_array, group_array = np.concatenate(pixels), np.concatenate(targets), np.concatenate(groups)
    if len(pixel_array) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(pixel_array), max_samples, replace=False))
        pixel_array, target_array, group_array = pixel_array[keep], target_array[keep], group_array[keep]
    embeddings, valid = _read_pixels(embedding, pixel_array)
    skipped = unlabelled + len(features) - len(pixels)
    samples = NumericSamples(
        embeddings[valid], target_array[valid], group_array[valid].astype(str), len(pixels), skipped
    )
    if skipped:
        samples.warnings.append(f"{skipped} feature(s) lie outside the raster or have no value; skipped.")
    if (~valid).any():
        samples.warnings.append(f"{int((~valid).sum())} sampled pixel(s) on nodata; skipped.")
    for message in samples.warnings:
        feedback.info(message)
    feedback.set_progress(100.0)
    return samples
