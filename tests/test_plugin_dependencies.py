"""The dependency check: versions against requirements.txt, the pip command, the install dialog and task."""

from __future__ import annotations

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
    assert command[:4] == [sys.executable, "-m", "pip", "install"] and command[-1] == "geomeld-absent-package>=1.0"
    assert ("--user" in command) != in_venv
    assert manual_command(statuses[:1]).endswith('"geomeld-absent-package>=1.0"')


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
