"""Fault injection with real processes and real files: SIGTERM and SIGKILL during a job, two jobs embedding one raster,
`cache --clear` during a job, a full disk (a file size limit in the child) and damaged cache entries. Each checks the
exit status, the message, that the inputs are unchanged, that no stray file is left, and that the next run succeeds.

The jobs run on a 640 x 640 px window of the Aberystwyth scene with small tiles, so that they last a few seconds and
can be hit while they compute; reruns use the default tiles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from osgeo import gdal

from model_core.atomic import temporary_owner
from tests.conftest import REPO_ROOT, shared
from tests.model_core.test_bad_input import _file_size_limit, assert_refused, cli, files_in

pytestmark = pytest.mark.slow  # child processes killed and restarted

SCENE = "rsgislib_aberystwyth_s2/s2_20210527_aberystwyth_10band_sref_x1000.tif"
WINDOW = 640
SLOW_TILES = {"GEOMELD_TILE_SIZE": "192"}  # many small tiles: the job takes seconds, not one
TIMEOUT_S = 300


# ---- helpers ---------------------------------------------------------------------------------------------------------
def start(args: list, weights: Path, cache: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `python -m model_core ARGS` in a child process (stdout and stderr captured)."""
    environment = dict(os.environ, GEOMELD_WEIGHTS_DIR=str(weights), GEOMELD_CACHE_DIR=str(cache), **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "model_core", *map(str, args)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def temporaries(folder: Path) -> list[str]:
    """GeoMeld temporary files in a folder (any process)."""
    return [name for name in files_in(folder) if temporary_owner(name) is not None] if folder.exists() else []


def wait_for_temporary(process: subprocess.Popen, folder: Path) -> None:
    """Wait until the job writes its temporary output in `folder` (it is then computing)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not temporaries(folder):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the job never started writing"
        time.sleep(0.02)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    """Wait for a child; (exit status, stdout, stderr)."""
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    return process.returncode, stdout, stderr


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a GeoTIFF of a 640 x 640 px window of the scene."""
    path = tmp_path_factory.mktemp("window") / "window.tif"
    gdal.Translate(str(path), str(shared(SCENE)), srcWin=[0, 0, WINDOW, WINDOW])
    return path.read_bytes()


@pytest.fixture
def scene(tmp_path: Path, window: bytes) -> Path:
    """The window in its own folder: a job's input, checked to be never changed (`unchanged`)."""
    folder = tmp_path / "in"
    folder.mkdir()
    copy = folder / "scene.tif"
    copy.write_bytes(window)
    (tmp_path / "original.tif").write_bytes(window)
    return copy


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty output folder."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def unchanged(path: Path) -> bool:
    """The input still holds the window's bytes."""
    return path.read_bytes() == (path.parent.parent / "original.tif").read_bytes()


def cache_folder(cache: Path) -> Path:
    """The embedding cache inside a GEOMELD_CACHE_DIR."""
    return cache / "embeddings"


# ---- killed jobs -----------------------------------------------------------------------------------------------------
def test_sigterm_during_embed_removes_the_temporary_file(weights_dir, tmp_path, scene, out):
    job = start(["embed", scene, "--out", out / "e.tif"], weights_dir, tmp_path / "cache", SLOW_TILES)
    wait_for_temporary(job, out)
    job.send_signal(signal.SIGTERM)
    status, _, stderr = finish(job)
    assert status == 128 + signal.SIGTERM, stderr
    assert "error: stopped before the end; no output was written." in stderr and "Traceback" not in stderr
    assert files_in(out) == [] and unchanged(scene)
    result = cli(["embed", scene, "--out", out / "e.tif"], weights_dir, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert files_in(out) == ["e.tif"]


def test_sigkill_during_embed_then_the_next_run_sweeps_its_file(weights_dir, tmp_path, scene, out):
    job = start(["embed", scene, "--out", out / "e.tif"], weights_dir, tmp_path / "cache", SLOW_TILES)
    wait_for_temporary(job, out)
    job.kill()
    assert finish(job)[0] == -signal.SIGKILL
    left = temporaries(out)
    assert len(left) == 1 and temporary_owner(left[0]) == job.pid  # named so that a later run knows it is stale
    result = cli(["embed", scene, "--out", out / "e.tif"], weights_dir, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert files_in(out) == ["e.tif"] and unchanged(scene)


def test_sigkill_during_a_cached_job_is_counted_then_swept(weights_dir, tmp_path, scene, out):
    cache = tmp_path / "cache"
    job = start(["segment", scene, "--clusters", "3", "--out", out / "c.tif"], weights_dir, cache, SLOW_TILES)
    wait_for_temporary(job, cache_folder(cache))
    job.kill()
    finish(job)
    info = cli(["cache", "--info"], weights_dir, cache)
    assert "entries: 0" in info.stdout and "temporary files: 1 (" in info.stdout, info.stdout
    assert "1 of interrupted jobs" in info.stdout
    result = cli(["segment", scene, "--clusters", "3", "--out", out / "c.tif"], weights_dir, cache, SLOW_TILES)
    assert result.returncode == 0, result.stderr
    assert temporaries(cache_folder(cache)) == [] and files_in(out) == ["c.tif"] and unchanged(scene)
    assert "entries: 1" in cli(["cache", "--info"], weights_dir, cache).stdout


# ---- concurrent jobs -------------------------------------------------------------------------------------------------
def test_two_processes_embedding_one_raster_compute_it_once(weights_dir, tmp_path, scene, out):
    cache = tmp_path / "cache"
    args = ["query", scene, "--text", "water", "--top-k", "1"]
    jobs = [start([*args, "--out", out / name], weights_dir, cache, SLOW_TILES) for name in ("a.tif", "b.tif")]
    results = [finish(job) for job in jobs]
    assert [status for status, _, _ in results] == [0, 0], [stderr for _, _, stderr in results]
    outputs = sorted(results, key=lambda result: "(cached embedding)" in result[1])
    assert "(new embedding)" in outputs[0][1] and "(cached embedding)" in outputs[1][1]  # computed once
    assert "waiting for it to finish" in outputs[1][1]
    entries = [name for name in files_in(cache_folder(cache)) if name.endswith(".json")]
    assert len(entries) == 1 and temporaries(cache_folder(cache)) == []
    assert gdal.Open(str(out / "a.tif")).ReadAsArray().tolist() == gdal.Open(str(out / "b.tif")).ReadAsArray().tolist()


def test_cache_clear_during_a_job_keeps_its_entry(weights_dir, tmp_path, scene, out):
    cache = tmp_path / "cache"
    job = start(["query", scene, "--text", "water", "--out", out / "h.tif"], weights_dir, cache, SLOW_TILES)
    wait_for_temporary(job, cache_folder(cache))
    cleared = cli(["cache", "--clear"], weights_dir, cache)
    assert cleared.returncode == 0 and "kept 1 embedding(s) that running jobs are computing or using" in cleared.stdout
    status, _, stderr = finish(job)
    assert status == 0, stderr
    assert files_in(out) == ["h.tif"] and temporaries(cache_folder(cache)) == []
    cleared = cli(["cache", "--clear"], weights_dir, cache)
    assert "removed 1 cached embedding(s)" in cleared.stdout and "kept" not in cleared.stdout
    assert files_in(cache_folder(cache)) == []


# ---- full disk -------------------------------------------------------------------------------------------------------
def test_full_disk_while_caching_leaves_nothing(weights_dir, tmp_path, scene, out):
    cache = tmp_path / "cache"
    args = ["query", scene, "--text", "water", "--out", out / "h.tif"]
    environment = dict(os.environ, GEOMELD_WEIGHTS_DIR=str(weights_dir), GEOMELD_CACHE_DIR=str(cache))
    result = subprocess.run(
        [sys.executable, "-m", "model_core", *map(str, args)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_file_size_limit,
    )
    assert_refused(result, "failed")
    assert "free space" in result.stderr
    assert files_in(out) == [] and temporaries(cache_folder(cache)) == [] and unchanged(scene)
    assert cli(args, weights_dir, cache).returncode == 0


# ---- damaged cache entries -------------------------------------------------------------------------------------------
def _entry(cache: Path) -> Path:
    """The one cached embedding raster."""
    (entry,) = cache_folder(cache).glob("*.tif")
    return entry


@pytest.mark.parametrize("damage", ["truncated", "overwritten in place"])
def test_damaged_cache_entry_is_rebuilt(weights_dir, tmp_path, scene, out, damage):
    cache = tmp_path / "cache"
    args = ["query", scene, "--text", "water", "--out", out / "h.tif"]
    assert cli(args, weights_dir, cache).returncode == 0
    expected = gdal.Open(str(out / "h.tif")).ReadAsArray()
    entry = _entry(cache)
    stat = entry.stat()
    if damage == "truncated":
        os.truncate(entry, stat.st_size // 2)
    else:  # same size and modification time: found only when read
        with open(entry, "r+b") as handle:
            handle.seek(stat.st_size // 2)
            handle.write(b"\0" * 65536)
        os.utime(entry, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = cli(args, weights_dir, cache)
    assert result.returncode == 0, result.stderr
    assert "damaged" in result.stdout + result.stderr or "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
    assert (gdal.Open(str(out / "h.tif")).ReadAsArray() == expected).all()
    assert "(cached embedding)" in cli(args, weights_dir, cache).stdout  # rebuilt once, then used again
    assert temporaries(cache_folder(cache)) == [] and unchanged(scene)
