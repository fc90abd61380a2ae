"""Text query latency over a cached embedding, the one-off codebook build, and text encoding time per prompt.

    python benchmarks/query.py [--quick] [--threads 2] [--weights DIR] [--repeats 5]

The raster is the demo scene resampled to 2048 x 2048 px (1024 with --quick) and kept in the cache folder; its
embedding is computed once and then served from the embedding cache, so the query timings never include the image
encoder. The query codebook is rebuilt once (timed on its own row), then every query reuses it. The codebook
heatmaps are compared with exact per-pixel scoring (`exact=True`) for every benchmark query.
Targets: a text query over the cached 2048^2 embedding <= 200 ms, text encoding <= 20 ms per prompt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_core.demo import demo_scene_path  # noqa: E402
from model_core.engine import prompts  # noqa: E402
from model_core.engine.cache import EmbeddingCache  # noqa: E402
from model_core.engine.codebook import codebook_path, load_codebook, score_by_codebook  # noqa: E402
from model_core.engine.context import EngineContext  # noqa: E402
from model_core.engine.embedding import embed_raster  # noqa: E402
from model_core.engine.hits import QueryOutputs  # noqa: E402
from model_core.engine.query import text_query  # noqa: E402
from model_core.engine.scoremap import Grid, find_places, score_embeddings  # noqa: E402
from model_core.io import open_raster  # noqa: E402
from model_core.paths import cache_dir  # noqa: E402
from model_core.runtime import load_model  # noqa: E402

QUERIES = ("flooded fields", "dense forest", "small town, not industrial area", "sandy beach", "tidal marsh")


def bench_raster(size: int) -> Path:
    """The demo scene resampled to size x size px, built once in the cache folder."""
    target = cache_dir() / f"bench_query_{size}.tif"
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp.tif")
        gdal.Translate(
            str(tmp),
            str(demo_scene_path()),
            width=size,
            height=size,
            resampleAlg="bilinear",
            creationOptions=["TILED=YES", "COMPRESS=DEFLATE"],
        )
        tmp.replace(target)
    return target


def median_seconds(function, repeats: int) -> float:
    """Median wall time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024 x 1024 px instead of 2048 x 2048")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for ONNX Runtime")
    parser.add_argument("--weights", help="weights folder (default: bundled)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    size = 1024 if args.quick else 2048
    repeats = 2 if args.quick else args.repeats
    model = load_model(args.weights, threads=args.threads)
    raster = open_raster(bench_raster(size))

    started = time.perf_counter()
    context = EngineContext(model, EmbeddingCache())
    embedding = embed_raster(raster, context)
    embed_seconds = time.perf_counter() - started

    prompts._PHRASE_CACHE.clear()
    started = time.perf_counter()
    scorer = prompts.text_scorer(model, QUERIES[0])
    first_prompts_seconds = time.perf_counter() - started
    texts = [template.format(q) for q in QUERIES for template in prompts.TEMPLATES]
    one_by_one = median_seconds(lambda: [model.embed_text([t]) for t in texts], repeats) / len(texts)
    batched = median_seconds(lambda: model.embed_text(texts), repeats) / len(texts)

    codebook_path(embedding.path).unlink(missing_ok=True)
    started = time.perf_counter()
    codebook = load_codebook(embedding.path)
    build_seconds = time.perf_counter() - started

    grid = Grid.of(embedding.path)
    heat = score_embeddings([embedding.path], scorer)
    exact_seconds = median_seconds(lambda: score_embeddings([embedding.path], scorer), repeats)
    codebook_seconds = median_seconds(lambda: score_by_codebook(embedding.path, scorer), repeats)
    places_seconds = median_seconds(lambda: find_places(heat, heat >= 0.5, grid), repeats)
    difference, agreement = codebook_quality(embedding.path, model)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_seconds = median_seconds(lambda: QueryOutputs(out / "w.tif").write(heat, grid, 0.5), repeats)
        counter = iter(range(10**6))
        query_seconds = median_seconds(
            lambda: text_query(raster, context, QUERIES[next(counter) % len(QUERIES)], out / "q.tif"), repeats
        )
        full_seconds = median_seconds(
            lambda: text_query(
                raster, context, QUERIES[0], out / "f.tif", mask_out=out / "m.tif", polygons_out=out / "p.gpkg"
            ),
            repeats,
        )
        exact_query_seconds = median_seconds(
            lambda: text_query(raster, context, QUERIES[0], out / "e.tif", exact=True), max(1, repeats // 2)
        )

    rows = [
        ("embedding (once, then cached)", f"{embed_seconds:.2f} s", "cached" if embedding.cached else "computed", ""),
        (f"query codebook build (once per embedding, K={len(codebook.centroids)})", f"{build_seconds:.2f} s", "", ""),
        ("first query: texts + background bank", f"{first_prompts_seconds * 1000:.0f} ms", "", ""),
        ("text encoding per prompt, one by one", f"{one_by_one * 1000:.1f} ms", "<= 20 ms", _ok(one_by_one, 0.020)),
        ("text encoding per prompt, batched", f"{batched * 1000:.1f} ms", "<= 20 ms", _ok(batched, 0.020)),
        (f"exact scoring of the cached {size}^2 embedding", f"{exact_seconds * 1000:.0f} ms", "", ""),
        (f"codebook scoring of the cached {size}^2 embedding", f"{codebook_seconds * 1000:.0f} ms", "", ""),
        ("codebook vs exact: worst mean |difference|", f"{difference:.4f}", "", ""),
        ("codebook vs exact: worst 0.5-mask agreement", f"{agreement:.4f}", "", ""),
        ("ranking places (find_places)", f"{places_seconds * 1000:.0f} ms", "", ""),
        ("ranking places + writing the heatmap GeoTIFF", f"{write_seconds * 1000:.0f} ms", "", ""),
        (f"text query over cached {size}^2 (heatmap)", f"{query_seconds * 1000:.0f} ms", "<= 200 ms",
         _ok(query_seconds, 0.200) if size == 2048 else "(quick)"),
        ("text query + mask + polygons", f"{full_seconds * 1000:.0f} ms", "", ""),
        ("text query, exact scoring", f"{exact_query_seconds * 1000:.0f} ms", "", ""),
    ]  # fmt: skip
    print(
        f"GeoMeld query benchmark: {size} x {size} px, D={embedding.dim}, "
        f"{args.threads} threads, model {model.model_id[:12]}, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"| {'measure':<60} | {'value':>10} | {'target':>9} | {'ok':>7} |")
    print(f"|{'-' * 62}|{'-' * 12}|{'-' * 11}|{'-' * 9}|")
    for name, value, target, ok in rows:
        print(f"| {name:<60} | {value:>10} | {target:>9} | {ok:>7} |")
    return 0


def codebook_quality(embedding_path: Path, model) -> tuple[float, float]:
    """Over QUERIES, the largest mean |codebook - exact| heatmap difference and the lowest 0.5-mask agreement."""
    differences, agreements = [], []
    for query in QUERIES:
        scorer = prompts.text_scorer(model, query)
        exact = score_embeddings([embedding_path], scorer)
        fast = score_by_codebook(embedding_path, scorer)
        valid = np.isfinite(exact)
        differences.append(float(np.abs(fast - exact)[valid].mean()))
        agreements.append(float(((fast >= 0.5) == (exact >= 0.5))[valid].mean()))
    return max(differences), min(agreements)


def _ok(seconds: float, target: float) -> str:
    return "yes" if seconds <= target else "no"


if __name__ == "__main__":
    raise SystemExit(main())
