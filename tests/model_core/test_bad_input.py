"""Bad input, faults and odd rasters through the CLI and the engine (Processing: tests/plugin/test_bad_input.py):
each is refused with one clear sentence (or handled), nothing crashes, and no partial output file is left behind.

A fully clouded patch (every Sentinel-2 band saturated) is not refused: GeoMeld has no cloud mask, so the patch embeds
like any other raster and gets one near-constant embedding, which a probe or zero-shot map gives a single class.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from benchmarks.mosaic import mosaic_vrt
from model_core.engine.classify import apply_probe, train_probe
from model_core.engine.context import EngineContext
from model_core.engine.embedding import embed_raster, read_embedding
from model_core.engine.probe import fit_probe
from model_core.engine.probe_file import load_probe, save_probe
from model_core.engine.query import text_query
from model_core.errors import (
    CancelledError,
    LabelInputError,
    ModelWeightsError,
    ProbeFileError,
    QueryInputError,
    RasterInputError,
)
from model_core.feedback import Feedback
from model_core.io import Window, open_raster
from model_core.runtime import load_model, sha256_file
from tests.conftest import REPO_ROOT, shared

CHIP = "terramesh_examples/S2L1C/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"
EUROSAT = "eurosat_ms/Forest/Forest_1031.tif"
GIB = 1024**3


# ---- helpers ---------------------------------------------------------------------------------------------------------
def files_in(folder: Path) -> list[str]:
    """Every name in a folder, hidden temporary files included."""
    return sorted(os.listdir(folder))


def cli(args: list[str], weights: Path, cache: Path, env: dict | None = None, preexec=None):
    """Run `python -m model_core ARGS` in a child process."""
    environment = dict(os.environ, GEOMELD_WEIGHTS_DIR=str(weights), GEOMELD_CACHE_DIR=str(cache), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "model_core", *map(str, args)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )


def assert_refused(result: subprocess.CompletedProcess, text: str) -> None:
    """Exit status 2 with one `error:` line holding `text`, and no traceback."""
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def copy_raster(source: Path, target: Path) -> Path:
    """A GeoTIFF copy of a raster that can be edited."""
    gdal.Translate(str(target), str(source), format="GTiff")
    return target


def set_bands(path: Path, value: float, bands: range | None = None) -> None:
    """Overwrite bands (default: all) of a raster with one value."""
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for index in bands or range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(index)
        band.WriteArray(np.full((dataset.RasterYSize, dataset.RasterXSize), value))
    dataset = None


def write_points(path: Path, points: list[tuple[float, float, str]], srs: osr.SpatialReference | None) -> Path:
    """A point layer with a `class` field (driver from the suffix; srs None writes no CRS)."""
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".shp": "ESRI Shapefile"}[path.suffix]
    source = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    layer = source.CreateLayer("labels", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for x, y, name in points:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", name)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(x, y)
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return path


def chip_points(shift: float = 0.0) -> list[tuple[float, float, str]]:
    """Pixel-centre points on the chip, 'west' in its left and 'east' in its right part (map units, chip CRS)."""
    x0, dx, _, y0, _, dy = gdal.Open(str(shared(CHIP))).GetGeoTransform()
    points = []
    for row in range(20, 200, 30):
        for col, name in ((30, "west"), (190, "east")):
            points.append((x0 + (col + 0.5) * dx + shift, y0 + (row + 0.5) * dy, name))
    return points


def chip_srs() -> osr.SpatialReference:
    """The CRS of the chip."""
    srs = osr.SpatialReference(wkt=gdal.Open(str(shared(CHIP))).GetProjection())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def wgs84() -> osr.SpatialReference:
    """EPSG:4326 with longitude first."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@pytest.fixture(autouse=True)
