"""GeoMeld inside QGIS desktop itself (qgis.bin, on the X display that scripts/test.sh starts): the plugin enabled
in a fresh profile, its dock, and its algorithms run in the QGIS process, whose libraries (GEOS, PROJ) are loaded
before the plugin."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from osgeo import ogr

from tests.conftest import PLUGIN_NAME, qgis_host_env, shared

QGIS_DESKTOP = "/usr/bin/qgis.bin"  # Debian's `qgis` is a wrapper script around it
CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"

pytestmark = [
    pytest.mark.slow,  # QGIS desktop started as a process
    pytest.mark.skipif(not os.path.exists(QGIS_DESKTOP), reason="QGIS desktop is not installed"),
    # QGIS's main window needs a clipboard, which Qt's offscreen platform lacks (QgsClipboard crashes at start).
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="QGIS desktop needs an X display (xvfb-run)"),
]

# The end of every script QGIS runs here: the report (with the traceback of a failure) is written, QGIS quits.
SCRIPT_END = """
    except Exception:
        report["error"] = traceback.format_exc()
    with open({report!r}, "w") as handle:
        json.dump(report, handle)
    QgsApplication.exit(0)

QTimer.singleShot(0, check)
"""

# Run by QGIS (--code) once its main window is up: records what it finds and does, then quits QGIS.
STARTUP_SCRIPT = (
    """
import json, traceback
from qgis.PyQt.QtCore import QTimer
from qgis.core import QgsApplication
from qgis.utils import active_plugins, plugins

def check():
    report = {{"active": list(active_plugins)}}
    try:
        plugin = plugins["{plugin}"]
        report["dock"] = plugin.dock is not None
        report["missing"] = [status.requirement.name for status in plugin.missing]
        import processing
        classes = processing.run(
            "geomeld:zeroshot_segmentation", {{"INPUT": {chip!r}, "CLASSES": "water,forest", "OUTPUT": {classes!r}}}
        )
        report["polygons"] = processing.run(
            "geomeld:vectorize", {{"INPUT": classes["OUTPUT"], "SIMPLIFY": 15.0, "OUTPUT": {polygons!r}}}
        )
"""
    + SCRIPT_END
)


def run_in_desktop(root: Path, env: dict[str, str], script: str) -> dict:
    """Run QGIS desktop with the plugin enabled in the fresh profile under `root` and `script` (whose report goes to
    root/report.json) at start; the report, after checking that the script raised nothing."""
    settings = root / "config" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[PythonPlugins]\n{PLUGIN_NAME}=true\n")
    path = root / "startup.py"
    path.write_text(script)
    command = [QGIS_DESKTOP, "--nologo", "--noversioncheck", "--code", str(path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    report = root / "report.json"
    assert report.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(report.read_text())
    assert "error" not in result, result["error"]
    return result


def test_plugin_runs_inside_qgis_desktop(tmp_path):
    script = textwrap.dedent(STARTUP_SCRIPT).format(
        plugin=PLUGIN_NAME,
        chip=str(shared(CHIP)),
        classes=str(tmp_path / "classes.tif"),
        polygons=str(tmp_path / "polygons.gpkg"),
        report=str(tmp_path / "report.json"),
    )
    result = run_in_desktop(tmp_path, qgis_host_env(tmp_path, "xcb"), script)
    assert PLUGIN_NAME in result["active"] and result["dock"] and result["missing"] == []
    source = ogr.Open(result["polygons"]["OUTPUT"])
    areas = [feature.GetField("area_ha") for feature in source.GetLayer(0)]
    source = None
    assert areas and min(areas) > 0
    assert Path(result["polygons"]["AREAS"]).read_text().startswith("class_id,class_name,polygons,area_ha,percent")


# Run in QGIS desktop with the plugin installed from its zip: the interpreter the installer would use, true colour,
# a probe from the Aberystwyth polygons with its accuracy report, and the class colours.
ANALYST_SCRIPT = (
    """
import json, sys, traceback
from qgis.PyQt.QtCore import QTimer
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.utils import plugins

def check():
    report = {{"sys_executable": sys.executable}}
    try:
        import processing
        from geomeld.plugin.dependencies import python_executable
        from geomeld.plugin.layers import add_raster
        from geomeld.plugin.snapshot import render_layers
        from geomeld.plugin.styling import style_class_raster
        report["python"] = python_executable()
        dock = plugins["geomeld"].dock
        scene = QgsRasterLayer({scene!r}, "Aberystwyth")
        QgsProject.instance().addMapLayer(scene)
        dock.raster_combo.setLayer(scene)
        renderer = scene.renderer()
        report["bands"] = [renderer.redBand(), renderer.greenBand(), renderer.blueBand()]
        trained = processing.run("geomeld:train_probe", {{"INPUT": {scene!r}, "LABELS": {labels!r}, "FIELD": "class",
                                 "OUTPUT": {probe!r}, "REPORT_FILE": {page!r}}})
        report["accuracy"], report["held_out"] = trained["ACCURACY"], trained["HELD_OUT_ACCURACY"]
        report["page"] = trained["REPORT_FILE"]
        applied = processing.run(
            "geomeld:apply_probe", {{"INPUT": {scene!r}, "PROBE": {probe!r}, "OUTPUT": {classes!r}}}
        )
        layer = add_raster(applied["OUTPUT"], "Probe classes", style_class_raster)
        report["colours"] = {{c.label: c.color.getRgb()[:3] for c in layer.renderer().classes()}}
        render_layers([scene]).save({scene_png!r})
        render_layers([layer]).save({classes_png!r})
