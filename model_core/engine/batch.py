"""Many rasters in one job: one embedding raster per input, resumable, with a VRT mosaic per CRS.

Inputs are raster paths, folders (the rasters directly inside) or text files listing paths. Each input gets
`<name>_embedding.tif` in the output folder and, once it is complete, a `<name>_embedding.json` manifest with the
request's cache key (source fingerprint, bands, scaling, stride, encoding, tiling, model) and the output's size and
time: a later run skips an input whose output still matches its manifest and recomputes the rest.

The work goes through a *runner* (`Runner`): `serial_runner` here runs the inputs one after another in this process
(the QGIS plugin, inside a QgsTask); `model_core.cluster` runs them on Dask workers. Task functions and their options
are plain picklable objects, and each worker process loads the model once (`worker_model`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osgeo import gdal, osr

from ..atomic import atomic_path, write_text_atomic
from ..defaults import DEFAULT_TILE, ENCODINGS
from ..errors import CancelledError, GeoMeldError, RasterInputError
from ..feedback import Feedback, ensure_feedback
from ..io import SentinelRaster, open_raster
from ..runtime import IMAGE_ENCODER, GeoMeldModel, default_weights_dir, load_model, read_card
from .cache import EmbeddingCache, embedding_key
from .context import EngineContext
from .embedding import INT8_OFFSET, INT8_SCALE, MARKER, EmbeddingFile, default_overlap, embed_raster

gdal.UseExceptions()

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".jp2", ".img")
LIST_SUFFIXES = (".txt", ".lst", ".list")
OUTPUT_SUFFIX = "_embedding.tif"
MOSAIC_PREFIX = "mosaic_"
EMBEDDED, SKIPPED, FAILED = "embedded", "skipped", "failed"

# A runner calls `task(job)` for every job, wherever it runs, and yields (job, result) as each finishes; a task that
# raised yields its exception as the result.
Runner = Callable[[Callable[[Any], Any], Sequence[Any]], Iterator[tuple[Any, Any]]]


@dataclass(frozen=True)
class RasterOptions:
    """How a worker opens rasters and runs the model (picklable: it travels to Dask workers)."""

    weights: str | None = None
    bands: str | None = None
    scale: float | None = None
    threads: int | None = None
    stride: int = 1
    encoding: str = ENCODINGS[0]
    tile: int = DEFAULT_TILE


@dataclass
class ItemResult:
    """What became of one input: embedded, skipped (its output was complete) or failed (with the reason)."""

    source: str
    output: str
    status: str
    message: str = ""
    seconds: float = 0.0
    pixels: int = 0
    worker: str = ""
    model_loads: int = 0


@dataclass
class BatchPlan:
    """The inputs with their outputs, those still to embed, and those settled before any work (skipped, failed)."""

    out_dir: Path
    options: RasterOptions
    jobs: list[tuple[str, str]]
    pending: list[tuple[str, str]] = field(default_factory=list)
    settled: list[ItemResult] = field(default_factory=list)


@dataclass
class BatchReport:
    """Every input's result, the mosaic of each CRS and the wall time."""

    results: list[ItemResult]
    mosaics: dict[str, Path]
    seconds: float

    def count(self, status: str) -> int:
        """How many inputs ended with `status`."""
        return sum(result.status == status for result in self.results)

    def summary(self) -> str:
        """One line: inputs, embedded, skipped, failed, seconds."""
        return (
            f"{len(self.results)} raster(s): {self.count(EMBEDDED)} embedded, {self.count(SKIPPED)} skipped "
            f"(finished before), {self.count(FAILED)} failed ({self.seconds:.1f} s)"
        )


# ---- inputs and names -----------------------------------------------------------------------------------------------
def _is_raster_entry(path: Path) -> bool:
    name = path.name
    if name.startswith("."):
        return False
    if path.is_dir():
        return name.upper().endswith(".SAFE")
    return path.suffix.lower() in RASTER_SUFFIXES or (name.upper().endswith(".ZIP") and "MSIL" in name.upper())


def collect_inputs(items: Sequence[str]) -> list[str]:
    """Raster paths from paths, folders (the rasters directly inside, sorted) and text files of paths (one a line,
    relative to the list's folder, # for comments), each once, in order."""
    found: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir() and not _is_raster_entry(path):
            found.extend(str(entry) for entry in sorted(path.iterdir()) if _is_raster_entry(entry))
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
            found.extend(str(path.parent / line) for line in lines if line and not line.startswith("#"))
        else:
            found.append(item)
    if not found:
        raise GeoMeldError(f"No rasters found in {', '.join(items) or 'the arguments'}.")
    return list(dict.fromkeys(found))


