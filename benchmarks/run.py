"""GeoMeld benchmark: one table, every figure measured in this run on this machine, also written to results.md.

    python benchmarks/run.py [--quick] [--gpu] [--weights DIR] [--threads 2]

Rasters are VRT mosaics of the real demo scene (benchmarks/mosaic.py): a square window for encoder throughput
(2048 px, 1024 with --quick), a 2048 x 2048 px raster for the cache, probe and text-query rows, and a 10980 x 10980
px Sentinel-2 tile for peak memory (a full-width 10980 x 1024 px strip with --quick), embedded in a child process.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import ndvi_points, timed  # noqa: E402
from benchmarks.mosaic import mosaic_vrt  # noqa: E402
from benchmarks.query import QUERIES, median_seconds  # noqa: E402
from model_core.defaults import DEFAULT_OVERLAP, DEFAULT_TILE  # noqa: E402
from model_core.demo import demo_scene_path  # noqa: E402
from model_core.engine import prompts  # noqa: E402
from model_core.engine.cache import EmbeddingCache, embeddings_folder  # noqa: E402
from model_core.engine.classify import apply_probe, train_probe  # noqa: E402
from model_core.engine.codebook import load_codebook  # noqa: E402
from model_core.engine.context import EngineContext  # noqa: E402
from model_core.engine.embedding import embed_raster  # noqa: E402
from model_core.engine.grid import aligned_tiles  # noqa: E402
from model_core.engine.query import text_query  # noqa: E402
from model_core.io import SentinelRaster, Window, open_raster  # noqa: E402
from model_core.runtime import GeoMeldModel, load_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.md"
TASK_SIZE = 2048  # raster of the cache, probe and query rows (their bars are stated for 2048^2 px)
TILE_SIZE = 10980  # one Sentinel-2 MGRS tile at 10 m
GIB = 1024**3
ENGINE_RUNS = 5  # end-to-end engine runs whose median is reported


@dataclass
class Row:
    """One line of the table: what, value, unit, bar and whether the value meets it."""

    what: str
    value: float
    unit: str
    bar: str = ""
    ok: bool | None = None

    def cells(self) -> list[str]:
        """Table cells."""
        status = "" if self.ok is None else ("pass" if self.ok else "MISS")
        digits = 0 if abs(self.value) >= 100 else (2 if abs(self.value) >= 1 else 3)
        return [self.what, f"{self.value:.{digits}f}", self.unit, self.bar, status]


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """The machine's speed right now: GFLOP/s of numpy float32 matrix products (best of `repeats`)."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    best = min(timed(np.matmul, a, a)[1] for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def throughput_rows(
    raster: SentinelRaster, model: GeoMeldModel, threads: int, folder: Path, device: str = "cpu"
) -> list[Row]:
    """Pixels/s of the engine (ONNX Runtime, tiled) vs torch eager on the same tiles vs one untiled torch run."""
    import torch

    from benchmarks.encoder_throughput import time_onnx, time_torch
    from model_core.runtime import pad_to_multiple
    from training.model import GeoMeldConfig, build_model

    label = "CUDA" if device != "cpu" else "CPU"
    pixels = raster.width * raster.height
    size = f"{raster.width}^2 px"
    # Each run writes the whole file anew (no cache) and renames it over the last one; the first run also grows
    # ONNX Runtime's memory arena, once per session.
    speed_before = matmul_gflops()
    uncached = EngineContext(model)
    engine_s = median_seconds(lambda: embed_raster(raster, uncached, folder / f"throughput_{label}.tif"), ENGINE_RUNS)
    speed_after = matmul_gflops()
    multiple = model.input_multiple
    tiles = aligned_tiles(raster.width, raster.height, DEFAULT_TILE, DEFAULT_OVERLAP, multiple)
    parts = [raster.read(tile.read) for tile in tiles]
    onnx_s = time_onnx(model, parts, raster.band_mask, [tile.kept_in_read() for tile in tiles])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    encoder = build_model(GeoMeldConfig.from_dict(model.card["architecture"])).image.eval()
    torch_s = time_torch(encoder, parts, raster.band_mask, multiple, device)
    del parts
    whole = torch.from_numpy(np.ascontiguousarray(pad_to_multiple(raster.read()[None], multiple))).to(device)
    mask = torch.from_numpy(raster.band_mask)[None].to(device)
    with torch.inference_mode():
        started = time.perf_counter()
        encoder(whole, mask)
        if device != "cpu":
            torch.cuda.synchronize()
        untiled_s = time.perf_counter() - started
    del whole
    on_cpu = device == "cpu"
    return [
        Row(
            "machine speed before / after the engine runs: numpy float32 2048^2 matmul (best of 5; the speed of "
            "this kind of machine varies from day to day, so compare px/s across runs with it)",
            speed_before,
            f"GFLOP/s ({speed_after:.0f} after)",
        ),
        Row(
            f"embed {size}, engine embed_raster (ORT, {DEFAULT_TILE} px tiles + {DEFAULT_OVERLAP} overlap, I/O; "
            f"median of {ENGINE_RUNS} runs)",
            pixels / engine_s,
            "px/s",
            ">= 1 Mpx/s" if on_cpu else "",
            pixels / engine_s >= 1e6 if on_cpu else None,
        ),
        Row(
            f"embed {size}, ORT on the same tiles, kept windows as the engine asks (compute only)",
            pixels / onnx_s,
            "px/s",
        ),
        Row(f"embed {size}, torch eager on the same tiles, whole tiles ({label})", pixels / torch_s, "px/s"),
        Row(f"embed {size}, torch eager untiled, one run ({label})", pixels / untiled_s, "px/s"),
        Row(
            "ratio engine end to end / ORT compute only (the pipeline's efficiency; steadier than either)",
            onnx_s / engine_s,
            "x",
        ),
        Row("ratio ORT / torch eager (same tiles)", torch_s / onnx_s, "x"),
        Row("ratio engine tiled ORT / untiled torch", untiled_s / engine_s, "x"),
        Row("ratio torch tiled / torch untiled", untiled_s / torch_s, "x"),
    ]


