"""Checks the Python packages GeoMeld needs inside QGIS and offers to install the missing ones with pip."""

from __future__ import annotations

import importlib
import os
import re
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata

from qgis.core import QgsTask
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout

from .i18n import tr

PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS_FILE = os.path.join(PLUGIN_ROOT, "requirements.txt")
# Distribution name -> module to import.
MODULES = {
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "scikit-learn": "sklearn",
    "pyproj": "pyproj",
    "tokenizers": "tokenizers",
}


@dataclass(frozen=True)
class Requirement:
    """A runtime package: distribution name, module, and the version range from requirements.txt."""

    name: str
    module: str
    specifier: str = ""

    def minimum(self) -> str | None:
        """The lowest accepted version (from >= or ==), or None."""
        match = re.search(r"(?:>=|==)\s*([\w.]+)", self.specifier)
        return match.group(1) if match else None

    def below(self) -> str | None:
        """The first version no longer accepted (from <), or None."""
        match = re.search(r"<\s*([\w.]+)", self.specifier)
        return match.group(1) if match else None

    def pip_spec(self) -> str:
        """The requirement as pip understands it."""
        return self.name + self.specifier


@dataclass(frozen=True)
class DependencyStatus:
    """Whether one requirement is met, with the installed version and, if not met, why."""

    requirement: Requirement
    installed: str | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the package imports and its version is in range."""
        return not self.problem


def version_tuple(version: str) -> tuple[int, ...]:
    """Numeric parts of a version string ('1.26.4' -> (1, 26, 4); stops at the first non-numeric part)."""
    parts = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def read_requirements(path: str = REQUIREMENTS_FILE) -> list[Requirement]:
    """The runtime requirements of the plugin (requirements.txt, or names without versions if it is absent)."""
    specs = {name: "" for name in MODULES}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*([<>=!].*)?$", line.split("#")[0])
                if match and match.group(1) in MODULES:
                    specs[match.group(1)] = (match.group(2) or "").replace(" ", "")
    return [Requirement(name, MODULES[name], spec) for name, spec in specs.items()]


def check_requirement(requirement: Requirement) -> DependencyStatus:
    """Import a requirement and compare its version with the accepted range."""
    try:
        module = importlib.import_module(requirement.module)
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return DependencyStatus(requirement, None, tr("not installed"))
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        installed = str(getattr(module, "__version__", "0"))
    minimum, below = requirement.minimum(), requirement.below()
    if minimum and version_tuple(installed) < version_tuple(minimum):
        return DependencyStatus(requirement, installed, tr("version {0} is older than {1}").format(installed, minimum))
    if below and version_tuple(installed) >= version_tuple(below):
        return DependencyStatus(requirement, installed, tr("version {0} is not below {1}").format(installed, below))
    if requirement.module == "pyproj":
        return DependencyStatus(requirement, installed, proj_mismatch(module))
    return DependencyStatus(requirement, installed)


def proj_mismatch(pyproj_module) -> str:
    """Why a pyproj cannot be used inside this QGIS ('' when it can): a pip wheel bundles its own PROJ library,
    and a PROJ version other than QGIS's crashes QGIS."""
    from qgis.core import QgsProjUtils

    qgis_proj = (QgsProjUtils.projVersionMajor(), QgsProjUtils.projVersionMinor())
    pyproj_proj = version_tuple(pyproj_module.proj_version_str)[:2]
    if pyproj_proj == qgis_proj:
        return ""
    return tr(
        "it is built with PROJ {0} but QGIS uses PROJ {1}, which crashes QGIS; "
        "use the pyproj of your QGIS installation (uninstall the one from pip)"
    ).format(".".join(map(str, pyproj_proj)), ".".join(map(str, qgis_proj)))


def check_dependencies(requirements: list[Requirement] | None = None) -> list[DependencyStatus]:
    """The status of every runtime requirement."""
    return [check_requirement(r) for r in (requirements if requirements is not None else read_requirements())]


def python_candidates(
    executable: str,
    prefix: str,
    exec_prefix: str,
    version: tuple[int, int] = sys.version_info[:2],
    windows: bool = os.name == "nt",
) -> list[str]:
    """Where the interpreter of a Python with this `sys.prefix`/`sys.exec_prefix` lies, most likely first.

    Inside QGIS `sys.executable` is not to be trusted: on Windows it is qgis-bin.exe, on macOS the QGIS app, and on
    Linux an embedded Python finds it by looking for `python3` on PATH, which may be another Python altogether (a
    pyenv shim, a conda environment). The prefixes are the embedded interpreter's own: the Python binary of the same
    version below them is QGIS's (`<prefix>/bin/python3.X` on Linux and macOS, `<prefix>\\python.exe` on Windows);
    after them come the folders beside the QGIS binary (OSGeo4W's bin, the macOS app's Contents/MacOS/bin).
    """
    major, minor = version
    prefixes = list(dict.fromkeys([prefix, exec_prefix]))
    beside = os.path.dirname(executable)
    if windows:
        folders = [*prefixes, beside]
        names = [f"python{major}.{minor}.exe", f"python{major}.exe", "python.exe"]
    else:
        folders = [os.path.join(folder, "bin") for folder in prefixes] + [os.path.join(beside, "bin")]
        names = [f"python{major}.{minor}", f"python{major}", "python"]
    return [os.path.join(folder, name) for folder in folders for name in names]


