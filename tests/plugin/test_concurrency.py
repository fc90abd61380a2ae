"""Concurrency: two plugin tasks embedding two real rasters at once, and the embedding cache under concurrent writers
(threads and processes, same key and different keys)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from model_core.engine.cache import EmbeddingCache
from model_core.engine.context import EngineContext
from model_core.engine.embedding import embed_raster, read_embedding
from model_core.io import open_raster
from model_core.locks import FileLock
from tests.conftest import shared

CHIPS = ("terramesh_examples/S2L1C/637U_59R_1_3.tif", "terramesh_examples/S2L1C/282D_485L_3_3.tif")
WRITERS = 6
TASK_TIMEOUT_S = 600  # a guard against a hang, not a speed requirement


def temporary_files(folder: Path) -> list[str]:
    """Names of temporary files (leading dot) left in a folder."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


@pytest.fixture(scope="module")
def sources(geomeld_model, tmp_path_factory) -> list[Path]:
    """Two small, different real embedding rasters (stride 8 of the two chips) to store in caches."""
    folder = tmp_path_factory.mktemp("sources")
    return [
        embed_raster(open_raster(shared(chip)), EngineContext(geomeld_model), folder / f"source_{i}.tif", stride=8).path
        for i, chip in enumerate(CHIPS)
    ]


def test_two_tasks_embed_two_rasters_at_once(loaded_plugin, geomeld_model, tmp_path):
    from geomeld.plugin.tasks import EngineTask
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    rasters = [open_raster(shared(chip)) for chip in CHIPS]
    expected = [
        read_embedding(embed_raster(r, EngineContext(geomeld_model, tile_size=128), tmp_path / f"single_{i}.tif").path)
        for i, r in enumerate(rasters)
    ]
    both_running = threading.Barrier(2, timeout=120)  # each task waits for the other: they must run at the same time
    outcomes: dict[int, object] = {}

    def work(index: int):
        def run(feedback):
            both_running.wait()
            return embed_raster(
                rasters[index],
                EngineContext(geomeld_model, tile_size=128, feedback=feedback),
                tmp_path / f"task_{index}.tif",
            )

        return run

    tasks = [
        EngineTask(
            f"embed {i}",
            work(i),
            lambda result, i=i: outcomes.__setitem__(i, result),
            lambda message, i=i: outcomes.__setitem__(i, message),
        )
        for i in range(2)
    ]
    for task in tasks:
        QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + TASK_TIMEOUT_S
    while len(outcomes) < 2 and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    assert len(outcomes) == 2, "the tasks did not finish"
    for index in range(2):
        assert not isinstance(outcomes[index], str), outcomes[index]
        assert outcomes[index].path == tmp_path / f"task_{index}.tif"
        np.testing.assert_array_equal(read_embedding(outcomes[index].path), expected[index])
    assert not np.array_equal(expected[0], expected[1])
    assert temporary_files(tmp_path) == []


def _read_pixels(path: Path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def test_cache_threads_same_and_different_keys(sources, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        start.wait()
        cache.put("shared-key", sources[index % 2], {"writer": index})
        cache.put(f"key-{index}", sources[index % 2], {"writer": index})

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    check_cache(cache, sources)


def _process_writer(folder: str, source: str, index: int) -> None:
    cache = EmbeddingCache(folder)
    for _ in range(3):
        cache.put("shared-key", source, {"writer": index})
    cache.put(f"key-{index}", source, {"writer": index})


def test_cache_processes_same_and_different_keys(sources, tmp_path):
    folder = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        jobs = [pool.submit(_process_writer, str(folder), str(sources[i % 2]), i) for i in range(WRITERS)]
        for job in jobs:
            job.result()
    check_cache(EmbeddingCache(folder), sources)


def check_cache(cache: EmbeddingCache, sources: list[Path]) -> None:
    """Every entry is complete and equals one whole source; no temporary file is left."""
    originals = [_read_pixels(source) for source in sources]
    keys = {key for key, _, _ in cache.entries()}
    assert keys == {"shared-key", *(f"key-{i}" for i in range(WRITERS))}
    for key in keys:
        path = cache.get(key)
        assert path is not None
        pixels = _read_pixels(path)
        assert any(np.array_equal(pixels, original) for original in originals), key
    for index in range(WRITERS):
        np.testing.assert_array_equal(_read_pixels(cache.get(f"key-{index}")), originals[index % 2])
    assert temporary_files(cache.folder) == []


def test_concurrent_identical_embed_requests_share_one_entry(geomeld_model, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    raster = open_raster(shared(CHIPS[0]))
    start = threading.Barrier(2)

    def request(_: int):
        start.wait()
        return embed_raster(raster, EngineContext(geomeld_model, cache), stride=4)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(request, range(2)))
    assert results[0].path == results[1].path == cache.get(results[0].path.stem)
    assert len(cache.entries()) == 1 and temporary_files(cache.folder) == []
    single = embed_raster(raster, EngineContext(geomeld_model), tmp_path / "single.tif", stride=4)
    np.testing.assert_array_equal(read_embedding(results[0].path), read_embedding(single.path))


def test_cache_clear_skips_locked_entries_and_sweeps_only_ended_jobs(sources, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    cache.put("in-use", sources[0])
    cache.put("idle", sources[1])
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = cache.folder / f".idle.tif.{ended.stdout.strip()}.abcd1234.tmp.tif"
    running = cache.folder / f".in-use.tif.{os.getpid()}.efgh5678.tmp.tif"
    for path in (stale, running):
        path.write_bytes(b"\0" * 1000)
    info = cache.info()
    assert (info["temporary_files"], info["stale_temporary_files"], info["temporary_bytes"]) == (2, 1, 2000)
    lock = FileLock(cache.lock_path("in-use"))
    assert lock.acquire(wait=False)
    try:
        assert cache.info()["in_use"] == 1
        report = cache.clear_report()
        assert (report.removed, report.in_use, report.stale_removed) == (1, 1, 1)
        assert cache.get("in-use") is not None and cache.get("idle") is None
        assert running.exists() and not stale.exists()
    finally:
        lock.release()
    running.unlink()
    assert cache.clear() == 1 and list(cache.folder.iterdir()) == []
