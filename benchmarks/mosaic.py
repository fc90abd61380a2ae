"""Large virtual rasters made of real pixels: a GDAL VRT that repeats one source raster on a grid (nothing is copied).

    python benchmarks/mosaic.py SOURCE.tif OUT.vrt --size 10980 10980

Each copy of the source is a SimpleSource of every band, so opening the VRT costs nothing and a window read touches
only the copies under it. With `copies` the VRT holds only that many copies along each axis (the rest is nodata),
which keeps the XML small for very large rasters (200000 x 200000 px).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from osgeo import gdal

gdal.UseExceptions()


def _source_xml(source: str, band: int, size: tuple[int, int], offset: tuple[int, int]) -> str:
    width, height = size
    col, row = offset
    return (
        f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(source)}</SourceFilename>'
        f"<SourceBand>{band}</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>'
        f'<DstRect xOff="{col}" yOff="{row}" xSize="{width}" ySize="{height}"/></SimpleSource>'
    )


def mosaic_vrt(
    source: str | os.PathLike, out_path: str | os.PathLike, width: int, height: int, copies: int | None = None
) -> Path:
    """Write a width x height px VRT tiling copies of `source` (same CRS, pixel size and band names) from its origin."""
    dataset = gdal.Open(str(source))
    source_w, source_h = dataset.RasterXSize, dataset.RasterYSize
    offsets = [
        (col, row)
        for row in range(0, height, source_h)[: copies or None]
        for col in range(0, width, source_w)[: copies or None]
    ]
    path = Path(out_path)
    bands = []
    for index in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(index)
        nodata = band.GetNoDataValue()
        sources = "".join(
            _source_xml(str(Path(source).resolve()), index, (source_w, source_h), offset) for offset in offsets
        )
        bands.append(
            f'<VRTRasterBand dataType="{gdal.GetDataTypeName(band.DataType)}" band="{index}">'
            f"<Description>{escape(band.GetDescription())}</Description>"
            + (f"<NoDataValue>{nodata:g}</NoDataValue>" if nodata is not None else "")
            + f"{sources}</VRTRasterBand>"
        )
    geotransform = ", ".join(repr(float(value)) for value in dataset.GetGeoTransform())
    text = (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
        f"<SRS>{escape(dataset.GetProjection())}</SRS><GeoTransform>{geotransform}</GeoTransform>"
        + "".join(bands)
        + "</VRTDataset>\n"
    )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the VRT and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--size", type=int, nargs=2, default=(10980, 10980), metavar=("WIDTH", "HEIGHT"))
    args = parser.parse_args(argv)
    path = mosaic_vrt(args.source, args.out, *args.size)
    print(f"wrote {path} ({args.size[0]} x {args.size[1]} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
