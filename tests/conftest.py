"""Shared fixtures: real data from ../shared/data, and the plugin installed into a temporary QGIS profile."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GEOMELD_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
PLUGIN_NAME = "geomeld"

os.environ.setdefault("GDAL_PAM_ENABLED", "NO")
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def shared(relative: str) -> Path:
    """Path of a file under ../shared/data; the test is skipped when the shared data is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


# A TerraMesh chip with its land-cover raster, and the classes labelled on it (land-cover value -> name).
PROBE_CHIP = "terramesh_examples/S2L2A/433D_629L_3_1.tif"
PROBE_LULC = "terramesh_examples/LULC/433D_629L_3_1.tif"
LULC_NAMES = {1: "water", 2: "trees", 4: "crops", 5: "built area"}


def lulc_label_points(per_class: int = 8) -> tuple[list[tuple[float, float, str]], str]:
    """(x, y, class name) of `per_class` random pixel centres per LULC_NAMES class of PROBE_LULC, 4 px off its
    edges, and the raster's CRS as WKT."""
    dataset = gdal.Open(str(shared(PROBE_LULC)))
    lulc = dataset.GetRasterBand(1).ReadAsArray()
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    rng = np.random.default_rng(0)
    points = []
    for value, name in LULC_NAMES.items():
        rows, cols = np.nonzero(lulc[4:-4, 4:-4] == value)
        for index in rng.choice(len(rows), per_class, replace=False):
            points.append((x0 + (cols[index] + 4.5) * dx, y0 + (rows[index] + 4.5) * dy, name))
    return points, dataset.GetProjection()


# The GPL Aberystwyth scene (x1000 reflectance; tests only) and its label raster of 40 hand-drawn polygons.
ABERYSTWYTH = "rsgislib_aberystwyth_s2/s2_20210527_aberystwyth_10band_sref_x1000.tif"
ABERYSTWYTH_LABELS = "rsgislib_aberystwyth_s2/labels_4class.tif"
ABERYSTWYTH_CLASSES = {1: "Forest", 2: "Grass", 3: "Urban", 4: "Water"}


def aberystwyth_polygons(folder: Path) -> Path:
    """The 40 Aberystwyth label polygons as a GeoPackage (layer 'labels', text field 'class'), made once per folder
    from the label raster."""
    path = folder / "aberystwyth_labels.gpkg"
    if path.exists():
        return path
    from osgeo import ogr, osr

    source = gdal.Open(str(shared(ABERYSTWYTH_LABELS)))
    band = source.GetRasterBand(1)
    memory = ogr.GetDriverByName("Memory").CreateDataSource("labels")
    regions = memory.CreateLayer("regions", osr.SpatialReference(wkt=source.GetProjection()), ogr.wkbPolygon)
    regions.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    gdal.Polygonize(band, band, regions, 0, ["8CONNECTED=8"])
    target = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = target.CreateLayer("labels", regions.GetSpatialRef(), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for region in regions:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(region.GetGeometryRef())
        feature.SetField("class", ABERYSTWYTH_CLASSES[region.GetField("value")])
        layer.CreateFeature(feature)
    target = None
    return path


def qgis_host_env(root: Path, qt_platform: str, **extra: str) -> dict[str, str]:
    """Environment for a QGIS executable (qgis_process, qgis.bin) with this repository as the plugin in
    `root/plugins`, its profile under `root/config`, and the .venv packages on its Python path."""
    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN_NAME).symlink_to(REPO_ROOT, target_is_directory=True)
    return dict(
        os.environ,
        QT_QPA_PLATFORM=qt_platform,
        QGIS_PLUGINPATH=str(plugins),
        QGIS_CUSTOM_CONFIG_PATH=str(root / "config"),
        PYTHONPATH=str(qgis_python_path(root / "site-packages")),
        GEOMELD_CACHE_DIR=str(root / "cache"),
        **extra,
    )


def qgis_python_path(folder: Path) -> Path:
    """The .venv packages as QGIS's Python sees them after installing GeoMeld's requirements: everything but the pip
    pyproj wheel, whose bundled libproj clashes with QGIS's PROJ (the system pyproj, linked to that PROJ, is used)."""
    venv = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    folder.mkdir()
    for entry in venv.iterdir():
        if not entry.name.startswith("pyproj"):
            (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The ../shared/data folder."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not available: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def plugin_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary QGIS profile whose python/plugins folder holds this repository as the 'geomeld' plugin."""
    plugins = tmp_path_factory.mktemp("profile") / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / PLUGIN_NAME).symlink_to(REPO_ROOT, target_is_directory=True)
    return plugins


@pytest.fixture(scope="session")
def loaded_plugin(plugin_profile: Path, qgis_iface):
    """The plugin loaded and started through qgis.utils exactly as QGIS does; unloaded at the end."""
    import qgis.utils

    sys.path.insert(0, str(plugin_profile))
    qgis.utils.plugin_paths.insert(0, str(plugin_profile))
    qgis.utils.iface = qgis_iface
    qgis.utils.updateAvailablePlugins()
    assert PLUGIN_NAME in qgis.utils.available_plugins
    assert qgis.utils.loadPlugin(PLUGIN_NAME), "QGIS could not import the plugin package"
    assert qgis.utils.startPlugin(PLUGIN_NAME), "QGIS could not start the plugin"
    yield qgis.utils.plugins[PLUGIN_NAME]
    assert qgis.utils.unloadPlugin(PLUGIN_NAME)


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled weights folder when it holds a model card, else a randomly initialised model exported once."""
    bundled = REPO_ROOT / "resources" / "model"
    if (bundled / "model_card.json").exists():
        return bundled
    from training.export import export_random

    return export_random(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="session")
def geomeld_model(weights_dir: Path):
    """GeoMeld-FM loaded with ONNX Runtime from weights_dir (shared by every test of the session)."""
    from model_core.runtime import load_model

    return load_model(weights_dir)


@pytest.fixture
def engine(geomeld_model):
    """An engine context of geomeld_model with the default embedding cache (in $GEOMELD_CACHE_DIR: the test run's, or
    the one a test module sets) and the default tiles; `engine.uncached()` writes embeddings only where asked."""
    from model_core.engine.cache import EmbeddingCache
    from model_core.engine.context import EngineContext

    return EngineContext(geomeld_model, EmbeddingCache())


def teacher_golden(name: str) -> dict[str, np.ndarray]:
    """The arrays of a teacher's golden file (`../shared/teachers/golden/<name>_golden.npz`); skipped when absent."""
    from training.teachers.galileo import default_teacher_dir

    path = default_teacher_dir() / "golden" / f"{name}_golden.npz"
    if not path.exists():
        pytest.skip(f"pretrained teachers not available: {path}")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember the run's exit status for pytest_unconfigure."""
    session.config.stash[EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with the run's status once pytest has printed its summary, without Python's teardown: QGIS and Qt
    sometimes crash while tearing down (a segmentation fault after every test passed), which turned a green run red."""
    status = config.stash.get(EXIT_STATUS, None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
