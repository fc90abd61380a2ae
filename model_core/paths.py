"""Default locations: bundled weights and the user's cache folder."""

from __future__ import annotations

import os
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
