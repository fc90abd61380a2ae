"""Fixtures of the plugin tests: Processing initialised with GeoMeld loaded."""

from __future__ import annotations

import sys

import pytest

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"


@pytest.fixture(scope="module")
def processing(loaded_plugin, weights_dir, monkeypatch_module, tmp_path_factory):
    """Processing initialised, with GeoMeld's weights and cache pointed at test folders."""
    if QGIS_PLUGINS not in sys.path:
        sys.path.append(QGIS_PLUGINS)
    from processing.core.Processing import Processing

    monkeypatch_module.setenv("GEOMELD_WEIGHTS_DIR", str(weights_dir))
    monkeypatch_module.setenv("GEOMELD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    Processing.initialize()
    import processing as processing_module

    return processing_module


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch that lasts for the module."""
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()