def default_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default embedding cache of each test is a fresh folder."""
    monkeypatch.setenv("GEOMELD_CACHE_DIR", str(tmp_path / "default_cache"))
    return tmp_path / "default_cache"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty output folder."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# ---- CLI -------------------------------------------------------------------------------------------------------------
def test_cli_band_list_with_the_wrong_count(weights_dir, tmp_path, out):
    result = cli(["embed", shared(CHIP), "--bands", "B02,B03,B04,B08", "--out", out / "e.tif"], weights_dir, tmp_path)
    assert_refused(result, "has 13 bands but the band list names 4")
    assert files_in(out) == []


def test_cli_rgb_only_raster(weights_dir, tmp_path, out):
    result = cli(["embed", shared(RGB_CHIP), "--out", out / "e.tif"], weights_dir, tmp_path)
    assert_refused(result, "GeoMeld needs Sentinel-2 bands B02")
    assert files_in(out) == []


def test_cli_raster_without_georeference(weights_dir, tmp_path, out):
    bare = copy_raster(shared(CHIP), tmp_path / "bare.tif")
    dataset = gdal.Open(str(bare), gdal.GA_Update)
    dataset.SetProjection("")
    dataset = None
    result = cli(["embed", bare, "--out", out / "e.tif"], weights_dir, tmp_path)
    assert_refused(result, "has no georeference")
    assert files_in(out) == []


def test_cli_unicode_and_spaces_in_paths(weights_dir, tmp_path):
    folder = tmp_path / "données été"
    folder.mkdir()
    scene = copy_raster(shared(CHIP), folder / "scène 1.tif")
    result = cli(["embed", scene, "--stride", "4", "--out", folder / "sortie été 1.tif"], weights_dir, tmp_path)
    assert result.returncode == 0, result.stderr
    assert files_in(folder) == ["scène 1.tif", "sortie été 1.tif"]
    embedding = gdal.Open(str(folder / "sortie été 1.tif"))
    assert (embedding.RasterXSize, embedding.RasterYSize) == (56, 56)
    assert embedding.GetMetadataItem("SOURCE") == str(scene)


def test_cli_empty_text_query(weights_dir, tmp_path, out):
    result = cli(["query", shared(CHIP), "--text", "   ", "--out", out / "heat.tif"], weights_dir, tmp_path)
    assert_refused(result, "empty")
    assert files_in(out) == []


def test_cli_read_only_cache_folder(weights_dir, tmp_path, out):
    if os.geteuid() == 0:  # root writes through permission bits; sysfs refuses new folders even to root
        cache = Path("/sys/geomeld-cache")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cache = locked / "cache"
    result = cli(["query", shared(CHIP), "--text", "water", "--out", out / "heat.tif"], weights_dir, cache)
    assert_refused(result, f"cache folder '{cache}' cannot be created")
    assert files_in(out) == [] and not cache.exists()


def _file_size_limit() -> None:
    """In the child: files may not grow past 128 KiB, as on a full disk (writes fail with EFBIG, no signal)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (128 * 1024, 128 * 1024))


def test_cli_disk_full_leaves_nothing(weights_dir, tmp_path, out):
    result = cli(["embed", shared(CHIP), "--out", out / "e.tif"], weights_dir, tmp_path, preexec=_file_size_limit)
    assert_refused(result, "Writing 'e.tif' failed")
    assert "free space" in result.stderr
    assert files_in(out) == []


