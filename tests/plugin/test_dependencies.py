"""The dependency check: versions against requirements.txt, the pip command, the install dialog and task."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from qgis.core import QgsApplication, QgsTask


def test_runtime_requirements_are_met_here(loaded_plugin):
    from geomeld.plugin.dependencies import check_dependencies

    statuses = check_dependencies()
    assert [s.requirement.name for s in statuses] == [
        "numpy",
        "onnxruntime",
        "scikit-learn",
        "pyproj",
        "tokenizers",
    ]
    assert all(s.ok for s in statuses), [(s.requirement.name, s.problem) for s in statuses if not s.ok]
    numpy = statuses[0].requirement
    assert numpy.minimum() == "1.24" and numpy.below() == "2"


def test_pyproj_must_use_the_proj_of_qgis(loaded_plugin):
    import pyproj
    from geomeld.plugin.dependencies import proj_mismatch
    from qgis.core import QgsProjUtils

    same = pyproj.proj_version_str.split(".")[:2] == [
        str(QgsProjUtils.projVersionMajor()),
        str(QgsProjUtils.projVersionMinor()),
    ]
    assert (proj_mismatch(pyproj) == "") == same
    if not same:
        assert "crashes QGIS" in proj_mismatch(pyproj)


def test_missing_and_out_of_range_packages_are_reported(loaded_plugin):
    from geomeld.plugin.dependencies import Requirement, check_dependencies, manual_command, pip_command

    statuses = check_dependencies(
        [
            Requirement("geomeld-absent-package", "geomeld_absent_package", ">=1.0"),
            Requirement("numpy", "numpy", ">=99.0"),
            Requirement("numpy", "numpy", "<1.0"),
        ]
    )
    assert [s.ok for s in statuses] == [False, False, False]
    assert statuses[0].problem == "not installed" and statuses[0].installed is None
    assert "older than 99.0" in statuses[1].problem and "not below 1.0" in statuses[2].problem
    command = pip_command(statuses[:1])
    in_venv = sys.prefix != sys.base_prefix  # pip installs into the venv; else into the user's site-packages
    assert command[1:4] == ["-m", "pip", "install"] and command[-1] == "geomeld-absent-package>=1.0"
    assert prefix_of(command[0]) == sys.prefix  # the interpreter running this QGIS
    assert ("--user" in command) != in_venv
    assert manual_command(statuses[:1]).endswith('"geomeld-absent-package>=1.0"')


def prefix_of(python: str, env: dict | None = None) -> str:
    """sys.prefix of a Python interpreter, as it reports it."""
    done = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_qgis_python_is_found_from_its_prefix_not_from_path(loaded_plugin, tmp_path, monkeypatch):
    """An embedded Python (QGIS on Linux) takes as sys.executable the first `python3` on PATH, here a decoy in front
    of it like a pyenv shim; the installer finds the interpreter of sys.prefix instead, and shows it."""
    from geomeld.plugin.dependencies import DependencyDialog, Requirement, check_dependencies, python_executable

    decoy = tmp_path / "shims" / "python3"
    decoy.parent.mkdir()
    decoy.write_text("#!/bin/sh\necho 'not the Python of QGIS' >&2\nexit 3\n")
    decoy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{decoy.parent}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("python3") == str(decoy)
    found = python_executable(executable=str(decoy))
    assert found != str(decoy) and prefix_of(found) == sys.prefix
    assert os.path.basename(found) == f"python{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setattr(sys, "executable", str(decoy))
    dialog = DependencyDialog(check_dependencies([Requirement("geomeld-absent-package", "geomeld_absent_package")]))
    assert found in dialog.interpreter.text() and dialog.command.toPlainText().startswith(f"{found} -m pip install")
    dialog.deleteLater()


def test_interpreter_places_on_windows_and_macos(loaded_plugin):
    from geomeld.plugin.dependencies import python_candidates

    osgeo4w = python_candidates(
        "C:/OSGeo4W/bin/qgis-bin.exe", "C:/OSGeo4W/apps/Python312", "C:/OSGeo4W/apps/Python312", (3, 12), windows=True
    )
    assert osgeo4w[:3] == [
        os.path.join("C:/OSGeo4W/apps/Python312", name) for name in ("python3.12.exe", "python3.exe", "python.exe")
    ]
    standalone = python_candidates(
        "C:/Program Files/QGIS 3.34.1/bin/qgis-bin.exe",
        "C:/PROGRA~1/QGIS33~1.1/apps/Python39",
        "C:/PROGRA~1/QGIS33~1.1/apps/Python39",
        (3, 9),
        windows=True,
    )
    assert standalone[2] == os.path.join("C:/PROGRA~1/QGIS33~1.1/apps/Python39", "python.exe")
    app = "/Applications/QGIS.app/Contents"
    macos = python_candidates(
        f"{app}/MacOS/QGIS",
        f"{app}/Frameworks/Python.framework/Versions/3.9",
        f"{app}/Frameworks/Python.framework/Versions/3.9",
        (3, 9),
        windows=False,
    )
    assert macos[0] == f"{app}/Frameworks/Python.framework/Versions/3.9/bin/python3.9"
    assert f"{app}/MacOS/bin/python3.9" in macos and not any("qgis-bin" in path for path in osgeo4w)


def test_panel_is_disabled_until_dependencies_are_installed(loaded_plugin):
    dock = loaded_plugin.dock
    try:
        dock.set_ready(False)
        assert not dock.embed_tab.isEnabled() and not dock.search_tab.isEnabled()
        assert dock.settings_tab.isEnabled()
        assert not dock.install_button.isHidden()
    finally:
        dock.set_ready(True)
    assert dock.embed_tab.isEnabled() and dock.install_button.isHidden()


def test_dialog_shows_the_command_and_pip_runs_as_a_task(loaded_plugin):
    from geomeld.plugin.dependencies import DependencyDialog, PipInstallTask, Requirement, check_dependencies

    missing = check_dependencies([Requirement("geomeld-absent-package", "geomeld_absent_package", ">=1.0")])
    dialog = DependencyDialog(missing)
    assert "geomeld-absent-package>=1.0" in dialog.message.text()
    assert "-m pip install" in dialog.command.toPlainText()
    task = PipInstallTask([sys.executable, "-m", "pip", "--version"])
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + 60
    while task.status() not in (QgsTask.Complete, QgsTask.Terminated) and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    assert task.status() == QgsTask.Complete and task.returncode == 0 and "pip" in task.output
    dialog.deleteLater()
