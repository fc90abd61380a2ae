"""scripts/package.sh builds a plugin zip that installs like QGIS's Plugin Manager does and loads in QGIS."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from tests.conftest import REPO_ROOT

LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    from qgis.core import QgsApplication
    from qgis.gui import QgsMapCanvas
    from qgis.PyQt.QtWidgets import QMainWindow
    from pytest_qgis.mock_qgis_classes import MockMessageBar
    from pytest_qgis.qgis_interface import QgisInterface
    app = QgsApplication([], True)
    app.initQgis()
    import qgis.utils
    plugins = sys.argv[1]
    sys.path.insert(0, plugins)
    qgis.utils.plugin_paths.insert(0, plugins)
    window = QMainWindow()
    qgis.utils.iface = QgisInterface(QgsMapCanvas(window), MockMessageBar(), window)
    qgis.utils.updateAvailablePlugins()
    assert qgis.utils.loadPlugin("geomeld"), "import failed"
    assert qgis.utils.startPlugin("geomeld"), "initGui failed"
    plugin = qgis.utils.plugins["geomeld"]
    provider = QgsApplication.processingRegistry().providerById("geomeld")
    print("MODULE", sys.modules["geomeld"].__file__)
    print("ALGORITHMS", len(provider.algorithms()))
    print("TABS", plugin.dock.tabs.count())
    assert qgis.utils.unloadPlugin("geomeld")
    print("UNLOADED", QgsApplication.processingRegistry().providerById("geomeld") is None)
    app.exitQgis()
    """
)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The zip built by scripts/package.sh."""
    out = tmp_path_factory.mktemp("package") / "geomeld.zip"
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "package.sh"), str(out)], check=True, capture_output=True)
    return out


def test_zip_holds_only_the_plugin(package):
    names = zipfile.ZipFile(package).namelist()
    assert all(name.startswith("geomeld/") for name in names)
    tops = {name.split("/")[1] for name in names if name.count("/") >= 1 and name.split("/")[1]}
    assert tops == {
        "metadata.txt",
        "__init__.py",
        "README.md",
        "LICENSE",
        "requirements.txt",
        "plugin",
        "model_core",
        "resources",
        "i18n",
    }
    assert "geomeld/i18n/geomeld_de.qm" in names and "geomeld/i18n/geomeld_de.ts" not in names
    assert "geomeld/plugin/main.py" in names and "geomeld/model_core/io.py" in names
    runtime_only = ("geomeld/model_core/model.py", "geomeld/model_core/demo.py", "geomeld/model_core/engine/pooling.py")
    assert not any(name in names for name in runtime_only)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_installed_zip_loads_in_qgis(package, tmp_path):
    plugins = tmp_path / "profile" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(package).extractall(plugins)  # what Plugin Manager's "Install from ZIP" does
    script = tmp_path / "load.py"
    script.write_text(LOAD_SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, str(script), str(plugins)], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"MODULE {plugins / 'geomeld' / '__init__.py'}" in done.stdout
    assert "ALGORITHMS 14" in done.stdout and "TABS 7" in done.stdout and "UNLOADED True" in done.stdout
