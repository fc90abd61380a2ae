"""Embeddings per polygon: the mean (and optionally the standard deviation) of the pixel embeddings over each
polygon's valid pixels, with its valid and nodata pixel counts, the share of its area inside the raster(s), its area
and a status, streamed block by block over an embedding raster.

Polygons may be in any CRS (each raster gets them reprojected to its own); a pixel belongs to a polygon when its
centre lies inside, and overlapping polygons each get their pixels. Rasters hand back sums, not means
(`ZonalSums`), so a polygon across several rasters (tiles of a batch) gets the mean over all its pixels.
The table is a GeoPackage (the polygons with their attributes and the statistics) or a Parquet file (polars; the
geometry as WKB); `read_table` reads either back, for regression probes.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import ogr, osr

from ..atomic import atomic_path
from ..errors import GeoMeldError, LabelInputError, RasterInputError
from ..feedback import Feedback, ensure_feedback
from ..io import Window
from .areas import GeodesicArea, polygons_of
from .batch import RasterOptions, open_input, worker_context
from .cache import EmbeddingCache
from .embedding import EmbeddingFile, embed_raster
from .labels import crs_transform, envelope_window, open_layer, rasterise
from .vector_io import add_feature, atomic_gpkg

ogr.UseExceptions()

MEAN_PREFIX = "mean_"
STD_PREFIX = "std_"
FULL, PARTIAL, NODATA, OUTSIDE, NOT_POLYGON = "full", "partial", "nodata", "outside", "not a polygon"
STATUSES: tuple[str, ...] = (FULL, PARTIAL, NODATA, OUTSIDE, NOT_POLYGON)
STAT_FIELDS: tuple[tuple[str, type], ...] = (
    ("valid_px", int),
    ("nodata_px", int),
    ("covered_pct", float),
    ("area_ha", float),
    ("status", str),
)
BLOCK = 512
# Below this share of its area inside the raster(s) a polygon counts as partially covered.
FULL_COVER = 0.999
OGR_KINDS = {ogr.OFTInteger: int, ogr.OFTInteger64: int, ogr.OFTReal: float}


@dataclass
class Polygons:
    """A vector layer's features: CRS, geometry type, attribute fields (as int, float or str), feature ids, values and
    geometries."""

    crs_wkt: str
    geometry_type: int
    fields: list[tuple[str, type]]
    fids: list[int]
    attributes: list[dict[str, object]]
    geometries: list[ogr.Geometry]


def read_polygons(path: str | os.PathLike, layer: str | None = None) -> Polygons:
    """Every feature of a layer (the first by default) with a geometry, in the layer's CRS."""
    source, vector = open_layer(str(path), layer)
    srs = vector.GetSpatialRef()
    if srs is None:
        raise LabelInputError(f"Layer '{vector.GetName()}' has no CRS; set the layer's CRS in QGIS first.")
    definition = vector.GetLayerDefn()
    fields = [
        (definition.GetFieldDefn(i).GetName(), OGR_KINDS.get(definition.GetFieldDefn(i).GetType(), str))
        for i in range(definition.GetFieldCount())
    ]
    fids, attributes, geometries = [], [], []
    for feature in vector:
        geometry = feature.GetGeometryRef()
        if geometry is None or geometry.IsEmpty():
            continue
        fids.append(feature.GetFID())
        attributes.append({name: _cell(feature.GetField(name), kind) for name, kind in fields})
        geometries.append(geometry.Clone())
    if not geometries:
        raise LabelInputError(f"Layer '{vector.GetName()}' of '{path}' holds no feature with a geometry.")
    polygons = Polygons(srs.ExportToWkt(), vector.GetGeomType(), fields, fids, attributes, geometries)
    del source
    return polygons


def _cell(value: object, kind: type) -> object:
    return None if value is None else kind(value)


