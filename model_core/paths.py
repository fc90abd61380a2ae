"""Default locations: bundled weights, the user's cache folder, and PROJ's data for pyproj."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from .errors import OutputWriteError

PACKAGE_ROOT = Path(__file__).resolve().parent
PLUGIN_ROOT = PACKAGE_ROOT.parent
BUNDLED_WEIGHTS_DIR = PLUGIN_ROOT / "resources" / "model"


def cache_dir() -> Path:
    """The cache folder: $GEOMELD_CACHE_DIR, else $XDG_CACHE_HOME/geomeld, else ~/.cache/geomeld (created)."""
    base = os.environ.get("GEOMELD_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geomeld"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(
            f"The GeoMeld cache folder '{path}' cannot be created ({exc.strerror}); choose a writable cache folder "
            "in the GeoMeld settings or set GEOMELD_CACHE_DIR."
        ) from None
    return path


def use_gdal_proj_data() -> None:
    """Point pyproj at the PROJ data GDAL uses when pyproj would not find any.

    Debian's pyproj (linked to the PROJ that GDAL and QGIS load) looks for proj.db under the Python prefix, which in a
    virtual environment holds none, and then warns "Valid PROJ data directory not found" at every import. Nothing is
    changed when PROJ_DATA or PROJ_LIB is set, or pyproj brings its own data or finds it under the prefix.
    """
    if os.environ.get("PROJ_DATA") or os.environ.get("PROJ_LIB"):
        return
    spec = importlib.util.find_spec("pyproj")
    if spec is None or spec.origin is None:
        return
    if (Path(spec.origin).parent / "proj_dir" / "share" / "proj").is_dir():
        return
    if (Path(sys.prefix) / "share" / "proj" / "proj.db").is_file():
        return
    from osgeo import osr

    for folder in osr.GetPROJSearchPaths() or []:
        if (Path(folder) / "proj.db").is_file():
            os.environ["PROJ_DATA"] = folder
            return