def _stem(source: str) -> str:
    name = Path(source.rstrip("/\\")).name
    for suffix in (*RASTER_SUFFIXES, ".safe", ".zip"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "raster"


def output_names(sources: Sequence[str]) -> list[str]:
    """`<stem>_embedding.tif` per input; inputs sharing a stem get their folder's name in front (then a number)."""
    stems = [_stem(source) for source in sources]
    names: list[str] = []
    for source, stem in zip(sources, stems):
        if stems.count(stem) > 1:
            stem = f"{_stem(str(Path(source).parent))}_{stem}"
        name, number = stem, 2
        while name + OUTPUT_SUFFIX in names:
            name, number = f"{stem}_{number}", number + 1
        names.append(name + OUTPUT_SUFFIX)
    return names


# ---- model on a worker ----------------------------------------------------------------------------------------------
_MODELS: dict[tuple[str | None, int | None], GeoMeldModel] = {}
_MODELS_LOCK = threading.Lock()


def worker_model(options: RasterOptions) -> GeoMeldModel:
    """The model of this process for `options`, loaded on first use only (a Dask worker keeps it for its tasks)."""
    key = (options.weights, options.threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_model(options.weights, threads=options.threads)
        return _MODELS[key]


def worker_context(
    options: RasterOptions, cache: EmbeddingCache | None = None, feedback: Feedback | None = None
) -> EngineContext:
    """The engine context of a job on this worker: its model for `options`, `cache` and the options' tile size."""
    return EngineContext(worker_model(options), cache, options.tile, ensure_feedback(feedback))


def model_id_of(weights: str | None) -> str:
    """The model id (sha256 of the image encoder) of a weights folder, from its verified card, without loading it."""
    folder = Path(weights) if weights else default_weights_dir()
    return str(read_card(folder)["files"][IMAGE_ENCODER])


def open_input(source: str, options: RasterOptions) -> SentinelRaster:
    """Open an input raster with the options' band mapping and reflectance scale."""
    return open_raster(source, bands=options.bands, reflectance_scale=options.scale)


def describe_error(exc: BaseException) -> str:
    """One line for a failed input: GeoMeld's own sentence, else the exception's type and text."""
    return str(exc) if isinstance(exc, GeoMeldError) else f"{type(exc).__name__}: {exc}"


# ---- resume ---------------------------------------------------------------------------------------------------------
def manifest_path(output: str | os.PathLike) -> Path:
    """The manifest written beside a finished output."""
    return Path(output).with_suffix(".json")


def request_key(raster: SentinelRaster, options: RasterOptions, model_id: str) -> str:
    """The embedding cache key of a whole-raster request with these options."""
    tiling = (options.tile, default_overlap(options.tile))
    return embedding_key(raster, raster.full_window(), options.stride, options.encoding, model_id, *tiling)


def is_finished(output: str | os.PathLike, key: str) -> bool:
    """True when `output` is complete for the request `key`: its manifest names the key, the file has the size and
    time the manifest recorded, and it opens as an embedding raster of the recorded size."""
    try:
        manifest = json.loads(manifest_path(output).read_text(encoding="utf-8"))
        stat = Path(output).stat()
        if manifest.get("key") != key or [stat.st_size, stat.st_mtime_ns] != [manifest["bytes"], manifest["mtime_ns"]]:
            return False
        embedding = EmbeddingFile(output)
    except (OSError, ValueError, KeyError, TypeError, RasterInputError):
        return False
    return [embedding.width, embedding.height, embedding.dim] == manifest.get("shape")


def _write_manifest(output: Path, key: str, source: str, seconds: float) -> None:
    stat = output.stat()
    embedding = EmbeddingFile(output)
    record = {
        "source": source,
        "key": key,
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "shape": [embedding.width, embedding.height, embedding.dim],
        "model_id": embedding.model_id,
        "seconds": round(seconds, 3),
    }
    write_text_atomic(manifest_path(output), json.dumps(record, indent=1), ".tmp.json")


# ---- work -----------------------------------------------------------------------------------------------------------
def embed_task(job: tuple[str, str], options: RasterOptions, feedback: Feedback | None = None) -> ItemResult:
    """Embed one input into its output (skipped when already finished) and write its manifest; runs on a worker."""
    source, output = job
    started = time.perf_counter()
    raster = open_input(source, options)
    context = worker_context(options, feedback=feedback)
    key = request_key(raster, options, str(context.model.model_id))
    status = SKIPPED
    if not is_finished(output, key):
        embed_raster(raster, context, output, stride=options.stride, encoding=options.encoding)
        _write_manifest(Path(output), key, source, time.perf_counter() - started)
        status = EMBEDDED
    return ItemResult(
        source,
        output,
        status,
        seconds=time.perf_counter() - started,
        pixels=raster.width * raster.height,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        model_loads=len(_MODELS),
    )


def serial_runner(feedback: Feedback | None = None) -> Runner:
    """A runner for this process: jobs one after another, progress per job, cancel between and within jobs."""
    feedback = ensure_feedback(feedback)

    def run(task: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        for number, job in enumerate(jobs):
            feedback.check_cancelled()
            try:
                result = task(job)
            except CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed input is reported and the others go on
                result = exc
            feedback.set_progress(100.0 * (number + 1) / len(jobs))
            yield job, result

    return run


def plan_batch(sources: Sequence[str], out_dir: str | os.PathLike, options: RasterOptions) -> BatchPlan:
    """Outputs for the inputs; inputs whose output is finished are settled as skipped, unreadable ones as failed."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise GeoMeldError(f"The output folder '{out_dir}' cannot be created ({exc.strerror}).") from None
    jobs = [(source, str(out_dir / name)) for source, name in zip(sources, output_names(sources))]
    plan = BatchPlan(out_dir, options, jobs)
    model_id = model_id_of(options.weights)
    for source, output in jobs:
        try:
            finished = is_finished(output, request_key(open_input(source, options), options, model_id))
        except Exception as exc:  # noqa: BLE001 - a failed input is reported and the others go on
            plan.settled.append(ItemResult(source, output, FAILED, describe_error(exc)))
            continue
        if finished:
            plan.settled.append(ItemResult(source, output, SKIPPED))
        else:
            plan.pending.append((source, output))
    return plan


def run_batch(
    plan: BatchPlan,
    runner: Runner,
    on_result: Callable[[ItemResult], None] | None = None,
    job_feedback: Feedback | None = None,
) -> list[ItemResult]:
    """Embed the plan's pending inputs through `runner`; failures become results, `on_result` sees each one.

    `job_feedback` goes to each job (only for runners in this process: it cannot travel to a Dask worker).
    """
    task = functools.partial(embed_task, options=plan.options, feedback=job_feedback)
    results = []
    for (source, output), outcome in runner(task, plan.pending):
        result = outcome if isinstance(outcome, ItemResult) else ItemResult(source, output, FAILED)
        if isinstance(outcome, BaseException):
            result.message = describe_error(outcome)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def crs_label(crs_wkt: str) -> str:
    """'EPSG_32633' for a CRS with an authority code, else a short name from its WKT."""
    srs = osr.SpatialReference(wkt=crs_wkt)
    if srs.GetAuthorityName(None) and srs.GetAuthorityCode(None):
        return f"{srs.GetAuthorityName(None)}_{srs.GetAuthorityCode(None)}"
    return re.sub(r"[^A-Za-z0-9]+", "_", srs.GetName() or "unknown").strip("_")


def write_mosaic(path: Path, outputs: Sequence[str]) -> Path:
    """A VRT of embedding rasters of one CRS (paths relative to it), marked as a GeoMeld embedding like its sources."""
    first = EmbeddingFile(outputs[0])
    with atomic_path(path, ".tmp.vrt") as temporary:
        dataset = gdal.BuildVRT(str(temporary), [str(Path(output).resolve()) for output in outputs])
        metadata = {key: first.metadata[key] for key in ("MODEL_ID", "STRIDE", "ENCODING", "BANDS")}
        dataset.SetMetadata(dict(metadata, **{MARKER: "1", "SOURCE": f"mosaic of {len(outputs)} embedding rasters"}))
        for index in range(1, dataset.RasterCount + 1):
            band = dataset.GetRasterBand(index)
            band.SetDescription(f"emb_{index - 1:03d}")
            if first.encoding == "int8":
                band.SetScale(INT8_SCALE)
                band.SetOffset(INT8_OFFSET)
        dataset = None
    return path


def write_mosaics(out_dir: Path, results: Sequence[ItemResult]) -> dict[str, Path]:
    """One `mosaic_<CRS>.vrt` per CRS over the finished outputs; returns {CRS label: path}."""
    by_crs: dict[str, list[str]] = {}
    for result in results:
        if result.status in (EMBEDDED, SKIPPED):
            by_crs.setdefault(crs_label(EmbeddingFile(result.output).crs_wkt), []).append(result.output)
    return {label: write_mosaic(out_dir / f"{MOSAIC_PREFIX}{label}.vrt", outputs) for label, outputs in by_crs.items()}


def finish_batch(plan: BatchPlan, results: Sequence[ItemResult], started: float) -> BatchReport:
    """The report of a batch in input order, with its mosaics written."""
    by_source = {result.source: result for result in [*plan.settled, *results]}
    ordered = [by_source[source] for source, _ in plan.jobs if source in by_source]
    return BatchReport(ordered, write_mosaics(plan.out_dir, ordered), time.perf_counter() - started)


def embed_batch(
    sources: Sequence[str],
    out_dir: str | os.PathLike,
    options: RasterOptions,
    runner: Runner | None = None,
    feedback: Feedback | None = None,
) -> BatchReport:
    """Plan, embed (in this process unless a runner is given) and mosaic a batch of rasters."""
    started = time.perf_counter()
    feedback = ensure_feedback(feedback)
    plan = plan_batch(sources, out_dir, options)
    if runner is None:
        results = run_batch(plan, serial_runner(feedback), job_feedback=Feedback(is_cancelled=feedback.cancelled))
    else:
        results = run_batch(plan, runner)
    return finish_batch(plan, results, started)
