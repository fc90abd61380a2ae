"""Regression probes on real TerraMesh data: NDVI from a `zonal` table of the five sites (computed on a real Dask
LocalCluster) with random folds and whole sites or blocks held out, elevation from DEM points on one chip mapped to a
float raster, the probe file format, and refusals."""

from __future__ import annotations

import math
import re

import numpy as np
import polars
import pytest
from osgeo import gdal, ogr

from model_core.cli import main
from model_core.engine.probe_file import load_probe, load_regression_probe, probe_task, save_probe
from model_core.engine.regression import RegressionSamples, fit_regression, samples_from_table
from model_core.errors import LabelInputError, ProbeFileError
from tests.conftest import shared

from .test_batch import cli
from .test_zonal import to_wgs84, write_layer

SITES = ("282D_485L_3_3", "38D_378R_2_3", "433D_629L_3_1", "609U_541L_3_0", "637U_59R_1_3")
CELL = 28  # px: an 8 x 8 grid of cells per 224 px chip
CHIP = "terramesh_examples/S2L2A/433D_629L_3_1.tif"
DEM = "terramesh_examples/DEM/433D_629L_3_1.tif"


def r2_of(text: str, label: str) -> float:
    """The R² printed on the line that starts with `label`."""
    match = re.search(re.escape(label) + r".*?R\u00b2 (-?[0-9.]+)", text)
    assert match, text
    return float(match.group(1))


def grid_cells() -> list:
    """8 x 8 cells per site as EPSG:4326 polygons, with the site, a 2 x 2 block name, mean NDVI and mean elevation."""
    features = []
    for site in SITES:
        ndvi = gdal.Open(str(shared(f"terramesh_examples/NDVI/{site}.tif")))
        values, dem = ndvi.ReadAsArray(), gdal.Open(str(shared(f"terramesh_examples/DEM/{site}.tif"))).ReadAsArray()
        x0, dx, _, y0, _, dy = ndvi.GetGeoTransform()
        for row in range(0, 224, CELL):
            for col in range(0, 224, CELL):
                ring = ogr.Geometry(ogr.wkbLinearRing)
                for c, r in ((col, row), (col + CELL, row), (col + CELL, row + CELL), (col, row + CELL), (col, row)):
                    ring.AddPoint_2D(x0 + c * dx, y0 + r * dy)
                cell = ogr.Geometry(ogr.wkbPolygon)
                cell.AddGeometry(ring)
                window = (slice(row, row + CELL), slice(col, col + CELL))
                attributes = {
                    "site": site,
                    "block": f"{site}_{row // 112}{col // 112}",
                    "ndvi": float(values[window].mean()),
                    "elevation": float(dem[window].mean()),
                }
                features.append((to_wgs84(cell, ndvi.GetProjection()), attributes))
    return features


@pytest.fixture(scope="module")
def zones(weights_dir, tmp_path_factory):
    """The zonal table (Parquet) of the 320 cells over the five L2A chips, computed on a 2-worker LocalCluster."""
    root = tmp_path_factory.mktemp("regression")
    fields = [("site", ogr.OFTString), ("block", ogr.OFTString), ("ndvi", ogr.OFTReal), ("elevation", ogr.OFTReal)]
    cells = write_layer(root / "cells.gpkg", grid_cells(), fields)
    out = root / "zones.parquet"
    folder = str(shared("terramesh_examples/S2L2A"))
    result = cli("zonal", folder, cells, "--out", str(out), "--workers", "2", "--std", weights=weights_dir, cache=root)
    assert result.returncode == 0, result.stderr
    assert "LocalCluster of 2 worker(s)" in result.stdout and "polygons: 320 full" in result.stdout
    return out


@pytest.mark.slow  # cross-validation over five sites
def test_ndvi_probe_reports_held_out_group_r2(zones, tmp_path, capsys):
    probe_path = tmp_path / "ndvi.json"
    args = ["probe", "fit", "--table", str(zones), "--target", "ndvi", "--out", str(probe_path)]
    assert main([*args, "--group-field", "site"]) == 0
    by_site = capsys.readouterr().out
    assert "target 'ndvi': 320 samples" in by_site
    assert r2_of(by_site, "5-fold cross-validation, random folds") > 0.95
    held_out_site = r2_of(by_site, "held-out groups ('site', 5 groups, 5 folds)")
    assert math.isfinite(held_out_site) and held_out_site < r2_of(by_site, "5-fold")  # little carries over
    assert main([*args, "--group-field", "block"]) == 0
    assert r2_of(capsys.readouterr().out, "held-out groups ('block', 20 groups, 5 folds)") > 0.9
    report = load_regression_probe(probe_path).report
    assert report.group_field == "block" and report.grouped.folds == 5 and report.grouped.r2 > 0.9