@dataclass
class ZonalSums:
    """Per polygon: valid and nodata pixels, the share of its area inside the raster(s), and the sum and the sum of
    squares of its valid pixel embeddings (float64), so that the sums of several rasters add up."""

    valid: np.ndarray
    nodata: np.ndarray
    inside: np.ndarray
    sums: np.ndarray
    squares: np.ndarray

    @classmethod
    def zeros(cls, count: int, dim: int) -> ZonalSums:
        """Empty sums for `count` polygons of `dim`-d embeddings."""
        return cls(
            np.zeros(count, np.int64),
            np.zeros(count, np.int64),
            np.zeros(count, np.float64),
            np.zeros((count, dim), np.float64),
            np.zeros((count, dim), np.float64),
        )

    def __add__(self, other: ZonalSums) -> ZonalSums:
        """The sums of two rasters together."""
        return ZonalSums(
            self.valid + other.valid,
            self.nodata + other.nodata,
            self.inside + other.inside,
            self.sums + other.sums,
            self.squares + other.squares,
        )

    def means(self) -> np.ndarray:
        """(N, D) float32 mean embedding per polygon; NaN where it has no valid pixel."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.sums / self.valid[:, np.newaxis]).astype(np.float32)

    def stds(self) -> np.ndarray:
        """(N, D) float32 standard deviation per polygon (population); NaN where it has no valid pixel."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.sums / self.valid[:, np.newaxis]
            variance = self.squares / self.valid[:, np.newaxis] - mean**2
        return np.sqrt(np.maximum(variance, 0.0)).astype(np.float32)

    def statuses(self, is_polygon: np.ndarray) -> list[str]:
        """full, partial (part outside the raster(s) or on nodata), nodata (no valid pixel, or none under it),
        outside, or 'not a polygon' (points and lines have no zone)."""
        statuses = []
        for polygon, valid, nodata, inside in zip(is_polygon, self.valid, self.nodata, self.inside):
            if not polygon:
                statuses.append(NOT_POLYGON)
            elif inside <= 0.0 and valid + nodata == 0:
                statuses.append(OUTSIDE)
            elif valid == 0:
                statuses.append(NODATA)
            elif inside < FULL_COVER or nodata > 0:
                statuses.append(PARTIAL)
            else:
                statuses.append(FULL)
        return statuses


def _extent_polygon(embedding: EmbeddingFile) -> ogr.Geometry:
    x0, dx, _, y0, _, dy = embedding.geotransform
    x1, y1 = x0 + embedding.width * dx, y0 + embedding.height * dy
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
        ring.AddPoint_2D(x, y)
    extent = ogr.Geometry(ogr.wkbPolygon)
    extent.AddGeometry(ring)
    return extent


def _share_inside(geometry: ogr.Geometry, extent: ogr.Geometry) -> float:
    area = geometry.GetArea()
    if area <= 0.0 or not geometry.Intersects(extent):
        return 0.0
    return min(1.0, geometry.Intersection(extent).GetArea() / area)


def _in_crs(geometry: ogr.Geometry, transform: osr.CoordinateTransformation | None) -> ogr.Geometry | None:
    """A copy of the geometry in the raster's CRS; None where that CRS cannot hold it (a polygon on the other side of
    the globe from a UTM zone), which is then outside the raster."""
    geometry = geometry.Clone()
    if transform is None:
        return geometry
    try:
        geometry.Transform(transform)
    except RuntimeError:
        return None
    return geometry


def _overlap(a: Window, b: Window) -> Window | None:
    col0, row0 = max(a.col, b.col), max(a.row, b.row)
    col1, row1 = min(a.col + a.width, b.col + b.width), min(a.row + a.height, b.row + b.height)
    return Window(col0, row0, col1 - col0, row1 - row0) if col1 > col0 and row1 > row0 else None


