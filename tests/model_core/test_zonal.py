"""`zonal` on real rasters: the land-cover patches of a labelled TerraMesh chip, given in another CRS, get exactly their
pixels and the right mean embeddings; partial, nodata, outside and non-polygon features are reported."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from model_core.cli import main
from model_core.engine.embedding import EmbeddingFile
from model_core.engine.zonal import read_table, table_embeddings
from tests.conftest import shared

CHIP = "terramesh_examples/S2L2A/433D_629L_3_1.tif"
LULC = "terramesh_examples/LULC/433D_629L_3_1.tif"
PIXEL_AREA = 100.0  # m² of a 10 m pixel


def wgs84() -> osr.SpatialReference:
    """EPSG:4326 in longitude, latitude order."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def write_layer(path, features, fields) -> str:
    """A GeoPackage in EPSG:4326 of (geometry, values) with the given (name, OGR type) fields."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("zones", wgs84(), ogr.wkbUnknown)
    for name, kind in fields:
        layer.CreateField(ogr.FieldDefn(name, kind))
    for geometry, values in features:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(geometry)
        for name, value in values.items():
            feature.SetField(name, value)
        layer.CreateFeature(feature)
    source = None
    return str(path)


def to_wgs84(geometry: ogr.Geometry, crs_wkt: str) -> ogr.Geometry:
    """A copy of a geometry given in `crs_wkt`, in EPSG:4326."""
    source = osr.SpatialReference(wkt=crs_wkt)
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    geometry = geometry.Clone()
    geometry.Transform(osr.CoordinateTransformation(source, wgs84()))
    return geometry


def pixel_box(dataset: gdal.Dataset, col: float, row: float, width: float, height: float) -> ogr.Geometry:
    """A rectangle of the raster's pixel grid, in its CRS."""
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for c, r in ((col, row), (col + width, row), (col + width, row + height), (col, row + height), (col, row)):
        ring.AddPoint_2D(x0 + c * dx, y0 + r * dy)
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon


@pytest.fixture(scope="module")
def lulc_patches(tmp_path_factory):
    """Every connected land-cover patch of the chip as a polygon in EPSG:4326, with its class and pixel count."""
    lulc = gdal.Open(str(shared(LULC)))
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = memory.CreateLayer("patches", osr.SpatialReference(wkt=lulc.GetProjection()), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    gdal.Polygonize(lulc.GetRasterBand(1), None, layer, 0)
    features = [
        (
            to_wgs84(item.GetGeometryRef(), lulc.GetProjection()),
            {
                "class": item.GetField("class"),
                "expected_px": round(item.GetGeometryRef().GetArea() / PIXEL_AREA),
            },
        )
        for item in layer
    ]
    path = tmp_path_factory.mktemp("zonal") / "patches.gpkg"
    return write_layer(path, features, [("class", ogr.OFTInteger), ("expected_px", ogr.OFTInteger)])


def test_land_cover_patches_get_their_pixels_and_means(lulc_patches, tmp_path, capsys):
    out = tmp_path / "zones.gpkg"
    assert main(["zonal", str(shared(CHIP)), lulc_patches, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = read_table(out)
    count = len(table["fid"])
    assert count > 20 and f"wrote {count} polygon(s)" in printed and f"polygons: {count} full" in printed
    np.testing.assert_array_equal(table["valid_px"], table["expected_px"])
    assert (table["nodata_px"] == 0).all() and np.allclose(table["covered_pct"], 100.0)
    np.testing.assert_allclose(table["area_ha"], table["expected_px"] * PIXEL_AREA / 1e4, rtol=2e-3)
    # The patches partition the chip: per class, count x mean over the patches is the sum of that class's pixels.
    reference = tmp_path / "chip_embedding.tif"  # the same request as the embedding zonal computed (or cached)
    assert main(["embed", str(shared(CHIP)), "--out", str(reference)]) == 0
    embedding = EmbeddingFile(reference)
    values, valid = embedding.read_with_mask()
    lulc = gdal.Open(str(shared(LULC))).ReadAsArray()
    means = table_embeddings(table)
    assert means.shape[1] == embedding.dim
    for value in np.unique(lulc):
        rows = table["class"] == value
        from_zones = (means[rows] * table["valid_px"][rows, np.newaxis]).sum(axis=0)
        expected = values[:, (lulc == value) & valid].astype(np.float64).sum(axis=1)
        np.testing.assert_allclose(from_zones, expected, rtol=1e-5, atol=1e-3)


def test_partial_nodata_outside_and_point_features_are_reported(tmp_path, capsys):
    chip = gdal.Translate(str(tmp_path / "chip_with_gap.tif"), str(shared(CHIP)))
    for index in range(1, chip.RasterCount + 1):  # a 40 x 40 px hole of zeros (nodata) at rows/cols 100-139
        chip.GetRasterBand(index).WriteArray(np.zeros((40, 40), dtype=np.int16), 100, 100)
    crs = chip.GetProjection()
    chip.FlushCache()
    far_away = ogr.CreateGeometryFromWkt("POLYGON ((10 50, 10.01 50, 10.01 50.01, 10 50.01, 10 50))")
    point = ogr.CreateGeometryFromWkt("POINT (0 0)")
    features = [
        (to_wgs84(pixel_box(chip, 110, 110, 10, 10), crs), {"name": "in the hole"}),
        (to_wgs84(pixel_box(chip, 90, 120, 20, 10), crs), {"name": "half in the hole"}),
        (to_wgs84(pixel_box(chip, 214, 20, 20, 10), crs), {"name": "half outside"}),
        (to_wgs84(pixel_box(chip, 20, 20, 10, 10), crs), {"name": "inside"}),
        (far_away, {"name": "far away"}),
        (point, {"name": "a point"}),
    ]
    chip = None
    polygons = write_layer(tmp_path / "places.gpkg", features, [("name", ogr.OFTString)])
    out = tmp_path / "zones.parquet"
    assert main(["zonal", str(tmp_path / "chip_with_gap.tif"), polygons, "--out", str(out), "--std"]) == 0
    printed = capsys.readouterr().out
    assert "polygons: 1 full, 2 partial, 1 nodata, 1 outside, 1 not a polygon" in printed
    assert "  partial: feature id 2, 3" in printed and "  nodata: feature id 1" in printed
    table = read_table(out)
    assert list(table["name"]) == [name for _, values in features for name in values.values()]
    assert list(table["status"]) == ["nodata", "partial", "partial", "full", "outside", "not a polygon"]
    np.testing.assert_array_equal(table["valid_px"], [0, 100, 100, 100, 0, 0])
    np.testing.assert_array_equal(table["nodata_px"], [100, 100, 0, 0, 0, 0])
    np.testing.assert_allclose(table["covered_pct"][:4], [100.0, 100.0, 50.0, 100.0], atol=0.1)
    means = table_embeddings(table)
    assert np.isnan(means[0]).all() and np.isfinite(means[1:4]).all()
    stds = np.stack([table[name] for name in sorted(table) if name.startswith("std_")], axis=1)
    assert stds.shape == means.shape and (stds[1:4] >= 0).all() and (stds[1:4].max(axis=1) > 0).all()


def test_bad_output_and_polygon_file_are_refused(tmp_path, capsys):
    assert main(["zonal", str(shared(CHIP)), str(shared(CHIP)), "--out", str(tmp_path / "zones.csv")]) == 2
    assert "written as .gpkg or .parquet" in capsys.readouterr().err
    assert main(["zonal", str(shared(CHIP)), str(shared(CHIP)), "--out", str(tmp_path / "zones.gpkg")]) == 2
    assert "is not a vector file" in capsys.readouterr().err
