"""Probes on real data: EuroSAT pooled embeddings vs a random forest on band statistics, TerraMesh LULC points,
pickle-free probe files, label errors, suggestions and cancel."""

from __future__ import annotations

import csv
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from model_core.cli import main
from model_core.engine.cache import EmbeddingCache
from model_core.engine.classify import apply_probe, train_probe
from model_core.engine.classmap import class_names_of
from model_core.engine.context import EngineContext
from model_core.engine.embedding import embed_raster, open_embedding
from model_core.engine.labels import collect_samples
from model_core.engine.probe import cross_validate, fit_probe
from model_core.engine.probe_file import arrays_path, load_probe, save_probe
from model_core.engine.report import confusion_matrix_png
from model_core.errors import CancelledError, LabelInputError, ProbeFileError
from model_core.feedback import Feedback
from model_core.io import open_raster
from model_core.runtime import load_model
from tests.conftest import shared
from training.baselines import band_statistics, random_forest
from training.export import export_random
from training.pooling import pooled_features

CHIP = "terramesh_examples/S2L1C/433D_629L_3_1.tif"
LULC = "terramesh_examples/LULC/433D_629L_3_1.tif"
POINTS_PER_CLASS = 20


def write_labels(path, crs_wkt, geometries, values, field="class", geometry_type=ogr.wkbPoint, driver="GPKG"):
    """A vector file of geometries (WKT) with a class field, written with OGR."""
    source = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    srs = osr.SpatialReference(wkt=crs_wkt) if crs_wkt else None
    layer = source.CreateLayer("labels", srs, geometry_type)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTInteger))
    for wkt, value in zip(geometries, values):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField(field, int(value))
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    return path


def lulc_points(raster, seed=0):
    """20 seeded random points per LULC class of the chip: (WKT points, classes, bool mask of the chosen pixels)."""
    lulc = gdal.Open(str(shared(LULC))).ReadAsArray()
    rng = np.random.default_rng(seed)
    x0, dx, _, y0, _, dy = raster.geotransform
    points, classes = [], []
    chosen = np.zeros(lulc.shape, dtype=bool)
    for value in np.unique(lulc[lulc > 0]):
        rows, cols = np.nonzero(lulc == value)
        for index in rng.choice(len(rows), min(POINTS_PER_CLASS, len(rows)), replace=False):
            points.append(f"POINT ({x0 + (cols[index] + 0.5) * dx} {y0 + (rows[index] + 0.5) * dy})")
            classes.append(int(value))
            chosen[rows[index], cols[index]] = True
    return points, classes, chosen, lulc


def test_eurosat_probe_against_random_forest_on_band_statistics(geomeld_model, weights_dir, tmp_path):
    with open(shared("eurosat_ms/manifest.csv"), encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))
    names = sorted({row["label"] for row in manifest})
    card = json.loads((weights_dir / "model_card.json").read_text(encoding="utf-8"))
    trained = "untrained" not in str(card.get("training", {}).get("status", ""))
    models = {"GeoMeld": geomeld_model}
    if trained:
        models["random-init encoder"] = load_model(export_random(tmp_path / "random"))
    features: dict[str, list] = {name: [] for name in models}
    images, valid, labels = [], [], []
    for row in manifest:
        raster = open_raster(shared(f"eurosat_ms/{row['file']}"), bands="eurosat")
        images.append(raster.read())
        valid.append(raster.valid_mask())
        for name, model in models.items():
            features[name].append(pooled_features(model.embed_dense(images[-1], raster.band_mask), valid[-1][None])[0])
        labels.append(names.index(row["label"]))
    labels = np.array(labels)
    probes = {
        name: fit_probe(np.stack(vectors), labels, "logistic", class_names=names) for name, vectors in features.items()
    }
    baseline = cross_validate(random_forest(0), band_statistics(np.stack(images), np.stack(valid)), labels, names)
    accuracy = {name: probe.report.accuracy for name, probe in probes.items()}
    print(f"EuroSAT 5-fold CV: {accuracy}, random forest on band statistics {baseline.accuracy:.3f}")
    probe = probes["GeoMeld"]
    assert probe.estimator.n_features_in_ == 3 * geomeld_model.embedding_dim
    assert probe.report.folds == baseline.folds == 5
    assert 0.0 <= probe.report.accuracy <= 1.0 and 0.0 <= baseline.accuracy <= 1.0
    chance = np.bincount(labels).max() / len(labels)
    assert probe.report.accuracy > chance
    if trained:
        assert probe.report.accuracy > accuracy["random-init encoder"], "pretraining must beat a random encoder"
        if probe.report.accuracy <= baseline.accuracy:  # 0.2.1 led by 3 of 216 patches (0.759 vs 0.745), 0.3 trails
            pytest.xfail(
                f"known gap: the probe on mean/max/min-pooled embeddings ({probe.report.accuracy:.3f}) does not beat a "
                f"random forest on band statistics ({baseline.accuracy:.3f}) under the same 5-fold CV; the CPU-trained "
                "models stay within a few patches of it (0.2.1: 0.759, 0.3: 0.727 against 0.745)"
            )


