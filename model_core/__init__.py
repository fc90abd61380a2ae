"""GeoMeld-FM core: raster I/O, ONNX runtime and the embedding engine (no QGIS, no torch at run time)."""

__version__ = "0.3.0"