def python_executable(executable: str | None = None, prefix: str | None = None, exec_prefix: str | None = None) -> str:
    """The Python interpreter of this QGIS (the one running GeoMeld): the first of `python_candidates` that exists,
    from `sys.executable`, `sys.prefix` and `sys.exec_prefix` unless given; `sys.executable` when none does."""
    executable = sys.executable if executable is None else executable
    candidates = python_candidates(
        executable, sys.prefix if prefix is None else prefix, sys.exec_prefix if exec_prefix is None else exec_prefix
    )
    return next((path for path in candidates if os.path.isfile(path) and os.access(path, os.X_OK)), executable)


def install_options() -> list[str]:
    """pip options for this Python: into the user's site-packages unless QGIS runs in a virtual environment; on
    distributions that mark their Python as externally managed (Debian 12+) pip needs to be told that is intended."""
    if sys.prefix != sys.base_prefix:
        return []
    if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")):
        return ["--user", "--break-system-packages"]
    return ["--user"]


def pip_command(missing: list[DependencyStatus]) -> list[str]:
    """The pip command line that installs the missing requirements."""
    return [python_executable(), "-m", "pip", "install", *install_options()] + [
        s.requirement.pip_spec() for s in missing
    ]


def manual_command(missing: list[DependencyStatus]) -> str:
    """The pip command as the user would type it in a terminal."""
    return " ".join(f'"{part}"' if re.search(r"[\s<>]", part) else part for part in pip_command(missing))


def install_hint() -> str:
    """The command that installs GeoMeld's missing packages into this QGIS's Python, for messages outside the panel
    (qgis_process, the Processing toolbox)."""
    missing = [status for status in check_dependencies() if not status.ok]
    return manual_command(missing or [DependencyStatus(r, None) for r in read_requirements()])


class PipInstallTask(QgsTask):
    """Runs pip in the background; `output` holds its log and `returncode` its exit status."""

    def __init__(self, command: list[str]) -> None:
        super().__init__(tr("Installing GeoMeld's Python packages"), QgsTask.CanCancel)
        self.command = command
        self.output = ""
        self.returncode: int | None = None

    def run(self) -> bool:
        """Run pip, reading its output line by line; stops pip when the task is cancelled."""
        self.setProgress(1)
        process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in process.stdout:
            lines.append(line)
            self.setProgress(min(95.0, 1.0 + len(lines)))
            if self.isCanceled():
                process.terminate()
                break
        self.returncode = process.wait()
        self.output = "".join(lines)
        return self.returncode == 0 and not self.isCanceled()


class DependencyDialog(QDialog):
    """Lists the missing packages, shows the manual command and offers to install them with pip."""

    installed = pyqtSignal()

    def __init__(self, missing: list[DependencyStatus], parent=None) -> None:
        super().__init__(parent)
        self.missing = missing
        self.task: PipInstallTask | None = None
        self.setWindowTitle(tr("GeoMeld needs Python packages"))
        layout = QVBoxLayout(self)
        listing = "\n".join(f"• {s.requirement.pip_spec()}: {s.problem}" for s in missing)
        self.message = QLabel(
            tr("GeoMeld needs these Python packages, which this QGIS does not have yet:") + "\n" + listing
        )
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.interpreter = QLabel(tr("They go into the Python of this QGIS: {0}").format(python_executable()))
        self.interpreter.setWordWrap(True)
        self.interpreter.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.interpreter)
        layout.addWidget(QLabel(tr("To install them yourself, run in a terminal:")))
        self.command = QPlainTextEdit(manual_command(missing))
        self.command.setReadOnly(True)
        self.command.setMaximumHeight(70)
        layout.addWidget(self.command)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.install_button = self.buttons.addButton(tr("Install now"), QDialogButtonBox.AcceptRole)
        self.install_button.clicked.disconnect()
        self.install_button.clicked.connect(self.install)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def install(self) -> PipInstallTask:
        """Start pip in a QgsTask; the dialog shows its progress and result."""
        from qgis.core import QgsApplication

        self.install_button.setEnabled(False)
        self.progress.setVisible(True)
        self.task = PipInstallTask(pip_command(self.missing))
        self.task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task.taskCompleted.connect(self._installed)
        self.task.taskTerminated.connect(self._failed)
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def _installed(self) -> None:
        self.progress.setValue(100)
        site.addsitedir(site.getusersitepackages())
        importlib.invalidate_caches()
        if all(status.ok for status in check_dependencies([s.requirement for s in self.missing])):
            self.message.setText(tr("The packages are installed; GeoMeld is ready."))
            self.installed.emit()
        else:
            self.message.setText(tr("The packages are installed. Restart QGIS to use GeoMeld."))

    def _failed(self) -> None:
        tail = "\n".join(self.task.output.strip().splitlines()[-5:]) if self.task else ""
        self.message.setText(tr("pip could not install the packages; run the command below yourself.") + "\n" + tail)
        self.install_button.setEnabled(True)
