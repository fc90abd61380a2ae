"""`embed`: pooled image embeddings of rasters, text embeddings, or a per-pixel embedding raster.

python -m model_core embed A.tif B.tif --pooled --out images.npz
python -m model_core embed --text "a river" --text "dense forest" --out texts.npz
python -m model_core embed scene.tif --out scene_embedding.tif [--stride 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..defaults import ENCODINGS
from ..errors import GeoMeldError
from ..feedback import Feedback
from ..io import SentinelRaster, Window
from ..runtime import GeoMeldModel
from . import add_model_options, add_raster_options, declare_files, model_from_args, raster_from_args
from .argtypes import STRIDE

POOLING_TILE = 512
RASTER_SUFFIXES = (".tif", ".tiff")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `embed` command."""
    parser = subparsers.add_parser(
        "embed",
        help="embed rasters (pooled, or per pixel into a GeoTIFF) or text queries with GeoMeld-FM",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("rasters", nargs="*", metavar="RASTER", help="Sentinel-2 raster(s) to embed")
    parser.add_argument("--text", action="append", default=[], help="a text query to embed (repeatable)")
    parser.add_argument("--pooled", action="store_true", help="one embedding per raster (mean over valid pixels)")
    parser.add_argument("--out", required=True, help="output: .npz for --pooled/--text, .tif for per-pixel embeddings")
    parser.add_argument("--stride", type=STRIDE, default=1, help="per-pixel output: one embedding every N pixels")
    parser.add_argument(
        "--encoding", choices=ENCODINGS, default=ENCODINGS[0], help="per-pixel output: storage of the values"
    )
    parser.add_argument("--pca", help="per-pixel output: also write a PCA colour preview (RGB GeoTIFF)")
    add_model_options(parser)
    add_raster_options(parser)
    declare_files(parser, inputs=["rasters"], outputs=["out", "pca"])
    parser.set_defaults(func=run)


def pooled_embedding(raster: SentinelRaster, model: GeoMeldModel, tile: int = POOLING_TILE) -> tuple[np.ndarray, int]:
    """Unit embedding (D,) of a whole raster (mean of the per-pixel embeddings over valid pixels), and that count."""
    total = np.zeros(model.embedding_dim, dtype=np.float64)
    count = 0
    for row in range(0, raster.height, tile):
        for col in range(0, raster.width, tile):
            window = Window(col, row, min(tile, raster.width - col), min(tile, raster.height - row))
            valid = raster.valid_mask(window)
            if not valid.any():
                continue
            dense = model.embed_dense(raster.read(window), raster.band_mask)[0]
            total += dense[:, valid].sum(axis=1)
            count += int(valid.sum())
    return (total / max(np.linalg.norm(total), 1e-12)).astype(np.float32), count


def save_npz(path: Path, **arrays: np.ndarray) -> Path:
    """Write an npz atomically (temporary file in the same folder, then rename)."""
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def _check_arguments(args: argparse.Namespace, out: Path) -> None:
    if args.text and args.rasters:
        raise GeoMeldError("Give either rasters or --text queries, not both.")
    if not args.text and not args.rasters:
        raise GeoMeldError("Nothing to embed: give one or more rasters, or --text queries.")
    per_pixel = bool(args.rasters) and not args.pooled
    if per_pixel and (len(args.rasters) != 1 or out.suffix.lower() not in RASTER_SUFFIXES):
        raise GeoMeldError("Per-pixel embeddings need one raster and a .tif output; use --pooled for an .npz.")
    if not per_pixel and out.suffix.lower() != ".npz":
        raise GeoMeldError(f"'{out.name}': pooled and text embeddings are written as .npz.")
    if args.pca and not per_pixel:
        raise GeoMeldError("A PCA preview (--pca) needs a per-pixel embedding raster (one raster, a .tif output).")


def _embed_per_pixel(args: argparse.Namespace, raster: SentinelRaster, model: GeoMeldModel, out: Path) -> None:
    try:
        from ..engine.context import EngineContext
        from ..engine.embedding import embed_raster
    except ImportError:
        raise GeoMeldError("Per-pixel embedding rasters need model_core.engine, which is not installed.") from None
    context = EngineContext(model, tile_size=args.tile, feedback=Feedback(log=print))  # written to `out` only
    result = embed_raster(raster, context, out, stride=args.stride, encoding=args.encoding)
    print(f"wrote {result.width} x {result.height} x {result.dim} embeddings ({args.encoding}) to {result.path}")
    if args.pca:
        from ..engine.pca import pca_preview

        print(f"wrote PCA preview {pca_preview(result.path, args.pca)}")


def run(args: argparse.Namespace) -> int:
    """Embed and write the output file."""
    out = Path(args.out)
    _check_arguments(args, out)
    rasters = [raster_from_args(args, path) for path in args.rasters]
    model = model_from_args(args)
    if args.text:
        embeddings = model.embed_text(args.text)
        save_npz(out, texts=np.array(args.text, dtype=str), embeddings=embeddings)
        print(f"wrote {len(args.text)} text embeddings (D={model.embedding_dim}) to {out}")
        return 0
    if not args.pooled:
        _embed_per_pixel(args, rasters[0], model, out)
        return 0
    rows = []
    for raster in rasters:
        embedding, count = pooled_embedding(raster, model)
        rows.append(embedding)
        print(f"{raster.path}: {raster.width} x {raster.height} px, {count} valid, bands {','.join(raster.band_names)}")
    save_npz(out, paths=np.array(args.rasters, dtype=str), embeddings=np.stack(rows))
    print(f"wrote {len(rows)} pooled embeddings (D={model.embedding_dim}) to {out}")
    return 0
