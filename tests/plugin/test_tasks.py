"""EngineTask runs engine calls in QGIS's task manager: progress and cancel bridged, results and errors handed back."""

from __future__ import annotations

import time

import pytest
from qgis.core import QgsApplication, QgsTask

from tests.conftest import shared

CHIP = "terramesh_examples/S2L2A/637U_59R_1_3.tif"
RGB_CHIP = "terramesh_examples/S2RGB/637U_59R_1_3.tif"


def run_task(task: QgsTask, outcome: dict, cancel_at: float | None = None) -> None:
    """Start a task and process events until it handed back a result or an error (cancelling it once its progress
    passes `cancel_at`); the task manager deletes the task when it is done."""
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + 120
    cancelled = False
    while not (outcome["success"] or outcome["error"]) and time.monotonic() < deadline:
        if cancel_at is not None and not cancelled and outcome["progress"] and outcome["progress"][-1] > cancel_at:
            task.cancel()
            cancelled = True
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert outcome["success"] or outcome["error"], "the task did not finish"


@pytest.fixture()
def outcome():
    """Collects what a task hands back to the GUI thread."""
    return {"success": [], "error": [], "progress": []}


def make_task(outcome, work):
    """An EngineTask recording its callbacks and progress into `outcome`."""
    from geomeld.plugin.tasks import EngineTask

    task = EngineTask("GeoMeld test", work, outcome["success"].append, outcome["error"].append)
    task.progressChanged.connect(outcome["progress"].append)
    return task


def test_engine_call_result_and_progress_reach_the_gui_thread(loaded_plugin, geomeld_model, tmp_path, outcome):
    from geomeld.model_core.engine.context import EngineContext
    from geomeld.model_core.engine.embedding import embed_raster
    from geomeld.model_core.io import open_raster

    out = tmp_path / "embedding.tif"
    task = make_task(
        outcome,
        lambda feedback: embed_raster(open_raster(shared(CHIP)), EngineContext(geomeld_model, feedback=feedback), out),
    )
    run_task(task, outcome)
    assert outcome["error"] == [] and len(outcome["success"]) == 1
    assert outcome["success"][0].path == out and out.exists()
    assert outcome["progress"] and max(outcome["progress"]) == pytest.approx(100.0)


def test_geomeld_error_becomes_one_sentence(loaded_plugin, outcome):
    from geomeld.model_core.io import open_raster

    run_task(make_task(outcome, lambda feedback: open_raster(shared(RGB_CHIP))), outcome)
    assert outcome["success"] == [] and len(outcome["error"]) == 1
    message = outcome["error"][0]
    assert "GeoMeld needs Sentinel-2 bands" in message and "\n" not in message.strip()


def test_cancel_mid_run_writes_nothing(loaded_plugin, geomeld_model, tmp_path, outcome):
    from geomeld.model_core.engine.context import EngineContext
    from geomeld.model_core.engine.embedding import embed_raster
    from geomeld.model_core.io import open_raster

    out = tmp_path / "embedding.tif"
    raster = open_raster(shared(CHIP))
    task = make_task(
        outcome,
        lambda feedback: embed_raster(raster, EngineContext(geomeld_model, tile_size=64, feedback=feedback), out),
    )
    run_task(task, outcome, cancel_at=1.0)
    assert outcome["success"] == [] and outcome["error"] == ["Cancelled by the user; no output was written."]
    assert list(tmp_path.iterdir()) == []


def test_unexpected_errors_do_not_show_a_traceback(loaded_plugin, outcome):
    run_task(make_task(outcome, lambda feedback: 1 / 0), outcome)
    assert outcome["error"] and outcome["error"][0].startswith("GeoMeld failed unexpectedly (ZeroDivisionError")
    assert "Traceback" not in outcome["error"][0]