def test_probe_apply_fills_a_column_of_the_table(zones, tmp_path, capsys):
    probe_path = tmp_path / "ndvi_rf.json"
    fit = ["probe", "fit", "--table", str(zones), "--target", "ndvi", "--kind", "random_forest"]
    assert main([*fit, "--out", str(probe_path)]) == 0
    filled = tmp_path / "filled.parquet"
    assert main(["probe", "apply", "--table", str(zones), str(probe_path), "--out", str(filled)]) == 0
    assert "predicted 'ndvi' for 320 row(s)" in capsys.readouterr().out
    table = polars.read_parquet(filled)
    assert np.corrcoef(table["ndvi"].to_numpy(), table["predicted_ndvi"].to_numpy())[0, 1] > 0.95
    assert table.columns[:-1] == polars.read_parquet(zones).columns


@pytest.fixture(scope="module")
def dem_points(tmp_path_factory):
    """200 random pixel centres of the Chilean chip in EPSG:4326, with their elevation and their quadrant."""
    dataset = gdal.Open(str(shared(DEM)))
    dem = dataset.ReadAsArray()
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    rng = np.random.default_rng(0)
    features = []
    for index in rng.choice(dem.size, 200, replace=False):
        row, col = divmod(int(index), dem.shape[1])
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy)
        attributes = {"elevation": float(dem[row, col]), "quadrant": f"q{row // 112}{col // 112}"}
        features.append((to_wgs84(point, dataset.GetProjection()), attributes))
    path = tmp_path_factory.mktemp("dem") / "points.gpkg"
    return write_layer(path, features, [("elevation", ogr.OFTReal), ("quadrant", ogr.OFTString)])


def test_elevation_from_points_is_mapped_to_a_float_raster(dem_points, tmp_path, capsys):
    probe_path = tmp_path / "dem.json"
    fit = ["probe", "fit", str(shared(CHIP)), dem_points, "--target", "elevation", "--group-field", "quadrant"]
    assert main([*fit, "--out", str(probe_path)]) == 0
    printed = capsys.readouterr().out
    assert "ridge regression probe for 'elevation'" in printed and "target 'elevation': 200 samples" in printed
    assert np.isfinite(r2_of(printed, "held-out groups ('quadrant', 4 groups, 4 folds)"))
    assert r2_of(printed, "5-fold cross-validation, random folds") > 0.3
    out = tmp_path / "dem.tif"
    assert main(["probe", "apply", str(shared(CHIP)), str(probe_path), "--out", str(out)]) == 0
    assert "50176 px predicted" in capsys.readouterr().out
    dataset = gdal.Open(str(out))
    predicted = dataset.ReadAsArray()
    assert predicted.dtype == np.float32 and predicted.shape == (224, 224) and np.isfinite(predicted).all()
    assert np.isnan(dataset.GetRasterBand(1).GetNoDataValue())
    dem = gdal.Open(str(shared(DEM))).ReadAsArray().astype(np.float64)
    assert np.corrcoef(predicted.ravel(), dem.ravel())[0, 1] > 0.5


def test_probe_files_round_trip_and_keep_their_task(zones, tmp_path):
    samples = samples_from_table(zones, "elevation", "site")
    for kind in ("ridge", "random_forest"):
        probe = fit_regression(samples, "elevation", kind, group_field="site", model_id="m")
        path = save_probe(probe, tmp_path / f"{kind}.json")
        loaded = load_regression_probe(path, "m")
        np.testing.assert_allclose(loaded.predict(samples.embeddings), probe.predict(samples.embeddings), rtol=1e-5)
        assert loaded.report.grouped.r2 == probe.report.grouped.r2 and probe_task(path) == "regression"
        with pytest.raises(ProbeFileError, match="is a regression probe"):
            load_probe(path)
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            assert all(arrays[name].dtype != object for name in arrays.files)


def test_text_target_and_too_few_samples_are_refused(dem_points, zones, tmp_path, capsys):
    args = ["probe", "fit", str(shared(CHIP)), dem_points, "--target", "quadrant", "--out", str(tmp_path / "p.json")]
    assert main(args) == 2
    assert "holds 'q" in capsys.readouterr().err
    tiny = RegressionSamples(np.zeros((3, 4), np.float32), np.arange(3.0), np.array(["a", "b", "c"]))
    with pytest.raises(LabelInputError, match="needs at least 5"):
        fit_regression(tiny, "x")
    assert main(["probe", "fit", "--table", str(zones), "--field", "site", "--out", str(tmp_path / "p.json")]) == 2
    assert "--target" in capsys.readouterr().err


def test_ndvi_from_polygons_over_one_raster(zones, tmp_path, capsys):
    cells = zones.parent / "cells.gpkg"  # the 320 cells: the 64 over this chip count, the others lie elsewhere
    args = ["probe", "fit", str(shared(CHIP)), str(cells), "--target", "ndvi", "--group-field", "block"]
    assert main([*args, "--max-samples", "2000", "--out", str(tmp_path / "ndvi.json")]) == 0
    printed = capsys.readouterr().out
    assert "target 'ndvi': 2000 samples" in printed and "256 feature(s) lie outside the raster" in printed
    assert np.isfinite(r2_of(printed, "held-out groups ('block', 4 groups, 4 folds)"))
