"""Batch benchmark: `batch` over 8 real rasters on a Dask LocalCluster with 1 worker and with 2 workers (ratio in one
run), and the projected time of 100 whole Sentinel-2 tiles on a 16-worker cluster from the per-raster figures.

    python benchmarks/batch.py [--rasters 8] [--size 1024] [--rounds 1] [--weights DIR]

The rasters are windows of the real demo scene (VRTs, nothing large is written but the embeddings). Each round runs
1 worker (ONNX Runtime on all cores) then 2 workers (the cores shared out), each into a new folder, so nothing is
skipped. The projection counts the work of a raster as the pixels its tiles read (the engine's tiles overlap, so a
small raster costs more per kept pixel than a whole tile: `aligned_tiles`), takes a worker's seconds per read pixel
from the measured rasters, and schedules 100 tiles of 10980 x 10980 px on 16 such workers. Prints a table and writes
it to benchmarks/batch_results.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import matmul_gflops, write_atomic  # noqa: E402
from model_core.cluster import dask_runner  # noqa: E402
from model_core.defaults import DEFAULT_OVERLAP, DEFAULT_TILE  # noqa: E402
from model_core.demo import demo_scene_path  # noqa: E402
from model_core.engine.batch import EMBEDDED, ItemResult, RasterOptions, plan_batch, run_batch  # noqa: E402
from model_core.engine.grid import aligned_tiles  # noqa: E402
from model_core.runtime import load_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "batch_results.md"
TILE = 10980  # a Sentinel-2 MGRS tile at 10 m
PROJECTED_TILES = 100
PROJECTED_WORKERS = 16


def windows_of_scene(folder: Path, count: int, size: int) -> list[str]:
    """`count` size x size px windows of the demo scene, spread over it, as VRT files."""
    scene = gdal.Open(str(demo_scene_path()))
    cols, rows = scene.RasterXSize - size, scene.RasterYSize - size
    paths = []
    for index in range(count):
        col = round(cols * (index % 4) / 3)
        row = round(rows * (index // 4) / max(1, (count - 1) // 4))
        path = folder / f"scene_{index}.vrt"
        gdal.Translate(str(path), scene, format="VRT", srcWin=[col, row, size, size])
        paths.append(str(path))
    return paths


def read_pixels(width: int, height: int, multiple: int) -> int:
    """Pixels the engine's tiles read (and the model computes) for a width x height raster."""
    tiles = aligned_tiles(width, height, DEFAULT_TILE, DEFAULT_OVERLAP, multiple)
    return sum(tile.read.width * tile.read.height for tile in tiles)


def run_cluster(workers: int, sources: list[str], out_dir: Path, weights: str | None) -> dict:
    """One batch on a new LocalCluster: start-up and embedding wall times, and every raster's result."""
    started = time.perf_counter()
    with dask_runner(workers=workers, log=lambda line: None) as (runner, layout):
        ready = time.perf_counter()
        plan = plan_batch(sources, out_dir, RasterOptions(weights=weights, threads=layout.threads))
        results = run_batch(plan, runner)
        done = time.perf_counter()
    failed = [result for result in results if result.status != EMBEDDED]
    if failed:
        raise RuntimeError(f"{failed[0].source}: {failed[0].message}")
    return {
        "workers": workers,
        "threads": layout.threads,
        "startup": ready - started,
        "wall": done - ready,
        "results": results,
    }


def seconds_per_read_pixel(results: list[ItemResult], read_px: int) -> float:
    """A worker's median seconds per pixel read (the median leaves out the first raster of a worker, which also
    loads the model)."""
    return statistics.median(result.seconds / read_px for result in results)


def main(argv: list[str] | None = None) -> int:
    """Run the rounds, print the table and write batch_results.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rasters", type=int, default=8)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--weights")
    args = parser.parse_args(argv)
    model = load_model(args.weights)
    read_px = read_pixels(args.size, args.size, model.input_multiple)
    tile_read_px = read_pixels(TILE, TILE, model.input_multiple)
    gflops_before = matmul_gflops()
    load_before = os.getloadavg()[0]
    runs: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="geomeld_batch_bench_") as folder:
        sources = windows_of_scene(Path(folder), args.rasters, args.size)
        for round_number in range(args.rounds):
            for workers in (1, 2):
                run = run_cluster(workers, sources, Path(folder) / f"out_{round_number}_{workers}", args.weights)
                runs[workers].append(run)
                print(
                    f"round {round_number + 1}, {workers} worker(s): {run['wall']:.1f} s "
                    f"(+{run['startup']:.1f} s start)"
                )
    gflops_after = matmul_gflops()
    walls = {workers: statistics.median(run["wall"] for run in found) for workers, found in runs.items()}
    kept_mpx = args.rasters * args.size**2 / 1e6
    lines = [
        "# Batch benchmark (`python benchmarks/batch.py`)",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average at start "
        f"{load_before:.2f}",
        f"- machine speed (numpy float32 matmul): {gflops_before:.0f} GFLOP/s before, {gflops_after:.0f} after",
        f"- {args.rasters} windows of {args.size} x {args.size} px of the demo scene ({kept_mpx:.1f} Mpx; the tiles "
        f"read {read_px / args.size**2:.2f} px per kept px, a whole 10980^2 px tile {tile_read_px / TILE**2:.2f}); "
        f"{args.rounds} round(s), medians; model D={model.embedding_dim}",
        "",
        "| cluster | embedding wall | Mpx/s (kept) | cluster start | s per raster (median, on its worker) |",
        "|---|---:|---:|---:|---:|",
    ]
    per_pixel = {}
    for workers, found in runs.items():
        results = [result for run in found for result in run["results"]]
        per_pixel[workers] = seconds_per_read_pixel(results, read_px)
        lines.append(
            f"| {workers} worker(s) x {found[0]['threads']} ONNX thread(s) | {walls[workers]:.1f} s | "
            f"{kept_mpx / walls[workers]:.2f} | {statistics.median(run['startup'] for run in found):.1f} s | "
            f"{statistics.median(result.seconds for result in results):.2f} s |"
        )
    lines += [
        "",
        f"**2 workers against 1: {walls[1] / walls[2]:.2f} x** the throughput (same rasters, same run).",
        "",
        f"Projection: {PROJECTED_TILES} whole tiles ({PROJECTED_TILES * TILE**2 / 1e9:.1f} Gpx) on {PROJECTED_WORKERS} "
        f"workers, {math.ceil(PROJECTED_TILES / PROJECTED_WORKERS)} tiles in turn on each, from the seconds per read "
        "pixel of one worker measured above:",
        "",
        "| each of the 16 workers like | one tile | 100 tiles on 16 workers |",
        "|---|---:|---:|",
    ]
    for workers, seconds in per_pixel.items():
        tile_seconds = tile_read_px * seconds
        total = math.ceil(PROJECTED_TILES / PROJECTED_WORKERS) * tile_seconds
        threads = runs[workers][0]["threads"]
        lines.append(
            f"| a worker of the {workers}-worker run ({threads} core(s)) | {tile_seconds / 60:.1f} min | "
            f"{total / 60:.0f} min |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    write_atomic(RESULTS, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
