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
    pytest.mark.skipif(not os.path.exists(QGIS_DESKTOP), reason="QGIS desktop is not installed"),
    # QGIS's main window needs a clipboard, which Qt's offscreen platform lacks (QgsClipboard crashes at start).
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="QGIS desktop needs an X display (xvfb-run)"),
]

# Run by QGIS (--code) once its main window is up: records what it finds and does, then quits QGIS.
STARTUP_SCRIPT = """
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
    except Exception:
        report["error"] = traceback.format_exc()
    with open({report!r}, "w") as handle:
        json.dump(report, handle)
    QgsApplication.exit(0)

QTimer.singleShot(0, check)
"""


def test_plugin_runs_inside_qgis_desktop(tmp_path):
    env = qgis_host_env(tmp_path, "xcb")
    settings = tmp_path / "config" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[PythonPlugins]\n{PLUGIN_NAME}=true\n")
    report = tmp_path / "report.json"
    script = tmp_path / "startup.py"
    script.write_text(
        textwrap.dedent(STARTUP_SCRIPT).format(
            plugin=PLUGIN_NAME,
            chip=str(shared(CHIP)),
            classes=str(tmp_path / "classes.tif"),
            polygons=str(tmp_path / "polygons.gpkg"),
            report=str(report),
        )
    )
    command = [QGIS_DESKTOP, "--nologo", "--noversioncheck", "--code", str(script)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(report.read_text())
    assert "error" not in result, result["error"]
    assert PLUGIN_NAME in result["active"] and result["dock"] and result["missing"] == []
    source = ogr.Open(result["polygons"]["OUTPUT"])
    areas = [feature.GetField("area_ha") for feature in source.GetLayer(0)]
    source = None
    assert areas and min(areas) > 0
    assert Path(result["polygons"]["AREAS"]).read_text().startswith("class_id,class_name,polygons,area_ha,percent")
