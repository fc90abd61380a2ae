"""The plugin object QGIS creates: registers the Processing provider and the GUI, and removes them again."""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .i18n import install_translator, remove_translator, tr


class GeoMeldPlugin:
    """Wires the GeoMeld GUI and Processing provider into QGIS."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider = None
        self.dock = None
        self.action: QAction | None = None
        self.translator = install_translator()
        self.missing: list = []
        self.dialog = None

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API name
        """Register the Processing provider (also called by qgis_process, without a GUI)."""
        from .provider import GeoMeldProvider

        self.provider = GeoMeldProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API name
        """Called by QGIS when the plugin is loaded: provider, dock, menu action, dependency check."""
        from .algorithms.base import ICON
        from .dependencies import check_dependencies
        from .dock import GeoMeldDock

        self.initProcessing()
        self.missing = [status for status in check_dependencies() if not status.ok]
        self.dock = GeoMeldDock(self.iface)
        self.dock.set_ready(not self.missing)
        self.iface.addDockWidget(self.dock.default_area(), self.dock)
        self.action = QAction(QIcon(ICON), tr("GeoMeld panel"), self.iface.mainWindow())
        self.action.setCheckable(True)
        self.action.setChecked(self.dock.isVisible())
        self.action.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(self.action.setChecked)
        self.iface.addPluginToMenu(tr("GeoMeld"), self.action)
        self.iface.addToolBarIcon(self.action)
        self.dock.install_button.clicked.connect(self.show_dependency_dialog)
        if self.missing:
            self.report_missing_dependencies()

    def report_missing_dependencies(self) -> None:
        """Tell the user which packages are missing; the panel offers to install them."""
        names = ", ".join(status.requirement.name for status in self.missing)
        self.iface.messageBar().pushMessage(
            tr("GeoMeld"),
            tr("GeoMeld needs Python packages that are missing: {0}. Open the GeoMeld panel to install them.").format(
                names
            ),
            Qgis.Warning,
            0,
        )

    def show_dependency_dialog(self):
        """Open the dialog offering to install the missing packages."""
        from .dependencies import DependencyDialog

        dialog = DependencyDialog(self.missing, self.iface.mainWindow())
        dialog.installed.connect(lambda: self.dock.set_ready(True))
        self.dialog = dialog
        dialog.show()
        return dialog

    def optional_iface_call(self, name: str, *args) -> None:
        """Call a QgisInterface method that test interfaces may lack (they implement only part of it)."""
        method = getattr(self.iface, name, None)
        if method is not None:
            method(*args)

    def unload(self) -> None:
        """Called by QGIS when the plugin is unloaded."""
        if self.dock is not None:
            self.dock.shutdown()
            self.optional_iface_call("removeDockWidget", self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.optional_iface_call("removePluginMenu", tr("GeoMeld"), self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