def test_cli_tampered_weights(weights_dir, tmp_path, out):
    weights = Path(shutil.copytree(weights_dir, tmp_path / "weights"))
    encoder = weights / "image_encoder.onnx"
    data = bytearray(encoder.read_bytes())
    data[len(data) // 2] ^= 0xFF
    encoder.write_bytes(bytes(data))
    result = cli(["embed", shared(CHIP), "--weights", weights, "--out", out / "e.tif"], weights_dir, tmp_path)
    assert_refused(result, "'image_encoder.onnx' does not match the checksum")
    assert files_in(out) == []


def test_cli_pickle_offered_as_probe(weights_dir, tmp_path, out):
    probe = tmp_path / "probe.json"
    probe.write_bytes(pickle.dumps({"classes": ["water", "forest"]}))
    result = cli(["probe", "apply", shared(CHIP), probe, "--out", out / "classes.tif"], weights_dir, tmp_path)
    assert_refused(result, "'probe.json' is a Python pickle; GeoMeld never loads pickles")
    assert files_in(out) == []


def test_cli_labels_outside_the_raster(weights_dir, tmp_path, out):
    labels = write_points(tmp_path / "far.gpkg", chip_points(shift=50_000.0), chip_srs())
    args = ["probe", "fit", shared(CHIP), labels, "--field", "class", "--out", out / "probe.json"]
    result = cli(args, weights_dir, tmp_path)
    assert_refused(result, "lie outside the raster")
    assert files_in(out) == []


# ---- engine ----------------------------------------------------------------------------------------------------------
def test_all_nodata_raster_is_refused(tmp_path):
    path = copy_raster(shared(CHIP), tmp_path / "empty.tif")
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for index in range(1, dataset.RasterCount + 1):
        dataset.GetRasterBand(index).SetNoDataValue(0)
    dataset = None
    set_bands(path, 0)
    with pytest.raises(RasterInputError, match="holds only nodata pixels"):
        open_raster(path)


def test_fully_clouded_patch_embeds_as_one_surface(geomeld_model, tmp_path):
    path = copy_raster(shared(CHIP), tmp_path / "cloud.tif")
    set_bands(path, 10000)  # reflectance 1.0 in every band: saturated white
    result = embed_raster(
        open_raster(path), EngineContext(geomeld_model), tmp_path / "cloud_embedding.tif", encoding="float32"
    )
    values = read_embedding(result.path)
    assert np.isfinite(values).all()
    np.testing.assert_allclose(np.linalg.norm(values, axis=0), 1.0, atol=1e-3)
    centre = values[:, 112, 112]
    cosine = np.einsum("d,dhw->hw", centre, values[:, 32:-32, 32:-32])
    assert cosine.min() > 0.99


def test_raster_smaller_than_one_tile(geomeld_model, tmp_path):
    raster = open_raster(shared(EUROSAT), bands="eurosat")
    result = embed_raster(raster, EngineContext(geomeld_model, tile_size=512), tmp_path / "small.tif")
    values = read_embedding(result.path)
    assert values.shape == (geomeld_model.embedding_dim, 64, 64)
    assert (np.abs(values).sum(axis=0) > 0).all()


def test_one_pixel_raster(geomeld_model, tmp_path):
    path = tmp_path / "pixel.tif"
    gdal.Translate(str(path), str(shared(CHIP)), srcWin=[100, 100, 1, 1])
    result = embed_raster(
        open_raster(path), EngineContext(geomeld_model), tmp_path / "pixel_embedding.tif", encoding="float32"
    )
    values = read_embedding(result.path)
    assert values.shape == (geomeld_model.embedding_dim, 1, 1)
    assert np.linalg.norm(values[:, 0, 0]) == pytest.approx(1.0, abs=1e-3)


def test_huge_virtual_raster_opens_and_embeds_an_extent(geomeld_model, tmp_path):
    vrt = mosaic_vrt(shared(CHIP), tmp_path / "huge.vrt", 200_000, 200_000, copies=4)
    raster = open_raster(vrt)  # a full read would need 2.4 TB: opening only samples a decimated view
    assert (raster.width, raster.height) == (200_000, 200_000)
    assert raster.info()["size"] == [200_000, 200_000]
    result = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "corner.tif", extent=Window(0, 0, 256, 256))
    assert (result.width, result.height) == (256, 256)
    assert gdal.Open(str(result.path)).GetGeoTransform()[:1] == raster.geotransform[:1]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < 8 * GIB


def test_labels_in_wgs84_over_a_utm_raster_are_reprojected(engine, tmp_path):
    raster = open_raster(shared(CHIP))
    utm_points = chip_points()
    to_wgs84 = osr.CoordinateTransformation(chip_srs(), wgs84())
    wgs84_points = [(*to_wgs84.TransformPoint(x, y)[:2], name) for x, y, name in utm_points]
    utm = write_points(tmp_path / "utm.gpkg", utm_points, chip_srs())
    geographic = write_points(tmp_path / "wgs84.geojson", wgs84_points, wgs84())
    _, reference = train_probe(raster, engine, utm, "class")
    probe, samples = train_probe(raster, engine, geographic, "class")
    assert probe.classes == ["east", "west"]
    assert sorted(map(tuple, samples.pixels.tolist())) == sorted(map(tuple, reference.pixels.tolist()))