def peak_rss_rows(
    vrt: Path, height: int, weights: str | None, threads: int, folder: Path, gdal_cache_mb: int | None = None
) -> list[Row]:
    """Peak RSS and throughput of a child process embedding a full-width strip of the 10980 px VRT (no torch).

    The child reports its own VmHWM: rusage of a child would also count the parent's memory copied at fork.
    GDAL's block cache defaults to 5 % of the RAM; `gdal_cache_mb` caps it (GDAL_CACHEMAX) as on a small laptop.
    """
    out = folder / "tile_embedding.tif"
    command = [sys.executable, __file__, "--child-embed", str(vrt), str(height), str(out), str(threads)]
    if weights:
        command.append(str(weights))
    env = dict(os.environ, **({"GDAL_CACHEMAX": str(gdal_cache_mb)} if gdal_cache_mb else {}))
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the child embedding process failed: {result.stderr.strip()[-500:]}")
    out.unlink()
    seconds, peak_kib = result.stdout.split()[-2:]
    peak = int(peak_kib) * 1024 / GIB
    cache = f"GDAL cache {gdal_cache_mb} MiB" if gdal_cache_mb else "default GDAL cache, 5 % of RAM"
    what = f"peak RSS embedding {TILE_SIZE} x {height} px of a {TILE_SIZE}^2 VRT (child process, {cache})"
    speed = TILE_SIZE * height / float(seconds)
    return [
        Row(what, peak, "GiB", "<= 2 GiB", peak <= 2.0),
        Row(f"embed {TILE_SIZE} x {height} px, engine end to end in that child ({cache})", speed, "px/s"),
    ]


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (VmHWM on Linux, else getrusage)."""
    status = Path("/proc/self/status")
    if status.exists():
        return next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM"))
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)


def child_embed(argv: list[str]) -> int:
    """Child process: embed the top `height` rows of a VRT into a GeoTIFF, no cache (imports no torch); prints
    the seconds the embedding took and its peak RSS in KiB."""
    vrt, height, out, threads = argv[0], int(argv[1]), argv[2], int(argv[3])
    model = load_model(argv[4] if len(argv) > 4 else None, threads=threads)
    raster = open_raster(vrt)
    started = time.perf_counter()
    embed_raster(raster, EngineContext(model), out, extent=Window(0, 0, raster.width, height))
    print(time.perf_counter() - started, peak_rss_kib())
    return 0


def task_rows(raster: SentinelRaster, model: GeoMeldModel, folder: Path, repeats: int) -> list[Row]:
    """Cache hit, probe fit on 1000 points + apply, text query and text encoding over one cached embedding."""
    size = f"{raster.width}^2"
    context = EngineContext(model, EmbeddingCache(embeddings_folder(folder)))
    first, embed_s = timed(embed_raster, raster, context)
    hit, hit_s = timed(embed_raster, raster, context)
    assert hit.cached and hit.path == first.path and not first.cached
    labels = ndvi_points(raster, folder / "points.gpkg", 1000)
    (probe, _), fit_s = timed(train_probe, raster, context, labels, "class")
    _, apply_s = timed(apply_probe, raster, context, probe, folder / "classes.tif")
    _, codebook_s = timed(load_codebook, first.path)  # built once per embedding, then reused by every query
    prompts._PHRASE_CACHE.clear()
    counter = iter(range(10**6))
    query_s = median_seconds(
        lambda: text_query(raster, context, QUERIES[next(counter) % len(QUERIES)], folder / "heat.tif"), repeats
    )
    texts = [template.format(query) for query in QUERIES for template in prompts.TEMPLATES]
    encode_s = median_seconds(lambda: [model.embed_text([text]) for text in texts], repeats) / len(texts)
    return [
        Row(f"embed {size} px once (cache miss, engine)", raster.width * raster.height / embed_s, "px/s"),
        Row("cache hit: same embed_raster request again", hit_s * 1000, "ms"),
        Row("probe fit, 1000 labelled points (logistic, CV report)", fit_s, "s"),
        Row(f"probe apply, {size} px (cached embedding)", apply_s, "s"),
        Row("probe fit + apply", fit_s + apply_s, "s", "<= 5 s", fit_s + apply_s <= 5.0),
        Row("query codebook build, once per embedding", codebook_s, "s"),
        Row(f"text query over cached {size} px embedding (median)", query_s * 1000, "ms", "<= 200 ms", query_s <= 0.2),
        Row("text encoding per prompt, one at a time (median)", encode_s * 1000, "ms", "<= 20 ms", encode_s <= 0.02),
    ]


def machine_lines(model: GeoMeldModel, weights_note: str, threads: int) -> list[str]:
    """Machine and software details for the report."""
    import onnxruntime
    import torch
    from osgeo import gdal

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    training = model.card.get("training", {}).get("status", "trained")
    return [
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}, {os.cpu_count()} cores visible, {threads} thread(s) used; load average at start "
        f"{os.getloadavg()[0]:.2f}",
        f"- RAM: {mem_kib / 1024**2:.1f} GiB; OS: {platform.platform()}",
        f"- Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, numpy {np.__version__}, "
        f"torch {torch.__version__}, GDAL {gdal.__version__}",
        f"- weights: {weights_note} ({training}); GeoMeld-FM {model.card['architecture'].get('variant', '?')}, "
        f"D={model.embedding_dim}, model id {model.model_id[:12]}",
        "- torch rows run the same architecture with its own (random) initialisation: speed, not values",
    ]


def gpu_rows(weights: str | None, window: SentinelRaster, task: SentinelRaster, args, folder: Path) -> list[Row]:
    """The throughput and task rows on CUDA (ONNX Runtime CUDA provider and/or torch.cuda), or why not."""
    import onnxruntime
    import torch

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers() or not torch.cuda.is_available():
        raise RuntimeError(
            "no GPU rows: onnxruntime has no CUDAExecutionProvider or torch.cuda is not available on this machine"
        )
    model = load_model(weights, providers=["CUDAExecutionProvider", "CPUExecutionProvider"], threads=args.threads)
    gpu_folder = folder / "gpu"
    gpu_folder.mkdir()
    rows = throughput_rows(window, model, args.threads, gpu_folder, device="cuda")
    rows += task_rows(task, model, gpu_folder, 2 if args.quick else 5)
    for row in rows:
        row.what = f"[GPU] {row.what}"
    return rows


def render(rows: list[Row], header: list[str], notes: list[str]) -> str:
    """The Markdown report: header lines, the table, notes."""
    lines = [*header, "", "| what | value | unit | bar | result |", "|---|---:|---|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join([*lines, "", *notes, ""])


def write_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, print the table and write benchmarks/results.md."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-embed":
        return child_embed(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024 px throughput window, 1024-row strip for memory")
    parser.add_argument("--gpu", action="store_true", help="also measure on CUDA when available")
    parser.add_argument("--weights", help="weights folder (default: bundled, else a random export)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for ONNX Runtime and torch")
    parser.add_argument("--out", default=str(RESULTS), help="Markdown report (default benchmarks/results.md)")
    args = parser.parse_args(argv)
    size = 1024 if args.quick else 2048
    strip = 1024 if args.quick else TILE_SIZE
    repeats = 3 if args.quick else 5
    started = time.perf_counter()
    demo = demo_scene_path()  # built once in the user's cache folder, before the cache is redirected
    with tempfile.TemporaryDirectory(prefix="geomeld_bench_") as name:
        folder = Path(name)
        from benchmarks.encoder_throughput import benchmark_weights

        weights = benchmark_weights(args.weights, folder / "weights")
        weights_note = (
            f"given folder {args.weights}"
            if args.weights
            else ("random export (no bundled model)" if weights else "bundled model")
        )
        model = load_model(weights, providers=["CPUExecutionProvider"], threads=args.threads)
        tile_vrt = mosaic_vrt(demo, folder / "tile.vrt", TILE_SIZE, TILE_SIZE)
        window = open_raster(mosaic_vrt(demo, folder / f"window_{size}.vrt", size, size))
        task = open_raster(mosaic_vrt(demo, folder / f"window_{TASK_SIZE}.vrt", TASK_SIZE, TASK_SIZE))
        header = [
            "# GeoMeld benchmark results",
            "",
            f"`python benchmarks/run.py{' --quick' if args.quick else ''}{' --gpu' if args.gpu else ''}`: "
            "every figure below comes from this one run on this machine.",
            "",
            *machine_lines(model, weights_note, args.threads),
        ]
        rows = throughput_rows(window, model, args.threads, folder)
        rows += task_rows(task, model, folder, repeats)
        # Last: each child writes gigabytes, which the kernel goes on flushing while later rows would run.
        for gdal_cache_mb in (None, 256):
            rows += peak_rss_rows(tile_vrt, strip, weights and str(weights), args.threads, folder, gdal_cache_mb)
        notes = [
            f"Rasters are VRT mosaics of the real {demo.name} (1933 x 1947 px) repeated on a grid; "
            f"the memory rows embed {TILE_SIZE} x {strip} px: the engine writes and flushes tile by tile and holds "
            "GDAL's block cache to 128 MiB meanwhile, so its memory does not grow with the raster.",
            "Throughput rows vary with other work on the machine: the load average at the start is given above.",
        ]
        if args.gpu:
            try:
                rows += gpu_rows(weights and str(weights), window, task, args, folder)
            except RuntimeError as exc:
                notes.append(f"GPU: {exc}.")
        else:
            notes.append("GPU: not measured (run with --gpu on a machine with CUDA).")
    notes.append(f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    text = render(rows, header, notes)
    print(text)
    write_atomic(Path(args.out), text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