def chip_probe(model, tmp_path: Path, **options) -> tuple:
    """The chip, its engine context (a cache under tmp_path) and a probe trained on its land-cover points:
    (raster, context, probe, samples, chosen pixels, land-cover raster)."""
    raster = open_raster(shared(CHIP))
    points, classes, chosen, lulc = lulc_points(raster)
    labels = write_labels(tmp_path / "points.gpkg", raster.crs_wkt, points, classes)
    context = EngineContext(model, EmbeddingCache(tmp_path / "cache"))
    probe, samples = train_probe(raster, context, labels, "class", **options)
    return raster, context, probe, samples, chosen, lulc


def test_probe_from_lulc_points_classifies_other_pixels(geomeld_model, tmp_path):
    raster, context, probe, samples, chosen, lulc = chip_probe(geomeld_model, tmp_path)
    assert set(samples.counts().values()) == {POINTS_PER_CLASS}
    assert probe.classes == [str(v) for v in np.unique(lulc[lulc > 0])]
    result = apply_probe(
        raster,
        context,
        probe,
        tmp_path / "classes.tif",
        probabilities_path=tmp_path / "proba.tif",
        uncertainty_path=tmp_path / "uncertainty.tif",
        suggestions_path=tmp_path / "next.gpkg",
    )
    assert result.embedding.cached
    dataset = gdal.Open(str(result.path))
    band = dataset.GetRasterBand(1)
    assert class_names_of(dataset) == probe.classes
    assert band.GetRasterColorTable().GetCount() >= len(probe.classes) + 1
    predicted_index = band.ReadAsArray()
    predicted = np.array([0] + [int(name) for name in probe.classes])[predicted_index]
    others = ~chosen & (lulc > 0)
    accuracy = float((predicted[others] == lulc[others]).mean())
    print(f"TerraMesh 433D_629L_3_1: probe from {int(chosen.sum())} points, accuracy on other pixels {accuracy:.3f}")
    assert accuracy > 1.0 / len(probe.classes)
    proba = gdal.Open(str(result.probabilities_path)).ReadAsArray()
    np.testing.assert_allclose(proba.sum(axis=0), 1.0, atol=1e-4)
    np.testing.assert_array_equal(proba.argmax(axis=0) + 1, predicted_index)
    doubt = gdal.Open(str(result.uncertainty_path)).ReadAsArray()
    assert 0.0 <= doubt.min() and doubt.max() <= 1.0
    suggestions = ogr.Open(str(result.suggestions_path))
    spots = [(f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY(), f.GetField("uncertainty")) for f in suggestions[0]]
    suggestions = None
    assert len(spots) == 20 and len(set((x, y) for x, y, _ in spots)) == 20
    x0, dx, _, y0, _, dy = raster.geotransform
    assert all(x0 < x < x0 + dx * raster.width and y0 + dy * raster.height < y < y0 for x, y, _ in spots)
    assert min(u for _, _, u in spots) >= float(np.median(doubt))
    png = confusion_matrix_png(probe.report, tmp_path / "confusion.png")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_labels_in_another_crs_sample_the_same_pixels(geomeld_model, tmp_path):
    raster = open_raster(shared(CHIP))
    points, classes, _, _ = lulc_points(raster)
    embedding = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "emb.tif")
    utm = collect_samples(embedding.path, write_labels(tmp_path / "utm.gpkg", raster.crs_wkt, points, classes), "class")
    source, target = osr.SpatialReference(wkt=raster.crs_wkt), osr.SpatialReference()
    target.ImportFromEPSG(4326)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, target)
    lonlat = []
    for wkt in points:
        geometry = ogr.CreateGeometryFromWkt(wkt)
        geometry.Transform(transform)
        lonlat.append(geometry.ExportToWkt())
    geojson = write_labels(tmp_path / "wgs84.geojson", target.ExportToWkt(), lonlat, classes, driver="GeoJSON")
    wgs84 = collect_samples(embedding.path, geojson, "class")
    np.testing.assert_array_equal(wgs84.pixels, utm.pixels)
    np.testing.assert_array_equal(wgs84.labels, utm.labels)