def zonal_sums(
    embedding: EmbeddingFile, polygons: Polygons, block: int = BLOCK, feedback: Feedback | None = None
) -> ZonalSums:
    """Sums of the embeddings under each polygon, reading the raster block by block (each block once)."""
    feedback = ensure_feedback(feedback)
    transform = crs_transform(osr.SpatialReference(wkt=polygons.crs_wkt), embedding.crs_wkt)
    extent = _extent_polygon(embedding)
    sums = ZonalSums.zeros(len(polygons.geometries), embedding.dim)
    windows: list[Window | None] = []
    local = []
    for index, geometry in enumerate(polygons.geometries):
        geometry = _in_crs(geometry, transform)
        local.append(geometry)
        is_polygon = geometry is not None and bool(polygons_of(geometry))
        sums.inside[index] = _share_inside(geometry, extent) if is_polygon else 0.0
        windows.append(envelope_window(embedding, geometry) if is_polygon else None)
    blocks = list(embedding.windows(block))
    for number, window in enumerate(blocks):
        feedback.check_cancelled()
        hits = [(index, part) for index, box in enumerate(windows) if box and (part := _overlap(box, window))]
        if hits:
            values, valid = embedding.read_with_mask(window)
            for index, part in hits:
                inside = rasterise(embedding, local[index], part, touched=False)
                rows = slice(part.row - window.row, part.row - window.row + part.height)
                cols = slice(part.col - window.col, part.col - window.col + part.width)
                good = inside & valid[rows, cols]
                pixels = values[:, rows, cols][:, good].astype(np.float64)
                sums.valid[index] += int(good.sum())
                sums.nodata[index] += int((inside & ~valid[rows, cols]).sum())
                sums.sums[index] += pixels.sum(axis=1)
                sums.squares[index] += np.square(pixels).sum(axis=1)
        feedback.set_progress(100.0 * (number + 1) / len(blocks))
    return sums


def embedding_of(source: str, options: RasterOptions, feedback: Feedback | None = None) -> EmbeddingFile:
    """`source` itself when it is an embedding raster (a batch output or mosaic), else its embedding (computed with
    this process's model, or taken from this machine's default embedding cache)."""
    try:
        return EmbeddingFile(source)
    except RasterInputError:
        pass
    raster = open_input(source, options)
    result = embed_raster(raster, worker_context(options, EmbeddingCache(), feedback), stride=options.stride)
    return EmbeddingFile(result.path)


def zonal_task(
    source: str, options: RasterOptions, polygons_path: str, layer: str | None = None, feedback: Feedback | None = None
) -> ZonalSums:
    """Zonal sums of one raster (a task of a Dask job over many rasters, or the whole job for one)."""
    feedback = ensure_feedback(feedback)
    polygons = read_polygons(polygons_path, layer)
    embedding = embedding_of(source, options, feedback.scaled(0, 80))
    return zonal_sums(embedding, polygons, feedback=feedback.scaled(80, 100))


# ---- tables ---------------------------------------------------------------------------------------------------------
def stat_columns(polygons: Polygons, sums: ZonalSums, std: bool = False) -> dict[str, list]:
    """The statistics as columns: counts, covered share (%), area (ha), status, mean_### (and std_###); None where a
    polygon has no valid pixel."""
    is_polygon = np.array([bool(polygons_of(geometry)) for geometry in polygons.geometries])
    area = GeodesicArea(polygons.crs_wkt)
    columns: dict[str, list] = {
        "valid_px": sums.valid.tolist(),
        "nodata_px": sums.nodata.tolist(),
        "covered_pct": np.round(100.0 * sums.inside, 3).tolist(),
        "area_ha": [round(area.hectares(geometry), 6) for geometry in polygons.geometries],
        "status": sums.statuses(is_polygon),
    }
    blocks = [(MEAN_PREFIX, sums.means())] + ([(STD_PREFIX, sums.stds())] if std else [])
    for prefix, values in blocks:
        for dim in range(values.shape[1]):
            column = values[:, dim].astype(float)
            columns[f"{prefix}{dim:03d}"] = [None if np.isnan(value) else float(value) for value in column]
    return columns


def write_table(path: str | os.PathLike, polygons: Polygons, columns: dict[str, list]) -> Path:
    """Write the polygons' attributes and `columns` as a GeoPackage (.gpkg) or a Parquet table (.parquet), atomically;
    a source field named like a statistic gives way to it."""
    path = Path(path)
    source_fields = [(name, kind) for name, kind in polygons.fields if name not in columns]
    rows = [{name: attributes[name] for name, _ in source_fields} for attributes in polygons.attributes]
    if path.suffix.lower() == ".parquet":
        return _write_parquet(path, polygons, rows, source_fields, columns)
    if path.suffix.lower() != ".gpkg":
        raise GeoMeldError(f"'{path.name}': zonal tables are written as .gpkg or .parquet.")
    kinds = [(name, type(next((v for v in values if v is not None), 0.0))) for name, values in columns.items()]
    with atomic_gpkg(path, "zones", polygons.geometry_type, polygons.crs_wkt, source_fields + kinds) as layer:
        for index, (row, geometry) in enumerate(zip(rows, polygons.geometries)):
            add_feature(layer, geometry, dict(row, **{name: values[index] for name, values in columns.items()}))
    return path


