"""The engine: embedding rasters (cached, PCA preview), probes, clusters, class maps, polygons and areas.

Everything here works on paths, numbers and `Feedback`; nothing imports qgis or torch.
"""

from ..paths import use_gdal_proj_data

use_gdal_proj_data()  # before any engine module imports pyproj