def test_polygons_are_rasterised_and_capped_per_class(geomeld_model, tmp_path):
    raster = open_raster(shared(CHIP))
    embedding = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "emb.tif")
    x0, dx, _, y0, _, dy = raster.geotransform

    def square(col, row, size):
        xa, xb, ya, yb = x0 + col * dx, x0 + (col + size) * dx, y0 + row * dy, y0 + (row + size) * dy
        return f"POLYGON (({xa} {ya}, {xb} {ya}, {xb} {yb}, {xa} {yb}, {xa} {ya}))"

    polygons = [square(10, 10, 8), square(100, 100, 6), square(150, 20, 3)]
    labels = write_labels(tmp_path / "polygons.gpkg", raster.crs_wkt, polygons, [1, 2, 2], geometry_type=ogr.wkbPolygon)
    samples = collect_samples(embedding.path, labels, "class", max_per_class=50)
    assert samples.counts() == {"1": 50, "2": 36 + 9}
    assert {tuple(p) for p in samples.pixels[samples.labels == 0]} <= {
        (c, r) for c in range(10, 18) for r in range(10, 18)
    }


@pytest.mark.parametrize("kind", ["logistic", "random_forest", "knn"])
def test_probe_file_round_trip_predicts_identically(kind, geomeld_model, tmp_path):
    raster, context, probe, *_ = chip_probe(geomeld_model, tmp_path, kind=kind)
    path = save_probe(probe, tmp_path / "probe.json")
    assert not arrays_path(path).read_bytes().startswith(b"\x80")
    loaded = load_probe(path, geomeld_model.model_id)
    assert loaded.kind == kind and loaded.classes == probe.classes and loaded.colours == probe.colours
    assert loaded.report.accuracy == probe.report.accuracy
    embedding = open_embedding(embed_raster(raster, context).path)
    pixels = embedding.read().reshape(embedding.dim, -1).T
    np.testing.assert_array_equal(loaded.predict_proba(pixels), probe.predict_proba(pixels))


def test_pickles_other_files_and_other_weights_are_refused(geomeld_model, engine, tmp_path):
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(40, geomeld_model.embedding_dim)).astype(np.float32)
    probe = fit_probe(embeddings, np.arange(40) % 2, "logistic", model_id="0" * 64)
    pickled = tmp_path / "probe_pickle.json"
    pickled.write_bytes(pickle.dumps(probe.estimator))
    with pytest.raises(ProbeFileError, match="pickle"):
        load_probe(pickled)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"type": "FeatureCollection"}), encoding="utf-8")
    with pytest.raises(ProbeFileError, match="not a GeoMeld probe"):
        load_probe(other)
    save_probe(probe, tmp_path / "old.json")
    with pytest.raises(ProbeFileError, match=f"{'0' * 12}.*{geomeld_model.model_id[:12]}"):
        load_probe(tmp_path / "old.json", geomeld_model.model_id)
    raster = open_raster(shared(CHIP))
    with pytest.raises(ProbeFileError, match="train the probe again"):
        apply_probe(raster, engine, probe, tmp_path / "classes.tif")
    assert not (tmp_path / "classes.tif").exists()


def _label_case(case, raster, tmp_path):
    points, classes, _, _ = lulc_points(raster)
    path = tmp_path / f"{case}.gpkg"
    if case == "no field":
        return write_labels(path, raster.crs_wkt, points, classes, field="landcover"), "landcover: no field 'class'"
    if case == "one class":
        return write_labels(path, raster.crs_wkt, points, [4] * len(points)), "only one class"
    if case == "all outside":
        far = [f"POINT ({x} {y})" for x, y in [(10_000.0, 20_000.0), (12_000.0, 21_000.0)]]
        return write_labels(path, raster.crs_wkt, far, [1, 2]), "outside the raster"
    if case == "empty layer":
        return write_labels(path, raster.crs_wkt, [], []), "empty"
    path = tmp_path / "nocrs.shp"
    write_labels(path, "", points, classes, driver="ESRI Shapefile")
    return path, "no CRS"