def test_labels_without_crs_are_refused(engine, tmp_path):
    labels = write_points(tmp_path / "no_crs.shp", chip_points(), None)
    assert not labels.with_suffix(".prj").exists()
    with pytest.raises(LabelInputError, match="has no CRS"):
        train_probe(open_raster(shared(CHIP)), engine, labels, "class")


def test_overlong_query_is_refused(engine, out):
    text = " ".join(["flooded rice paddies beside a meandering river"] * 20)
    with pytest.raises(QueryInputError, match="too long"):
        text_query(shared(CHIP), engine, text, out / "heat.tif")
    assert files_in(out) == []


def test_cancel_after_the_first_tile_leaves_nothing(geomeld_model, tmp_path, out):
    from model_core.engine.cache import EmbeddingCache

    progress: list[float] = []
    feedback = Feedback(progress=progress.append, is_cancelled=lambda: len(progress) >= 1)
    cache = EmbeddingCache(tmp_path / "cache")
    raster = open_raster(shared(CHIP))
    with pytest.raises(CancelledError, match="no output was written"):
        embed_raster(raster, EngineContext(geomeld_model, tile_size=128, feedback=feedback), out / "e.tif", overlap=32)
    assert len(progress) == 1 and 0 < progress[0] < 100
    with pytest.raises(CancelledError):
        embed_raster(
            raster,
            EngineContext(geomeld_model, cache, tile_size=128, feedback=Feedback(is_cancelled=lambda: True)),
            overlap=32,
        )
    assert files_in(out) == [] and files_in(cache.folder) == []


def test_corrupt_onnx_file_is_refused(weights_dir, tmp_path):
    weights = Path(shutil.copytree(weights_dir, tmp_path / "weights"))
    encoder = weights / "image_encoder.onnx"
    encoder.write_bytes(b"this is not an ONNX graph" * 100)
    card_path = weights / "model_card.json"
    card = json.loads(card_path.read_text())
    card["files"]["image_encoder.onnx"] = sha256_file(encoder)  # checksum matches: the graph itself is broken
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelWeightsError, match="ONNX Runtime cannot load 'image_encoder.onnx'"):
        load_model(weights)


def test_probe_for_other_weights_is_refused(geomeld_model, engine, tmp_path, out):
    raster = open_raster(shared(CHIP))
    values = read_embedding(embed_raster(raster, EngineContext(geomeld_model), tmp_path / "e.tif", stride=8).path)
    samples = values.reshape(values.shape[0], -1).T
    labels = (np.arange(len(samples)) % 28 >= 14).astype(np.int64)  # west / east half of the 28 x 28 grid
    other = fit_probe(samples, labels, class_names=["west", "east"], model_id="f" * 64, evaluate=False)
    path = save_probe(other, out / "other.json")
    before = files_in(out)
    with pytest.raises(ProbeFileError, match="train the probe again with these weights"):
        load_probe(path, model_id=str(geomeld_model.model_id))
    with pytest.raises(ProbeFileError, match="train the probe again with these weights"):
        apply_probe(raster, engine, load_probe(path), out / "classes.tif")
    assert files_in(out) == before


