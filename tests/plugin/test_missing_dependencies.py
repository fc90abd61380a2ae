"""The plugin inside QGIS's own Python before GeoMeld's pip packages are installed (Debian's /usr/bin/python3 has
numpy, GDAL and PyQGIS but not onnxruntime, scikit-learn or tokenizers): it loads without a traceback,
says what is missing, disables the panel's jobs and fails Processing runs with one sentence."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_qgis

from tests.conftest import REPO_ROOT, shared

SYSTEM_PYTHON = "/usr/bin/python3"
CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
SCRIPT = textwrap.dedent(
    """
    import sys
    from qgis.core import Qgis, QgsApplication
    from qgis.gui import QgsMapCanvas
    from qgis.PyQt.QtWidgets import QMainWindow
    from pytest_qgis.mock_qgis_classes import MockMessageBar
    from pytest_qgis.qgis_interface import QgisInterface
    app = QgsApplication([], True)
    app.initQgis()
    import qgis.utils
    plugins, chip, out = sys.argv[1:4]
    sys.path.insert(0, plugins)
    sys.path.append("/usr/share/qgis/python/plugins")
    qgis.utils.plugin_paths.insert(0, plugins)
    window = QMainWindow()
    bar = MockMessageBar()
    qgis.utils.iface = QgisInterface(QgsMapCanvas(window), bar, window)
    qgis.utils.updateAvailablePlugins()
    assert qgis.utils.loadPlugin("geomeld") and qgis.utils.startPlugin("geomeld")
    plugin = qgis.utils.plugins["geomeld"]
    print("WARNINGS", bar.get_messages(Qgis.Warning))
    print("EMBED TAB ENABLED", plugin.dock.embed_tab.isEnabled())
    print("SETTINGS TAB ENABLED", plugin.dock.settings_tab.isEnabled())
    print("INSTALL BUTTON SHOWN", not plugin.dock.install_button.isHidden())
    dialog = plugin.show_dependency_dialog()
    print("COMMAND", dialog.command.toPlainText())
    dialog.close()
    from processing.core.Processing import Processing
    import processing
    from qgis.core import QgsProcessingException
    Processing.initialize()
    try:
        processing.run("geomeld:embed", {"INPUT": chip, "OUTPUT": out})
    except QgsProcessingException as exc:
        print("PROCESSING ERROR", exc)
    assert qgis.utils.unloadPlugin("geomeld")
    """
)


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason="no system Python")
def test_plugin_loads_and_explains_missing_packages(tmp_path):
    missing = subprocess.run([SYSTEM_PYTHON, "-c", "import onnxruntime"], capture_output=True, check=False)
    if missing.returncode == 0:
        pytest.skip("the system Python already has onnxruntime")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "geomeld").symlink_to(REPO_ROOT, target_is_directory=True)
    helpers = tmp_path / "helpers" / "pytest_qgis"  # only the test interface class, none of GeoMeld's dependencies
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text("")
    for module in ("qgis_interface.py", "mock_qgis_classes.py"):
        (helpers / module).symlink_to(Path(pytest_qgis.__file__).parent / module)
    script = tmp_path / "load.py"
    script.write_text(SCRIPT)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"),
        PYTHONPATH=str(helpers.parent),
        PYTHONNOUSERSITE="1",
    )
    done = subprocess.run(
        [SYSTEM_PYTHON, str(script), str(plugins), str(shared(CHIP)), str(tmp_path / "embedding.tif")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNINGS")][0]
    for name in ("onnxruntime", "scikit-learn", "tokenizers"):
        assert name in warnings
    assert "EMBED TAB ENABLED False" in done.stdout and "SETTINGS TAB ENABLED True" in done.stdout
    assert "INSTALL BUTTON SHOWN True" in done.stdout
    command = [line for line in done.stdout.splitlines() if line.startswith("COMMAND")][0]
    interpreter = f"{SYSTEM_PYTHON}.{sys.version_info.minor}"  # found from sys.prefix: /usr/bin/python3.11
    assert command.startswith(f"COMMAND {interpreter} -m pip install --user") and "tokenizers==0.22.1" in command
    error = [line for line in done.stdout.splitlines() if line.startswith("PROCESSING ERROR")][0]
    assert re.search(r"GeoMeld needs the Python package '(onnxruntime|tokenizers|sklearn)'", error), error
    assert f"with: {command.removeprefix('COMMAND ')} (in QGIS desktop" in error  # qgis_process users get the command
    assert not (tmp_path / "embedding.tif").exists()
