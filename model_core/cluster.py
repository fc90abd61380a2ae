"""Dask distributed for jobs over many rasters: a LocalCluster sized for this machine, or an existing scheduler.

Only the command line (and benchmarks) import this module: Dask is not a dependency of the QGIS plugin, which runs
the same tasks in its own process (`model_core.engine.batch.serial_runner`).

A LocalCluster has one task slot per worker process (each embeds one raster at a time with ONNX Runtime on its share
of the cores), as many workers as the cores and the memory allow, and a memory limit per worker. The dashboard address
is printed; a terminal progress bar (on a terminal only) counts finished and failed inputs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from .errors import GeoMeldError

GIB = 1024**3
# Embedding a whole 10980 x 10980 px tile peaks at 1.3 GiB (README, benchmarks): 2 GiB per worker leaves room.
WORKER_MEMORY = 2 * GIB
# Share of the machine's memory that the workers may use together.
MEMORY_SHARE = 0.8
SCHEDULER_TIMEOUT = "15s"
DASHBOARD_ADDRESS = ":8787"


@dataclass(frozen=True)
class ClusterLayout:
    """Workers of a LocalCluster, ONNX Runtime threads in each, and each worker's memory limit in bytes."""

    workers: int
    threads: int
    memory_limit: int

    def describe(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.workers} worker(s) x {self.threads} ONNX thread(s), memory limit "
            f"{self.memory_limit / GIB:.1f} GiB each"
        )


def local_layout(workers: int | None = None, cores: int | None = None, memory: int | None = None) -> ClusterLayout:
    """Workers for this machine: `workers`, else one per core as far as WORKER_MEMORY each fits in MEMORY_SHARE of
    the memory; the cores are shared out among them and so is the memory (the limit Dask enforces per worker)."""
    import psutil  # a dependency of distributed

    cores = cores or os.cpu_count() or 1
    usable = int((memory or psutil.virtual_memory().total) * MEMORY_SHARE)
    if workers is not None and workers < 1:
        raise GeoMeldError(f"The number of Dask workers must be at least 1, not {workers}.")
    count = workers or max(1, min(cores, usable // WORKER_MEMORY))
    return ClusterLayout(count, max(1, cores // count), usable // count)


def import_distributed() -> Any:
    """The `distributed` package, or one sentence on how to install it."""
    try:
        import distributed
    except ImportError:
        raise GeoMeldError(
            "Jobs over many rasters run on Dask, which is not installed: "
            "python -m pip install 'dask[distributed]' (see requirements-dev.txt)."
        ) from None
    return distributed


class TerminalProgress:
    """A one-line progress bar redrawn in place on a terminal; elsewhere (a log, a pipe) it draws nothing."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.failed, self.width = total, 0, 0, width
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._draw()

    def _draw(self) -> None:
        if not self.live:
            return
        filled = int(self.width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        self.stream.write(f"\r[{bar}] {self.done}/{self.total}, {self.failed} failed, {elapsed:.0f} s ")
        self.stream.flush()

    def note(self, line: str) -> None:
        """Print a line above the bar."""
        if self.live:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
        print(line, flush=True)
        self._draw()

    def advance(self, failed: bool = False) -> None:
        """Count one finished input."""
        self.done += 1
        self.failed += int(failed)
        self._draw()

    def close(self) -> None:
        """End the bar's line."""
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


class DaskRunner:
    """A runner (model_core.engine.batch.Runner) on a Dask client: every job submitted at once, results as they
    complete; a task that raised, or whose worker died, yields its exception."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, task: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        distributed = import_distributed()
        futures = {self.client.submit(task, job, pure=False): job for job in jobs}
        for future in distributed.as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - reported by the caller, the other jobs go on
                result = exc
            job = futures.pop(future)
            future.release()
            yield job, result

    def worker_count(self) -> int:
        """Workers connected to the scheduler now."""
        return len(self.client.scheduler_info().get("workers", {}))


@contextmanager
def dask_runner(
    workers: int | None = None, scheduler: str | None = None, log: Callable[[str], None] = print
) -> Iterator[tuple[DaskRunner, ClusterLayout | None]]:
    """A DaskRunner on a new LocalCluster (layout from `local_layout(workers)`) or on the scheduler at `scheduler`
    (tcp://HOST:PORT; its workers keep their own layout, so the layout yielded is None). Closed on exit."""
    distributed = import_distributed()
    cluster = None
    layout = None
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise GeoMeldError(f"Cannot reach the Dask scheduler at {scheduler} ({exc}).") from None
    else:
        layout = local_layout(workers)
        cluster = distributed.LocalCluster(
            n_workers=layout.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=layout.memory_limit,
            dashboard_address=DASHBOARD_ADDRESS,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    try:
        runner = DaskRunner(client)
        where = f"scheduler {scheduler}" if scheduler else f"LocalCluster of {layout.describe()}"
        log(f"Dask: {where}, {runner.worker_count()} worker(s) connected; dashboard {client.dashboard_link}")
        yield runner, layout
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
