"""Engine benchmark, one table from one run: embedding throughput (stride 1 and 2), cache-hit latency, probe fit
from 1000 labelled points and probe apply over a 2048 x 2048 px window, plus peak memory.

    python benchmarks/engine.py [--quick] [--threads 2] [--weights DIR]

The raster is a 2048 x 2048 px window (1024 with --quick) of the demo scene resampled to that size, built once in
the cache folder. Embeddings go to a fresh temporary cache so the first runs really run the model.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_core.bands import MODEL_BANDS  # noqa: E402
from model_core.demo import demo_scene_path  # noqa: E402
from model_core.engine.cache import EmbeddingCache  # noqa: E402
from model_core.engine.classify import apply_probe, train_probe  # noqa: E402
from model_core.engine.context import EngineContext  # noqa: E402
from model_core.engine.embedding import embed_raster  # noqa: E402
from model_core.io import SentinelRaster, open_raster  # noqa: E402
from model_core.paths import cache_dir  # noqa: E402
from model_core.runtime import load_model  # noqa: E402

NDVI_CLASSES = (-1.0, 0.1, 0.3, 0.5, 1.0)  # water/bare, sparse, moderate, dense vegetation


def scene(size: int) -> Path:
    """The demo scene resampled to size x size px (nearest), built once in the cache folder."""
    target = cache_dir() / f"bench_engine_{size}.tif"
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp.tif")
        options = ["TILED=YES", "COMPRESS=DEFLATE"]
        gdal.Translate(str(tmp), str(demo_scene_path()), width=size, height=size, creationOptions=options)
        tmp.replace(target)
    return target


def ndvi_points(raster: SentinelRaster, path: Path, count: int, seed: int = 0) -> Path:
    """`count` random valid points labelled by NDVI class, written as a GeoPackage."""
    image = raster.read()
    red, nir = image[MODEL_BANDS.index("B04")], image[MODEL_BANDS.index("B08")]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    rows, cols = np.nonzero(raster.valid_mask())
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(rows), count, replace=False)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("points", osr.SpatialReference(wkt=raster.crs_wkt), ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    x0, dx, _, y0, _, dy = raster.geotransform
    for row, col in zip(rows[pick], cols[pick]):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", int(np.digitize(ndvi[row, col], NDVI_CLASSES)))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy)
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return path


def timed(function, *args, **kwargs):
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024 px raster instead of 2048")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all)")
    parser.add_argument("--weights", help="weights folder (default: bundled)")
    args = parser.parse_args(argv)
    size = 1024 if args.quick else 2048
    model = load_model(args.weights, threads=args.threads)
    raster = open_raster(scene(size))
    megapixels = raster.width * raster.height / 1e6
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        context = EngineContext(model, EmbeddingCache(Path(folder) / "cache"))
        first, seconds = timed(embed_raster, raster, context)
        rows.append(("embedding, stride 1", f"{megapixels / seconds:.3f} Mpx/s", f"{seconds:.1f} s for {size}^2 px"))
        _, seconds2 = timed(embed_raster, raster, context, stride=2)
        rows.append(("embedding, stride 2", f"{megapixels / seconds2:.3f} Mpx/s", "input px per second"))
        hit, latency = timed(embed_raster, raster, context)
        assert hit.cached and hit.path == first.path
        rows.append(("cache hit", f"{latency * 1000:.1f} ms", "same request again"))
        labels = ndvi_points(raster, Path(folder) / "points.gpkg", 1000)
        (probe, samples), fit_seconds = timed(train_probe, raster, context, labels, "class")
        accuracy = probe.report.accuracy if probe.report is not None else float("nan")
        rows.append(
            ("probe fit, 1000 points", f"{fit_seconds:.2f} s", f"logistic, {probe.report.folds}-fold CV {accuracy:.3f}")
        )
        out = Path(folder) / "classes.tif"
        _, apply_seconds = timed(apply_probe, raster, context, probe, out)
        rows.append((f"probe apply, {size}^2 px", f"{apply_seconds:.2f} s", "cached embedding, class raster"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory (RSS)", f"{peak:.0f} MiB", "whole run"))
    print(f"GeoMeld engine benchmark ({size} x {size} px, {model.embedding_dim}-d, threads {args.threads or 'all'})\n")
    print("| measurement | value | note |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