def _write_parquet(
    path: Path, polygons: Polygons, rows: list[dict], fields: list[tuple[str, type]], columns: dict[str, list]
) -> Path:
    polars = _import_polars()
    data = {name: [row[name] for row in rows] for name, _ in fields}
    data.update(columns)
    data["geometry"] = [bytes(geometry.ExportToWkb()) for geometry in polygons.geometries]
    frame = polars.DataFrame(data, strict=False)
    if not path.parent.is_dir():
        raise GeoMeldError(f"The output folder '{path.parent}' does not exist.")
    with atomic_path(path, ".tmp.parquet") as temporary:
        frame.write_parquet(temporary)
    return path


def _import_polars():
    try:
        import polars
    except ImportError:
        raise GeoMeldError("Parquet tables need the Python package polars; write a .gpkg instead.") from None
    return polars


def read_table(path: str | os.PathLike, layer: str | None = None) -> dict[str, np.ndarray]:
    """The attribute columns of a table (GeoPackage or other vector file, or Parquet) as arrays: numeric columns as
    float64 with NaN for empty values, others as str; a vector file's feature ids come as column 'fid'."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        frame = _import_polars().read_parquet(path)
        return {name: _column(frame[name].to_list()) for name in frame.columns if name != "geometry"}
    source, vector = open_layer(str(path), layer)
    definition = vector.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    rows = [(feature.GetFID(), [feature.GetField(name) for name in names]) for feature in vector]
    del source
    table = {"fid": np.array([fid for fid, _ in rows], dtype=np.int64)}
    table.update({name: _column([values[i] for _, values in rows]) for i, name in enumerate(names)})
    return table


def _column(values: list) -> np.ndarray:
    if all(value is None or isinstance(value, (int, float)) for value in values):
        return np.array([np.nan if value is None else value for value in values], dtype=np.float64)
    return np.array(["" if value is None else str(value) for value in values], dtype=str)


def table_embeddings(table: dict[str, np.ndarray], name: str = "") -> np.ndarray:
    """(N, D) mean embeddings of a zonal table (its mean_### columns, in order); NaN rows have no valid pixel."""
    columns = sorted(column for column in table if column.startswith(MEAN_PREFIX) and column[5:].isdigit())
    if not columns:
        raise LabelInputError(
            f"'{name}' is not a zonal table (it has no {MEAN_PREFIX}000... columns); make one with the zonal "
            "command or the Processing algorithm 'Embeddings per polygon'."
        )
    return np.stack([table[column] for column in columns], axis=1).astype(np.float32)


def write_column(
    source: str | os.PathLike, target: str | os.PathLike, column: str, values: np.ndarray, layer: str | None = None
) -> Path:
    """A copy of a table (GeoPackage or Parquet) at `target` with `column` set to `values` (one per row, in the
    table's order; NaN as empty), written atomically."""
    source, target = Path(source), Path(target)
    if source.suffix.lower() != target.suffix.lower():
        raise GeoMeldError(f"Write the filled table as {source.suffix} like its source, not '{target.name}'.")
    cells = [None if np.isnan(value) else float(value) for value in np.asarray(values, dtype=np.float64)]
    if source.suffix.lower() == ".parquet":
        polars = _import_polars()
        frame = polars.read_parquet(source).with_columns(polars.Series(column, cells, dtype=polars.Float64))
        with atomic_path(target, ".tmp.parquet") as temporary:
            frame.write_parquet(temporary)
        return target
    with atomic_path(target, source.suffix) as temporary:
        shutil.copyfile(source, temporary)
        dataset = ogr.Open(str(temporary), update=1)
        vector = dataset.GetLayerByName(layer) if layer else dataset.GetLayerByIndex(0)
        if vector.GetLayerDefn().GetFieldIndex(column) < 0:
            vector.CreateField(ogr.FieldDefn(column, ogr.OFTReal))
        vector.StartTransaction()
        for feature, value in zip(list(vector), cells):
            if value is None:
                feature.SetFieldNull(column)
            else:
                feature.SetField(column, value)
            vector.SetFeature(feature)
        vector.CommitTransaction()
        vector = dataset = None
    return target