"""
    + SCRIPT_END
)


def test_analyst_run_from_the_zip(tmp_path):
    """A fresh profile, the plugin installed from scripts/package.sh's zip and a decoy `python3` first on PATH (as a
    pyenv shim would be): the installer names QGIS's own interpreter, the scene shows in true colour, the probe
    reports its held-out accuracy and areas, and its classes take the colours of their names."""
    import sys
    import zipfile

    from model_core.engine.palette import LEXICON
    from tests.conftest import ABERYSTWYTH, REPO_ROOT, aberystwyth_polygons

    package = tmp_path / "geomeld.zip"
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "package.sh"), str(package)], check=True, capture_output=True)
    decoy = tmp_path / "shims" / "python3"
    decoy.parent.mkdir()
    decoy.write_text("#!/bin/sh\nexit 3\n")
    decoy.chmod(0o755)
    env = qgis_host_env(tmp_path, "xcb")
    env["PATH"] = f"{decoy.parent}{os.pathsep}{env['PATH']}"
    plugins = tmp_path / "plugins"
    (plugins / PLUGIN_NAME).unlink()  # the repository's link: install the zip as QGIS's Plugin Manager does
    zipfile.ZipFile(package).extractall(plugins)
    script = ANALYST_SCRIPT.format(
        scene=str(shared(ABERYSTWYTH)),
        labels=str(aberystwyth_polygons(tmp_path)),
        probe=str(tmp_path / "probe.json"),
        page=str(tmp_path / "report.html"),
        classes=str(tmp_path / "classes.tif"),
        scene_png=str(tmp_path / "scene.png"),
        classes_png=str(tmp_path / "classes.png"),
        report=str(tmp_path / "report.json"),
    )
    result = run_in_desktop(tmp_path, env, script)
    assert result["python"] == f"/usr/bin/python3.{sys.version_info.minor}" and result["python"] != str(decoy)
    assert result["bands"] == [3, 2, 1]  # B04, B03, B02 of the 10-band file (B02, B03, B04, B05...)
    assert result["held_out"] < result["accuracy"] and "Area per class" in Path(result["page"]).read_text()
    meaning = {m.text: list(m.colour) for m in LEXICON}
    assert result["colours"] == {
        "Forest": meaning["forest"],
        "Grass": meaning["grassland"],
        "Urban": meaning["built-up area"],
        "Water": meaning["water"],
    }
    assert (tmp_path / "scene.png").stat().st_size > 10_000 and (tmp_path / "classes.png").stat().st_size > 1000


# In QGIS desktop: numpy's products against the Fortran BLAS products GeoMeld uses, and indexing a raster's embedding
# for text queries (what a first query waits for).
INDEX_SCRIPT = (
    """
import json, os, time, traceback
from qgis.PyQt.QtCore import QTimer
from qgis.core import QgsApplication

def check():
    report = {{}}
    try:
        import numpy as np
        from geomeld.model_core.engine.codebook import build_codebook
        from geomeld.model_core.linalg import matmul
        with open(f"/proc/{{os.getpid()}}/maps") as maps:
            report["gsl"] = "libgslcblas" in maps.read()
        rng = np.random.default_rng(0)
        a, b = rng.random((200_000, 64), dtype=np.float32), rng.random((64, 64), dtype=np.float32)
        started = time.perf_counter()
        a @ b
        report["numpy_s"] = time.perf_counter() - started
        started = time.perf_counter()
        matmul(a, b)
        report["blas_s"] = time.perf_counter() - started
        started = time.perf_counter()
        build_codebook({embedding!r})
        report["index_s"] = time.perf_counter() - started
"""
    + SCRIPT_END
)


def test_indexing_for_text_queries_runs_at_full_speed_in_qgis_desktop(tmp_path, geomeld_model):
    """QGIS desktop loads GSL's reference CBLAS, to which numpy's matrix products bind (the first text query of the
    demo scene took 121 s there against 5 s in Python); indexing the embedding now takes about as long in QGIS as
    in a plain Python."""
    import time

    from model_core.demo import demo_scene_path
    from model_core.engine.codebook import build_codebook
    from model_core.engine.context import EngineContext
    from model_core.engine.embedding import embed_raster
    from model_core.io import open_raster

    embedding = embed_raster(
        open_raster(demo_scene_path()), EngineContext(geomeld_model), tmp_path / "embedding.tif"
    ).path
    started = time.perf_counter()
    build_codebook(embedding)
    in_python = time.perf_counter() - started
    script = INDEX_SCRIPT.format(embedding=str(embedding), report=str(tmp_path / "report.json"))
    result = run_in_desktop(tmp_path, qgis_host_env(tmp_path, "xcb"), script)
    if result["gsl"]:
        assert result["blas_s"] < result["numpy_s"]  # numpy's cblas_sgemm is GSL's there
    assert result["index_s"] < 2 * in_python + 3.0, (result, in_python)
