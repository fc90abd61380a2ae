"""Command line: `python -m model_core <command>`. Each command lives in its own module with a `register` function.

Every refusal is one line `error: ...` on stderr with exit status 2: out-of-range options while parsing (see
`argtypes`), outputs that would overwrite an input or another output, or whose folder is missing or not writable,
before any work (each command declares its files with `declare_files`), and, while working, GeoMeld's own errors and
those of GDAL, the file system and damaged files (`errors.explain`). Only a bug shows a traceback. SIGTERM stops a
command like Ctrl+C: its temporary files are removed and nothing is written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..defaults import DEFAULT_TILE
from ..errors import DamagedCacheEntryError, explain
from ..feedback import Feedback
from ..io import SentinelRaster, open_raster
from ..outputs import FileGroup, check_outputs
from ..runtime import GeoMeldModel, load_model
from .argtypes import STRIDE, non_negative_int, positive_int, positive_number

if TYPE_CHECKING:
    from ..engine.context import EngineContext

TILE_SIZE_ENV = "GEOMELD_TILE_SIZE"
# Modules of model_core.cli, each exposing register(subparsers) -> None and setting `func` on its parser.
COMMAND_MODULES: tuple[str, ...] = (
    "info",
    "embed",
    "query",
    "zeroshot",
    "similar",
    "change",
    "probe",
    "segment",
    "vectorize",
    "cache",
    "batch",
    "zonal",
)


def add_raster_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads a Sentinel raster."""
    parser.add_argument(
        "--bands",
        help="band names in file order, e.g. B02,B03,B04,B08 (or a layout: l1c, l2a, eurosat); "
        "default: from band descriptions or the band count",
    )
    parser.add_argument(
        "--scale",
        type=positive_number,
        default=None,
        help="reflectance scale of the bands (default: detected; 10000 for most products, 1000 for x1000 ones)",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--weights, --threads and --tile, for every command that runs the model."""
    parser.add_argument("--weights", help="weights folder (default: $GEOMELD_WEIGHTS_DIR or the bundled weights)")
    parser.add_argument(
        "--threads", type=positive_int, default=None, help="CPU threads for ONNX Runtime (default: all)"
    )
    parser.add_argument(
        "--tile",
        type=positive_int,
        default=default_tile(),
        help=f"tile size of embedding runs in px (default: ${TILE_SIZE_ENV} or {DEFAULT_TILE})",
    )


def default_tile() -> int:
    """The default of --tile: $GEOMELD_TILE_SIZE when it holds a number of pixels, else DEFAULT_TILE."""
    value = os.environ.get(TILE_SIZE_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_TILE


def add_class_map_options(parser: argparse.ArgumentParser) -> None:
    """--smoothing, --mmu and --stride, with the model and raster options, for every command that writes a class
    raster from embeddings."""
    parser.add_argument(
        "--smoothing", type=non_negative_int, default=0, help="majority filter size in pixels (default off)"
    )
    parser.add_argument("--mmu", type=non_negative_int, default=0, help="minimum mapping unit in pixels (default off)")
    parser.add_argument("--stride", type=STRIDE, default=1, help="embedding stride, 1-16 (default 1)")
    add_model_options(parser)
    add_raster_options(parser)


def class_map_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of an engine function writing a class raster, from the options of `add_class_map_options`."""
    return {"smoothing": args.smoothing, "min_mapping_unit_px": args.mmu, "stride": args.stride}


def training_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of a probe's training from RASTER LABELS (classes or values) taken from the arguments."""
    return {"layer": args.layer, "stride": args.stride}


# A file argument: its name in the parsed arguments, and what gives the files its writer or reader adds beside it.
FileArgument = tuple[str, Callable[[Path], Sequence[Path]]]


def declare_files(
    parser: argparse.ArgumentParser,
    inputs: Sequence[str | FileArgument] = (),
    outputs: Sequence[str | FileArgument] = (),
) -> None:
    """Name the arguments holding a command's input and output files: before the command runs, `main` refuses an
    output that would overwrite an input or another output, or whose folder is missing or not writable."""
    parser.set_defaults(input_files=tuple(inputs), output_files=tuple(outputs))


def _file_groups(args: argparse.Namespace, arguments: Sequence[str | FileArgument]) -> Iterator[FileGroup]:
    """The files of the declared arguments (lists of paths give one group each)."""
    for argument in arguments:
        name, beside = (argument, None) if isinstance(argument, str) else argument
        value = getattr(args, name, None)
        for path in value if isinstance(value, list) else [value]:
            if path is not None:
                yield [Path(path), *(beside(Path(path)) if beside else ())]


def check_files(args: argparse.Namespace) -> None:
    """Refuse the declared outputs of a command that would lose data (see `declare_files`)."""
    outputs = list(_file_groups(args, getattr(args, "output_files", ())))
    if outputs:
        check_outputs(outputs, _file_groups(args, getattr(args, "input_files", ())))


class CommandLineParser(argparse.ArgumentParser):
    """argparse with its refusals as one line `error: ...` (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print the refusal and exit with status 2."""
        self.exit(2, f"error: {message}\n")


def raster_from_args(args: argparse.Namespace, path: str) -> SentinelRaster:
    """Open `path` with the --bands/--scale options of the command line; its notices go to stderr as warnings."""
    raster = open_raster(path, bands=args.bands, reflectance_scale=args.scale)
    for notice in raster.notices:
        warn(notice)
    return raster


def warn(message: str) -> None:
    """One line `warning: ...` on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def model_from_args(args: argparse.Namespace) -> GeoMeldModel:
    """Load the model with the --weights/--threads options of the command line; says which device runs it (and
    warns when ONNX Runtime could not use the one it was asked for)."""
    model = load_model(args.weights, threads=args.threads)
    print(f"device: {model.device}")
    if model.device_note:
        warn(model.device_note)
    return model


def context_from_args(
    args: argparse.Namespace, log: Callable[[str], None] = print, cached: bool = True
) -> EngineContext:
    """The engine context of a command: the model from --weights/--threads (see `model_from_args`), the default
    embedding cache ($GEOMELD_CACHE_DIR, else the user's cache folder; none unless `cached`), the --tile size, and
    the job's messages through `log`."""
    from ..engine.cache import EmbeddingCache
    from ..engine.context import EngineContext

    cache = EmbeddingCache() if cached else None
    return EngineContext(model_from_args(args), cache, args.tile, Feedback(log=log))


def raster_and_context(args: argparse.Namespace, path: str) -> tuple[SentinelRaster, EngineContext]:
    """The raster at `path` (see `raster_from_args`), then the engine context (see `context_from_args`): a raster
    GeoMeld cannot read is refused before the model loads."""
    raster = raster_from_args(args, path)
    return raster, context_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered command."""
    parser = CommandLineParser(prog="python -m model_core", description="GeoMeld-FM for Sentinel-2 rasters.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the command like Ctrl+C, so that its temporary files are removed."""


def _terminate(signum: int, frame: object) -> NoReturn:
    raise Terminated


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into Terminated while a command runs (in the main thread only; restored afterwards)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    """Run the command; once more when a cached embedding turned out damaged (it has been dropped, so it is
    recomputed)."""
    from ..engine.cache import holding_entries

    try:
        with holding_entries():
            return int(args.func(args) or 0)
    except DamagedCacheEntryError as exc:
        warn(str(exc))
        with holding_entries():
            return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run one command. A refusal or a failure that is not a bug prints one line on stderr and exits with status 2;
    a bug prints its traceback and exits with status 1."""
    with _terminate_cleanly():
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, or a refusal while parsing (printed already)
            return int(exc.code or 0)
        try:
            check_files(args)
            return _run(args)
        except (Terminated, KeyboardInterrupt) as exc:
            print("error: stopped before the end; no output was written.", file=sys.stderr)
            return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
        except Exception as exc:  # noqa: BLE001 - the one boundary between the engine and the user
            message = explain(exc)
            if message is None:
                traceback.print_exc()
                print(
                    "error: GeoMeld failed unexpectedly; this is a bug: please report it with the command and the "
                    "lines above.",
                    file=sys.stderr,
                )
                return 1
            print(f"error: {message}", file=sys.stderr)
            return 2
