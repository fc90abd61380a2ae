"""Defaults and limits shared by the engine, the command line and the plugin.

This module imports nothing, so the plugin can read it where numpy, GDAL or scikit-learn are still missing.
"""

from __future__ import annotations

# Tiles of embedding runs, px: why 1408 with an overlap of 384 is told in model_core.engine.embedding.
DEFAULT_TILE = 1408
DEFAULT_OVERLAP = 384
MAX_STRIDE = 16  # an embedding raster holds one embedding every 1 to MAX_STRIDE pixels
ENCODINGS: tuple[str, ...] = ("int8", "float32")  # storage of embedding rasters, the default first

MAX_CLASSES = 254  # a class raster is uint8 with 0 as nodata
AUTO_K_RANGE: tuple[int, int] = (2, 10)  # the numbers of clusters tried when none is given

# Probe kinds, the default first: of classes, and of values (regression).
PROBE_KINDS: tuple[str, ...] = ("logistic", "random_forest", "knn")
REGRESSION_KINDS: tuple[str, ...] = ("ridge", "random_forest")
MAX_PER_CLASS = 1000  # pixels a probe of classes samples per class at most
MAX_SAMPLES = 5000  # pixels a regression probe samples at most

# A pixel is a hit of a text query when the query is more probable than all background land covers together.
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = 20  # places a query lists
DEFAULT_SUGGESTIONS = 20  # points a probe suggests to label next