# ---- data loss, out-of-range options, damaged files ------------------------------------------------------------------
def digest(folder: Path) -> dict[str, bytes]:
    """Every file of a folder (recursively) with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def workspace(geomeld_model, tmp_path_factory) -> Path:
    """Inputs of every command in one folder: two chip copies, labels, a probe (.json + .npz) and a class raster."""
    from model_core.engine.cluster import cluster_raster

    folder = tmp_path_factory.mktemp("workspace")
    copy_raster(shared(CHIP), folder / "scene.tif")
    copy_raster(shared(CHIP), folder / "later.tif")
    write_points(folder / "labels.gpkg", chip_points(), chip_srs())
    raster = open_raster(folder / "scene.tif")
    cache_dir = tmp_path_factory.mktemp("workspace_cache")
    from model_core.engine.cache import EmbeddingCache

    cache = EmbeddingCache(cache_dir)
    probe, _ = train_probe(raster, EngineContext(geomeld_model, cache), folder / "labels.gpkg", "class", stride=8)
    save_probe(probe, folder / "probe.json")
    cluster_raster(raster, EngineContext(geomeld_model, cache), folder / "classes.tif", 3, stride=8)
    return folder


@pytest.fixture
def guarded(workspace: Path, tmp_path: Path):
    """The workspace and an empty output folder; afterwards both must be exactly as before."""
    out = tmp_path / "o"
    out.mkdir()
    before = digest(workspace)
    yield workspace, out
    assert digest(workspace) == before, "an input was changed"
    assert files_in(out) == [], "something was written"


DATA_LOSS = {
    "embed over its input": ("embed {w}/scene.tif --out {w}/scene.tif", "would overwrite the input"),
    "embed through a link to its input": ("embed {w}/scene.tif --out {o}/link.tif", "would overwrite the input"),
    "embed PCA over the embedding": ("embed {w}/scene.tif --out {o}/e.tif --pca {o}/e.tif", "given as two outputs"),
    "embed PCA into a missing folder": ("embed {w}/scene.tif --out {o}/e.tif --pca {o}/no/p.tif", "does not exist"),
    "probe confusion over the arrays": (
        "probe fit {w}/scene.tif {w}/labels.gpkg --field class --out {o}/p.json --confusion {o}/p.npz",
        "written beside 'p.json'",
    ),
    "probe confusion over the labels": (
        "probe fit {w}/scene.tif {w}/labels.gpkg --field class --out {o}/p.json --confusion {w}/labels.gpkg",
        "would overwrite the input",
    ),
    "probe map over its raster": ("probe apply {w}/scene.tif {w}/probe.json --out {w}/scene.tif", "overwrite"),
    "probabilities over the probe arrays": (
        "probe apply {w}/scene.tif {w}/probe.json --out {o}/c.tif --probabilities {w}/probe.npz",
        "would overwrite the input",
    ),
    "clusters over their raster": ("segment {w}/scene.tif --clusters 3 --out {w}/scene.tif", "overwrite the input"),
    "polygons over the class raster": ("vectorize {w}/classes.tif --out {w}/classes.tif", "would overwrite the input"),
    "polygons named like their area table": ("vectorize {w}/classes.tif --out {o}/x.csv", "written beside it"),
    "zero-shot probabilities over the raster": (
        "zeroshot {w}/scene.tif --classes water,forest --out {o}/z.tif --probabilities-out {w}/scene.tif",
        "would overwrite the input",
    ),
    "query mask over the heatmap": ("query {w}/scene.tif --text water --out {o}/h.tif --mask-out {o}/h.tif", "two"),
    "similar polygons over the examples": (
        "similar {w}/scene.tif --points-file {w}/labels.gpkg --out {o}/s.tif --polygons-out {w}/labels.gpkg",
        "would overwrite the input",
    ),
    "change over the later date": ("change {w}/scene.tif {w}/later.tif --out {w}/later.tif", "overwrite the input"),
}


@pytest.mark.parametrize("case", DATA_LOSS.values(), ids=DATA_LOSS.keys())
def test_cli_never_overwrites_an_input_or_another_output(weights_dir, tmp_path, guarded, case):
    workspace, out = guarded
    command, message = case
    link = out / "link.tif"
    link.symlink_to(workspace / "scene.tif")
    args = command.format(w=workspace, o=out).split()
    result = cli(args, weights_dir, tmp_path / "cache")
    link.unlink()
    assert_refused(result, message)
    assert not (tmp_path / "cache" / "embeddings").exists() or files_in(tmp_path / "cache" / "embeddings") == []


OUT_OF_RANGE = {
    "--stride 0": ("embed {w}/scene.tif --stride 0 --out {o}/e.tif", "--stride"),
    "--stride 17": ("segment {w}/scene.tif --stride 17 --out {o}/c.tif", "--stride"),
    "--clusters 1": ("segment {w}/scene.tif --clusters 1 --out {o}/c.tif", "--clusters"),
    "--clusters 1000": ("segment {w}/scene.tif --clusters 1000 --out {o}/c.tif", "--clusters"),
    "--seed -1": ("segment {w}/scene.tif --seed -1 --out {o}/c.tif", "--seed"),
    "--point inf,nan": ("similar {w}/scene.tif --point inf,nan --out {o}/s.tif", "--point"),
    "--point 1": ("similar {w}/scene.tif --point 1 --out {o}/s.tif", "--point"),
    "--points-crs foo": ("similar {w}/scene.tif --point 1,2 --points-crs foo --out {o}/s.tif", "--points-crs"),
    "--max-per-class -1": (
        "probe fit {w}/scene.tif {w}/labels.gpkg --field class --max-per-class -1 --out {o}/p.json",
        "--max-per-class",
    ),
    "--suggestions 0": ("probe apply {w}/scene.tif {w}/probe.json --suggestions 0 --out {o}/c.tif", "--suggestions"),
    "--scale nan": ("query {w}/scene.tif --text water --scale nan --out {o}/h.tif", "--scale"),
    "--scale 0": ("query {w}/scene.tif --text water --scale 0 --out {o}/h.tif", "--scale"),
    "--scale -10000": ("embed {w}/scene.tif --scale -10000 --out {o}/e.tif", "--scale"),
    "--scale inf": ("embed {w}/scene.tif --scale inf --out {o}/e.tif", "--scale"),
    "--top-k -1": ("query {w}/scene.tif --text water --top-k -1 --out {o}/h.tif", "--top-k"),
    "--threshold nan": ("query {w}/scene.tif --text water --threshold nan --out {o}/h.tif", "--threshold"),
    "--threads 0": ("query {w}/scene.tif --text water --threads 0 --out {o}/h.tif", "--threads"),
    "--smoothing -3": ("segment {w}/scene.tif --smoothing -3 --out {o}/c.tif", "--smoothing"),
    "--mmu -1": ("probe apply {w}/scene.tif {w}/probe.json --mmu -1 --out {o}/c.tif", "--mmu"),
    "--min-area-ha -1": ("vectorize {w}/classes.tif --min-area-ha -1 --out {o}/c.gpkg", "--min-area-ha"),
    "--simplify nan": ("vectorize {w}/classes.tif --simplify nan --out {o}/c.gpkg", "--simplify"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_cli_refuses_out_of_range_options_while_parsing(weights_dir, tmp_path, guarded, case):
    workspace, out = guarded
    command, option = case
    result = cli(command.format(w=workspace, o=out).split(), weights_dir, tmp_path / "cache")
    assert_refused(result, f"argument {option}: ")
    assert result.stderr.count("\n") == 1 and "usage:" not in result.stderr
    assert not (tmp_path / "cache").exists()


def test_cli_too_many_zero_shot_classes_are_refused_before_any_work(weights_dir, tmp_path, guarded):
    workspace, out = guarded
    classes = ",".join(f"class {index}" for index in range(300))
    args = ["zeroshot", workspace / "scene.tif", "--classes", classes, "--out", out / "z.tif"]
    result = cli(args, weights_dir, tmp_path)
    assert_refused(result, "at most 254 classes; 300 class names were given")
    assert not (tmp_path / "embeddings").exists() or files_in(tmp_path / "embeddings") == []


def test_cli_unwritable_output_folder_is_refused_before_any_work(weights_dir, tmp_path, guarded):
    workspace, _ = guarded
    if os.geteuid() == 0:
        folder = Path("/sys")  # root writes through permission bits; sysfs refuses new files even to root
    else:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o555)
    result = cli(["segment", workspace / "scene.tif", "--out", folder / "c.tif"], weights_dir, tmp_path / "cache")
    assert_refused(result, f"The output folder '{folder}' is not writable")
    assert not (tmp_path / "cache").exists()


def truncated_copy(source: Path, target: Path) -> Path:
    """The first 60 % of a file's bytes."""
    data = source.read_bytes()
    target.write_bytes(data[: len(data) * 6 // 10])
    return target


def test_cli_truncated_geotiff_is_one_sentence(weights_dir, tmp_path, out):
    broken = truncated_copy(shared(CHIP), tmp_path / "broken.tif")
    for command in (["info", broken], ["embed", broken, "--out", out / "e.tif"]):
        assert_refused(cli(command, weights_dir, tmp_path / "cache"), "broken.tif' cannot be read")
    assert files_in(out) == []


def test_cli_virtual_raster_whose_source_is_gone(weights_dir, tmp_path, out):
    source = copy_raster(shared(CHIP), tmp_path / "source.tif")
    vrt = tmp_path / "mosaic.vrt"
    gdal.BuildVRT(str(vrt), [str(source)]).FlushCache()
    source.unlink()
    result = cli(["query", vrt, "--text", "water", "--out", out / "h.tif"], weights_dir, tmp_path / "cache")
    assert_refused(result, "mosaic.vrt' cannot be read")
    assert "a file it refers to is missing" in result.stderr
    assert files_in(out) == []


def test_cli_truncated_probe_arrays(weights_dir, tmp_path, workspace, out):
    shutil.copy(workspace / "probe.json", tmp_path / "probe.json")
    truncated_copy(workspace / "probe.npz", tmp_path / "probe.npz")
    args = ["probe", "apply", shared(CHIP), tmp_path / "probe.json", "--out", out / "c.tif"]
    result = cli(args, weights_dir, tmp_path)
    assert_refused(result, "probe.npz' cannot be read")
    assert "train the probe again" in result.stderr
    assert files_in(out) == []


@pytest.mark.parametrize("crs", ["coordinates of another CRS", "engineering CRS"])
def test_cli_labels_whose_crs_does_not_fit(weights_dir, tmp_path, out, crs):
    if crs == "engineering CRS":
        srs = osr.SpatialReference()
        srs.SetLocalCS("site grid")
        message = "has a CRS that cannot be brought into the raster's"
    else:
        srs, message = wgs84(), "do not fit its CRS"  # UTM metres declared as degrees
    labels = write_points(tmp_path / "labels.gpkg", chip_points(), srs)
    args = ["probe", "fit", shared(CHIP), labels, "--field", "class", "--out", out / "probe.json"]
    assert_refused(cli(args, weights_dir, tmp_path), message)
    assert files_in(out) == []


def test_x1000_scene_is_detected_and_said(weights_dir, tmp_path):
    scene = shared("rsgislib_aberystwyth_s2/s2_20210527_aberystwyth_10band_sref_x1000.tif")
    result = cli(["info", scene], weights_dir, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reflectance_scale"] == 1000.0
    assert "warning: 's2_20210527_aberystwyth_10band_sref_x1000.tif' looks like reflectance x 1000" in result.stderr
    told = cli(["info", scene, "--scale", "10000"], weights_dir, tmp_path)
    assert json.loads(told.stdout)["reflectance_scale"] == 10000.0 and told.stderr == ""


def test_unknown_band_order_is_questioned(weights_dir, tmp_path):
    assumed = cli(["info", shared(EUROSAT)], weights_dir, tmp_path)  # EuroSAT stores B8A last, not after B08
    assert assumed.returncode == 0 and "read as B10 is as bright as B11" in assumed.stderr
    assert "band list 'eurosat'" in assumed.stderr
    named = cli(["info", shared(EUROSAT), "--bands", "eurosat"], weights_dir, tmp_path)
    assert named.returncode == 0 and named.stderr == ""
    assert open_raster(shared(CHIP)).notices == []


def test_no_proj_data_warning(weights_dir, tmp_path, workspace, out):
    environment = {key: value for key, value in os.environ.items() if key not in ("PROJ_DATA", "PROJ_LIB")}
    result = subprocess.run(
        [sys.executable, "-m", "model_core", "vectorize", str(workspace / "classes.tif"), "--out", str(out / "c.gpkg")],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "PROJ" not in result.stderr