@pytest.mark.parametrize("case", ["no field", "one class", "all outside", "empty layer", "no crs"])
def test_label_errors_write_nothing(case, geomeld_model, weights_dir, tmp_path, capsys):
    raster = open_raster(shared(CHIP))
    labels, message = _label_case(case, raster, tmp_path)
    expected = message.split(": ")[-1]
    context = EngineContext(geomeld_model, EmbeddingCache(tmp_path / "cache"))
    with pytest.raises(LabelInputError, match=expected):
        train_probe(raster, context, labels, "class")
    if case == "no field":
        with pytest.raises(LabelInputError, match="its fields are: landcover"):
            train_probe(raster, context, labels, "class")
    out = tmp_path / "probe.json"
    code = main(
        ["probe", "fit", str(shared(CHIP)), str(labels), "--field", "class", "--out", str(out)]
        + ["--weights", str(weights_dir)]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err
    assert not out.exists() and not arrays_path(out).exists()


def test_cancelled_apply_leaves_no_file(geomeld_model, tmp_path):
    raster, context, probe, *_ = chip_probe(geomeld_model, tmp_path)
    outputs = [tmp_path / "out" / name for name in ("classes.tif", "proba.tif", "doubt.tif", "next.gpkg")]
    outputs[0].parent.mkdir()
    with pytest.raises(CancelledError):
        apply_probe(
            raster,
            replace(context, feedback=Feedback(is_cancelled=lambda: True)),
            probe,
            outputs[0],
            probabilities_path=outputs[1],
            uncertainty_path=outputs[2],
            suggestions_path=outputs[3],
        )
    assert list(outputs[0].parent.iterdir()) == []


def test_outside_features_and_small_classes_are_reported(geomeld_model, tmp_path):
    raster = open_raster(shared(CHIP))
    points, classes, _, _ = lulc_points(raster)
    keep = [i for i, value in enumerate(classes) if value in (2, 4)] + [classes.index(5), classes.index(5) + 1]
    far = ["POINT (10000 20000)", "POINT (10010 20000)", "POINT (10020 20000)"]
    labels = write_labels(
        tmp_path / "labels.gpkg",
        raster.crs_wkt,
        [points[i] for i in keep] + far,
        [classes[i] for i in keep] + [2, 4, 5],
    )
    messages = []
    embedding = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "emb.tif")
    samples = collect_samples(embedding.path, labels, "class", feedback=Feedback(log=messages.append))
    assert samples.counts() == {"2": 20, "4": 20, "5": 2}
    assert samples.features_used == 42 and samples.features_skipped == 3
    assert any("3 feature(s) lie outside" in message for message in messages)
    assert any("Class '5' has only 2 sample(s)" in message for message in messages)


def test_olofsson_areas_of_the_papers_worked_example():
    """Olofsson et al. (2014), section 5: map classes deforestation, forest gain, stable forest, stable non-forest,
    their mapped pixels (30 m, 0.09 ha) and the sample counts (rows: map class); the paper's areas are 21,158 ha of
    deforestation and 11,686 ha of forest gain, user's accuracy of deforestation 0.88 and producer's 0.75."""
    from model_core.engine.accuracy import Z95, adjusted_areas

    by_map_class = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
    mapped_ha = np.array([200_000, 150_000, 3_200_000, 6_450_000]) * 0.09
    names = ["deforestation", "forest gain", "stable forest", "stable non-forest"]
    rows, notes = adjusted_areas(by_map_class.T.tolist(), mapped_ha, names)  # adjusted_areas takes rows = labelled
    assert notes == []
    assert rows[0].adjusted_ha == pytest.approx(21_158, abs=1) and rows[1].adjusted_ha == pytest.approx(11_686, abs=1)
    assert sum(row.adjusted_ha for row in rows) == pytest.approx(mapped_ha.sum())
    assert rows[0].users_accuracy == pytest.approx(0.88) and rows[0].producers_accuracy == pytest.approx(0.75, abs=0.01)
    weights, counts = mapped_ha / mapped_ha.sum(), by_map_class.sum(axis=1)
    shares = by_map_class[:, 0] / counts  # the paper's equation 10 for deforestation
    standard_error = np.sqrt(np.sum(weights**2 * shares * (1 - shares) / (counts - 1)))
    assert rows[0].ci95_ha == pytest.approx(Z95 * standard_error * mapped_ha.sum())


