"""Dense encoder throughput (pixels/s): ONNX Runtime vs torch eager on the same window of the demo scene.

    python benchmarks/encoder_throughput.py [--quick] [--threads 2] [--weights DIR]

The window is 2048 x 2048 px (1024 with --quick), clipped to the scene (1933 x 1947), cut into tiles of 512 px;
both engines run the same architecture (from the weights' model card) on the same tiles, after one warm-up tile.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_core.demo import demo_scene_path  # noqa: E402
from model_core.io import Window, open_raster  # noqa: E402
from model_core.runtime import GeoMeldModel, load_model, pad_to_multiple  # noqa: E402
from training.model import GeoMeldConfig, build_model  # noqa: E402


def tiles(image: np.ndarray, tile: int) -> list[np.ndarray]:
    """Non-overlapping tiles (15, <=tile, <=tile) covering the image."""
    height, width = image.shape[-2:]
    return [image[:, r : r + tile, c : c + tile] for r in range(0, height, tile) for c in range(0, width, tile)]


def time_onnx(
    model: GeoMeldModel,
    parts: list[np.ndarray],
    band_mask: np.ndarray,
    keeps: list[tuple[int, int, int, int]] | None = None,
) -> float:
    """Seconds for ONNX Runtime to embed every tile (reflect-padded to the input multiple inside).

    `keeps` gives each tile's kept window (row, col, height, width), as the engine asks for it; default whole tiles.
    """
    keeps = keeps or [None] * len(parts)
    model.embed_dense(parts[0], band_mask, keeps[0])
    started = time.perf_counter()
    for part, keep in zip(parts, keeps):
        model.embed_dense(part, band_mask, keep)
    return time.perf_counter() - started


def time_torch(
    encoder: torch.nn.Module, parts: list[np.ndarray], band_mask: np.ndarray, multiple: int, device: str = "cpu"
) -> float:
    """Seconds for the torch encoder (eager, no grad) to embed the same tiles, padded the same way."""
    encoder = encoder.to(device)
    mask = torch.from_numpy(band_mask)[None].to(device)
    padded = [torch.from_numpy(np.ascontiguousarray(pad_to_multiple(part[None], multiple))) for part in parts]
    with torch.inference_mode():
        encoder(padded[0].to(device), mask)
        started = time.perf_counter()
        for image in padded:
            encoder(image.to(device), mask)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    return time.perf_counter() - started


def benchmark_weights(weights: str | None, folder: Path) -> str | Path | None:
    """The weights to benchmark: the given folder, else the bundled model, else a random export into `folder`."""
    if weights is None and not (Path(__file__).resolve().parents[1] / "resources/model/model_card.json").exists():
        from training.export import export_random

        return export_random(folder)
    return weights


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 1024 x 1024 window instead of 2048 x 2048")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for both engines")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--weights", help="weights folder (default: bundled, else a random export)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        weights = benchmark_weights(args.weights, Path(tmp))
        model = load_model(weights, providers=["CPUExecutionProvider"], threads=args.threads)
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        encoder = build_model(GeoMeldConfig.from_dict(model.card["architecture"])).image.eval()

        raster = open_raster(demo_scene_path())
        size = 1024 if args.quick else 2048
        window = Window(0, 0, min(size, raster.width), min(size, raster.height))
        image = raster.read(window)
        parts = tiles(image, args.tile)
        pixels = window.width * window.height
        onnx_seconds = time_onnx(model, parts, raster.band_mask)
        torch_seconds = time_torch(encoder, parts, raster.band_mask, model.input_multiple)

    variant = model.card["architecture"]["variant"]
    print(
        f"GeoMeld-FM {variant}, D={model.embedding_dim}, window {window.width} x {window.height} px of the demo scene,"
    )
    print(f"{len(parts)} tiles of <= {args.tile} px, {args.threads} thread(s), torch {torch.__version__}")
    print(f"{'engine':<22}{'seconds':>10}{'Mpx/s':>10}")
    for name, seconds in (("ONNX Runtime (CPU)", onnx_seconds), ("torch eager (CPU)", torch_seconds)):
        print(f"{name:<22}{seconds:>10.2f}{pixels / seconds / 1e6:>10.3f}")
    print(f"ratio ORT / torch: {torch_seconds / onnx_seconds:.2f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
