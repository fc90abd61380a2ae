"""`batch` on a real Dask LocalCluster of 2 workers: the outputs equal single `embed` runs, a readable mosaic per CRS,
a second run skips everything, a damaged output is redone, and failing inputs are reported while the others go on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from model_core.cli import main
from model_core.cluster import dask_runner, local_layout
from model_core.engine.batch import (
    EMBEDDED,
    FAILED,
    SKIPPED,
    RasterOptions,
    collect_inputs,
    finish_batch,
    output_names,
    plan_batch,
    run_batch,
)
from model_core.engine.embedding import EmbeddingFile
from tests.conftest import REPO_ROOT, shared

L2A = "terramesh_examples/S2L2A/433D_629L_3_1.tif"
L1C = "terramesh_examples/S2L1C/433D_629L_3_1.tif"  # the same place and stem as L2A: names get the folder in front
PATCH = "bigearthnet_v2_s2/patches/S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89.tif"


pytestmark = pytest.mark.slow  # a Dask LocalCluster with two workers


def cli(*args: str, weights: Path, cache: Path) -> subprocess.CompletedProcess:
    """Run `python -m model_core` as a user does."""
    env = dict(os.environ, GEOMELD_WEIGHTS_DIR=str(weights), GEOMELD_CACHE_DIR=str(cache))
    return subprocess.run(
        [sys.executable, "-m", "model_core", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def read_all(path: Path) -> np.ndarray:
    """Every band of a raster."""
    return gdal.Open(str(path)).ReadAsArray()


@pytest.fixture(scope="module")
def first_run(weights_dir, tmp_path_factory):
    """A batch over three real rasters (two named, one from a list file) and a file that is no raster."""
    root = tmp_path_factory.mktemp("batch")
    listing = root / "more.txt"
    listing.write_text(f"# listed rasters\n{shared(PATCH)}\n", encoding="utf-8")
    broken = root / "broken.tif"
    broken.write_text("not a raster", encoding="utf-8")
    inputs = [str(shared(L2A)), str(shared(L1C)), str(listing), str(broken)]
    result = cli("batch", *inputs, "--out-dir", str(root / "out"), "--workers", "2", weights=weights_dir, cache=root)
    return root, inputs, result


def test_first_run_embeds_on_two_workers_and_reports_the_failure(first_run):
    root, _, result = first_run
    assert result.returncode == 1, result.stderr  # the exit status counts the failed rasters
    out = result.stdout
    assert "LocalCluster of 2 worker(s)" in out and "dashboard http://" in out
    assert "FAILED   " + str(root / "broken.tif") in out and "not a raster GDAL can read" in out
    assert "4 raster(s): 3 embedded, 0 skipped (finished before), 1 failed" in out
    names = sorted(path.name for path in (root / "out").glob("*_embedding.tif"))
    assert names == [
        "S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89_embedding.tif",
        "S2L1C_433D_629L_3_1_embedding.tif",
        "S2L2A_433D_629L_3_1_embedding.tif",
    ]


def test_outputs_equal_single_embed_runs(first_run, tmp_path):
    root, _, _ = first_run
    outputs = {
        L2A: "S2L2A_433D_629L_3_1_embedding.tif",
        L1C: "S2L1C_433D_629L_3_1_embedding.tif",
        PATCH: "S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89_embedding.tif",
    }
    for source, name in outputs.items():
        reference = tmp_path / name
        assert main(["embed", str(shared(source)), "--out", str(reference)]) == 0
        batch_output = root / "out" / name
        np.testing.assert_array_equal(read_all(batch_output), read_all(reference))
        assert EmbeddingFile(batch_output).metadata == EmbeddingFile(reference).metadata


def test_mosaic_per_crs_is_a_readable_embedding(first_run):
    root, _, _ = first_run
    out = root / "out"
    assert sorted(path.name for path in out.glob("*.vrt")) == ["mosaic_EPSG_32633.vrt", "mosaic_EPSG_32718.vrt"]
    chile = EmbeddingFile(out / "mosaic_EPSG_32718.vrt")
    assert (chile.width, chile.height) == (224, 224) and chile.dim == EmbeddingFile(out / L1C_NAME).dim
    # Both rasters of the Chilean chip cover the same pixels: the one listed last is drawn on top.
    np.testing.assert_array_equal(chile.read(), EmbeddingFile(out / L1C_NAME).read())
    patch = gdal.Open(str(out / "mosaic_EPSG_32633.vrt"))
    np.testing.assert_array_equal(patch.ReadAsArray(), read_all(out / PATCH_NAME))
    assert '<SourceFilename relativeToVRT="1">' in (out / "mosaic_EPSG_32633.vrt").read_text(encoding="utf-8")


L1C_NAME = "S2L1C_433D_629L_3_1_embedding.tif"
PATCH_NAME = "S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89_embedding.tif"


def test_second_run_skips_every_finished_raster_without_a_cluster(first_run, weights_dir):
    root, inputs, _ = first_run
    times = {path: path.stat().st_mtime_ns for path in (root / "out").glob("*_embedding.tif")}
    result = cli("batch", *inputs[:3], "--out-dir", str(root / "out"), weights=weights_dir, cache=root)
    assert result.returncode == 0, result.stderr
    assert "0 to embed, 3 finished before" in result.stdout and "Dask:" not in result.stdout
    assert "3 raster(s): 0 embedded, 3 skipped" in result.stdout
    assert {path: path.stat().st_mtime_ns for path in times} == times


def test_inputs_names_and_layout():
    folder = shared("terramesh_examples/S2L2A")
    found = collect_inputs([str(folder)])
    assert len(found) == 5 and all(path.endswith(".tif") for path in found)
    assert output_names(["/a/x.tif", "/b/x.tif", "/c/y.SAFE"]) == [
        "a_x_embedding.tif",
        "b_x_embedding.tif",
        "y_embedding.tif",
    ]
    layout = local_layout(cores=16, memory=64 * 1024**3)
    assert (layout.workers, layout.threads) == (16, 1) and layout.memory_limit == int(64 * 1024**3 * 0.8) // 16
    assert local_layout(cores=2, memory=3 * 1024**3).workers == 1  # memory allows one 2 GiB worker


def test_engine_on_a_cluster_resumes_and_goes_on_past_a_worker_failure(weights_dir, tmp_path):
    copies = []
    for relative in (L2A, PATCH):
        copies.append(tmp_path / Path(relative).name)
        shutil.copyfile(shared(relative), copies[-1])
    vanishing = tmp_path / "vanishing.tif"
    shutil.copyfile(shared(L1C), vanishing)
    sources = [str(path) for path in (*copies, vanishing)]
    options = RasterOptions(weights=str(weights_dir))
    plan = plan_batch(sources, tmp_path / "out", options)
    assert len(plan.pending) == 3 and not plan.settled
    vanishing.unlink()  # readable when planned, gone when its worker opens it
    with dask_runner(workers=2, log=lambda line: None) as (runner, layout):
        assert layout is not None and layout.workers == 2
        results = run_batch(plan, runner)
    by_source = {result.source: result for result in results}
    assert by_source[str(vanishing)].status == FAILED and "does not exist" in by_source[str(vanishing)].message
    done = [by_source[source] for source in sources[:2]]
    assert [result.status for result in done] == [EMBEDDED, EMBEDDED]
    assert all(result.model_loads == 1 for result in done)  # each worker process loaded the model once
    report = finish_batch(plan, results, 0.0)
    assert set(report.mosaics) == {"EPSG_32718", "EPSG_32633"}
    # An output damaged after it was finished is planned again; the intact one is skipped.
    damaged = Path(done[0].output)
    with open(damaged, "ab") as handle:
        handle.write(b"\0" * 10)
    again = plan_batch(sources[:2], tmp_path / "out", options)
    assert [job[0] for job in again.pending] == [sources[0]]
    assert [(result.source, result.status) for result in again.settled] == [(sources[1], SKIPPED)]
