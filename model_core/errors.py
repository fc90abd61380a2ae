"""Exceptions with messages a GIS user can act on."""


class GeoMeldError(Exception):
    """Base class of every error GeoMeld raises on purpose."""


class RasterInputError(GeoMeldError, ValueError):
    """A raster cannot be used: not a raster, unknown band layout, no georeference, all nodata..."""


class BandMappingError(RasterInputError):
    """The bands of a raster cannot be mapped to Sentinel-2 band names."""


class ModelWeightsError(GeoMeldError):
    """Bundled or user weights are missing, changed or unreadable."""


class LabelInputError(GeoMeldError, ValueError):
    """Training labels (points/polygons) cannot be used."""


class ProbeFileError(GeoMeldError, ValueError):
    """A probe file is not a GeoMeld probe or belongs to other weights."""


class QueryInputError(GeoMeldError, ValueError):
    """A text or example query cannot be answered (empty text, point outside the raster...)."""


class OutputWriteError(GeoMeldError):
    """An output or cache file cannot be written: read-only folder, disk full, file size limit..."""


class CancelledError(GeoMeldError):
    """The user cancelled a long-running operation; no output was written."""