def test_held_out_polygons_areas_and_report_on_aberystwyth(geomeld_model, engine, tmp_path):
    """The 40 Aberystwyth polygons (x1000 reflectance): pixel CV reads near 1, whole polygons held out less; the
    area table splits the scene's area, with intervals; colours follow the class names."""
    from model_core.engine.palette import LEXICON
    from model_core.engine.report import write_probe_report
    from tests.conftest import ABERYSTWYTH, aberystwyth_polygons

    raster = open_raster(shared(ABERYSTWYTH))
    probe, samples = train_probe(raster, engine, aberystwyth_polygons(tmp_path), "class")
    report = probe.report
    held = report.held_out
    assert probe.classes == ["Forest", "Grass", "Urban", "Water"] and len(np.unique(samples.groups)) == 40
    assert held.grouping == "polygons" and held.groups == 40 and held.folds == 5
    assert report.accuracy > 0.98 and held.accuracy < report.accuracy  # the pixel CV flatters the probe
    assert np.asarray(held.confusion).sum() == len(samples.labels)
    area = raster.width * raster.height * 100 / 1e4  # 10 m pixels, British National Grid
    assert report.area_source == "held-out" and [row.name for row in report.areas] == probe.classes
    assert sum(row.mapped_ha for row in report.areas) == pytest.approx(area, rel=0.01)
    assert sum(row.adjusted_ha for row in report.areas) == pytest.approx(area, rel=0.01)
    assert all(row.ci95_ha >= 0 and 0 <= row.users_accuracy <= 1 for row in report.areas)
    assert "held-out polygons (40, 5 folds)" in report.summary() and "adjusted" in report.summary()
    meaning = {m.text: m.colour for m in LEXICON}
    assert probe.colours == [meaning["forest"], meaning["grassland"], meaning["built-up area"], meaning["water"]]
    page = write_probe_report(report, tmp_path / "report.html").read_text()
    assert "Held-out validation" in page and "Olofsson" in page and "95 % interval" in page
    assert report.device == geomeld_model.device and f"Model run on: {geomeld_model.device}" in page
    stored = json.loads(write_probe_report(report, tmp_path / "report.json").read_text())
    assert stored["held_out"]["groups"] == 40 and len(stored["areas"]) == 4 and stored["device"] == report.device
    save_probe(probe, tmp_path / "probe.json")
    assert load_probe(tmp_path / "probe.json").report == report


def test_probe_fit_writes_the_accuracy_report(tmp_path, capsys):
    from tests.conftest import ABERYSTWYTH, aberystwyth_polygons

    labels = aberystwyth_polygons(tmp_path)
    out, page = tmp_path / "probe.json", tmp_path / "report.html"
    code = main(
        [
            "probe",
            "fit",
            str(shared(ABERYSTWYTH)),
            str(labels),
            "--field",
            "class",
            "--out",
            str(out),
            "--report",
            str(page),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and page.exists() and f"wrote {page}" in printed and "held-out polygons (40" in printed


def test_points_are_held_out_in_blocks():
    from model_core.engine.accuracy import GROUP_BLOCK, describe_groups
    from model_core.engine.labels import sample_groups

    point = ogr.CreateGeometryFromWkt("POINT (1 1)")
    pixels = np.array([[5, 5], [GROUP_BLOCK - 1, 3], [GROUP_BLOCK, 3], [5, GROUP_BLOCK + 1]])
    groups = sample_groups(7, point, pixels)
    assert groups[0] == groups[1] and len(set(groups.tolist())) == 3 and (groups < 0).all()
    polygon = ogr.CreateGeometryFromWkt("POLYGON ((0 0, 1 0, 1 1, 0 0))")
    assert (sample_groups(7, polygon, pixels) == 7).all()
    assert describe_groups(groups) == "blocks of points" and describe_groups(np.array([3, -2])).startswith("polygons")


def test_class_colours_follow_meaning():
    from model_core.engine.palette import LEXICON, PALETTE, class_colours, default_colours, meaning_by_words

    meaning = {m.text: m.colour for m in LEXICON}
    words = [
        "pine forest",
        "open water",
        "tidal marsh",
        "sandy beach",
        "Built-up",
        "snow",
        "clouds",
        "farmland",
        "town",
    ]
    expected = ["forest", "water", "wetland", "bare ground", "built-up area", "snow and ice", "clouds", "cropland"]
    assert [LEXICON[meaning_by_words(name)].text for name in words[:8]] == expected
    water, forest, farmland = class_colours(["water", "forest", "farmland"])
    assert (water, forest, farmland) == (meaning["water"], meaning["forest"], meaning["cropland"])
    sea, lake = class_colours(["sea", "lake"])
    assert sea == meaning["water"] and lake != sea  # a second name of one meaning gets a shade
    other, wet = class_colours(["open land", "water"])
    assert other != PALETTE[0] and other in PALETTE  # the palette's blue would read as water: skipped
    clusters = [f"cluster {n}" for n in range(1, 15)]
    assert class_colours(clusters) == default_colours(14)
