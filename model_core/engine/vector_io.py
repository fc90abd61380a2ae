"""Atomic GeoPackage output: a layer is written under a temporary name and renamed when complete."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from osgeo import ogr, osr

from ..atomic import atomic_path
from ..errors import GeoMeldError

ogr.UseExceptions()

FIELD_TYPES = {int: ogr.OFTInteger64, float: ogr.OFTReal, str: ogr.OFTString}


@contextmanager
def atomic_gpkg(
    path: str | os.PathLike, layer_name: str, geometry_type: int, crs_wkt: str, fields: Sequence[tuple[str, type]]
) -> Iterator[ogr.Layer]:
    """Create a one-layer GeoPackage under a temporary name, yield the layer, then rename it to `path`."""
    path = Path(path)
    if not path.parent.is_dir():
        raise GeoMeldError(f"The output folder '{path.parent}' does not exist.")
    with atomic_path(path, ".tmp.gpkg") as temporary:
        tmp = str(temporary)
        os.remove(tmp)  # the GeoPackage driver creates the file itself
        source = None
        try:
            source = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
            srs = osr.SpatialReference(wkt=crs_wkt) if crs_wkt else None
            layer = source.CreateLayer(layer_name, srs, geometry_type)
            for name, kind in fields:
                layer.CreateField(ogr.FieldDefn(name, FIELD_TYPES[kind]))
            layer.StartTransaction()
            yield layer
            layer.CommitTransaction()
            layer = None
            source = None
        except BaseException:
            layer = source = None
            for leftover in (tmp + "-wal", tmp + "-shm", tmp + "-journal"):
                if os.path.exists(leftover):
                    os.remove(leftover)
            raise


def add_feature(layer: ogr.Layer, geometry: ogr.Geometry, values: dict) -> None:
    """Append one feature with its attribute values."""
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(geometry)
    for name, value in values.items():
        feature.SetField(name, value)
    layer.CreateFeature(feature)
