"""Two weights folders on the same raster, alternating, in one process: engine and model-only speed, and ratios.

    python benchmarks/compare_weights.py OLD_DIR NEW_DIR [--size 2048] [--runs 5]

Each round embeds the raster end to end (`embed_raster`, to a new file) and runs the model alone on the engine's
tiles, once per folder in turn, so that the machine's drifting speed affects both alike. Prints a Markdown table
with the median of each and the ratios new / old, and the largest difference of the two folders' embeddings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.encoder_throughput import time_onnx  # noqa: E402
from benchmarks.engine import timed  # noqa: E402
from benchmarks.mosaic import mosaic_vrt  # noqa: E402
from model_core.defaults import DEFAULT_OVERLAP, DEFAULT_TILE  # noqa: E402
from model_core.demo import demo_scene_path  # noqa: E402
from model_core.engine.context import EngineContext  # noqa: E402
from model_core.engine.embedding import embed_raster, open_embedding  # noqa: E402
from model_core.engine.grid import aligned_tiles  # noqa: E402
from model_core.io import open_raster  # noqa: E402
from model_core.runtime import load_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="weights folder A")
    parser.add_argument("new", type=Path, help="weights folder B")
    parser.add_argument("--size", type=int, default=2048, help="square raster size in px (default 2048)")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    args = parser.parse_args(argv)
    models = [
        load_model(folder, providers=["CPUExecutionProvider"], threads=args.threads) for folder in (args.old, args.new)
    ]
    engine: list[list[float]] = [[], []]
    compute: list[list[float]] = [[], []]
    with tempfile.TemporaryDirectory(prefix="geomeld_compare_") as name:
        folder = Path(name)
        raster = open_raster(mosaic_vrt(demo_scene_path(), folder / "window.vrt", args.size, args.size))
        tiles = aligned_tiles(raster.width, raster.height, DEFAULT_TILE, DEFAULT_OVERLAP, models[0].input_multiple)
        parts = [raster.read(tile.read) for tile in tiles]
        kept = [tile.kept_in_read() for tile in tiles]
        outputs = [folder / "old.tif", folder / "new.tif"]
        for _ in range(args.runs):
            for index, model in enumerate(models):
                engine[index].append(timed(embed_raster, raster, EngineContext(model), outputs[index])[1])
                compute[index].append(time_onnx(model, parts, raster.band_mask, kept))
        files = [open_embedding(path) for path in outputs]
        same_size = files[0].read(next(files[0].windows())).shape == files[1].read(next(files[1].windows())).shape
        difference = (
            max(float(np.abs(files[0].read(part) - files[1].read(part)).max()) for part in files[0].windows())
            if same_size
            else None
        )
    megapixels = args.size**2 / 1e6
    print(f"{args.size}^2 px, {len(tiles)} tiles, {args.runs} alternating rounds (medians)\n")
    print("| what | A: " + str(args.old) + " | B: " + str(args.new) + " | B / A |\n|---|---:|---:|---:|")
    for what, times in (("engine embed_raster end to end", engine), ("model only, same tiles", compute)):
        speeds = [megapixels / float(np.median(entry)) for entry in times]
        print(f"| {what} (Mpx/s) | {speeds[0]:.3f} | {speeds[1]:.3f} | {speeds[1] / speeds[0]:.2f} |")
    if difference is None:
        print("\nThe two models' embeddings have different sizes: not compared.")
    else:
        step = 1 / 127
        print(f"\nLargest difference of the two int8 embedding rasters: {difference:.4f} (one int8 step: {step:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
