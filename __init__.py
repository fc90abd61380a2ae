"""QGIS entry point of the GeoMeld plugin: classFactory only wires things up."""


def classFactory(iface):  # noqa: N802 - name fixed by QGIS
    """Create the plugin for QGIS."""
    from .plugin.main import GeoMeldPlugin

    return GeoMeldPlugin(iface)
