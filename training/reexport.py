"""Re-export a weights folder's image encoder with the current inference graph: `python -m training.reexport DIR`.

For changes to how `InferenceImageEncoder` arranges the computation when the training checkpoint is not at hand:
the torch encoder is rebuilt from the folder's own image_encoder.onnx (`training.onnx_weights`), checked against
that graph, exported again and checked against the new graph. `--fold-grn 0,1` also folds the response
normalisation of those stages into the next layer (`training.model.fold_response_norms`), an approximation: the
new graph is compared with the old one on the parity sample and on the rasters given with `--check`, the
differences are added to the card's `inference_simplifications`, and a fold that leaves any pixel's embedding
with a cosine similarity under 0.999 to the old one is refused. The text encoder, the tokenizer and the other card
fields are kept. Files are replaced atomically, the card last.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model_core.io import Window, open_raster
from model_core.paths import BUNDLED_WEIGHTS_DIR
from model_core.runtime import CARD_NAME, IMAGE_ENCODER, pad_to_multiple, sha256_file
from training.export import export_image_encoder, image_parity, parity_sample
from training.model import INPUT_MULTIPLE, GeoMeldConfig, fold_response_norms
from training.onnx_weights import image_encoder_from_onnx
from training.publish import publish

# Every pixel's embedding from a folded graph keeps at least this cosine similarity to the trained graph's.
FOLD_MIN_COSINE = 0.999
CHECK_WINDOW = 512
# The card's list of approximations made after training, each with what it was measured against.
SIMPLIFICATIONS = "inference_simplifications"


def _check_images(config: GeoMeldConfig, rasters: Sequence[Path]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image (B, 15, h, w), band mask (B, 15)): the parity sample, then each raster's top-left 512 px."""
    image, band_mask = parity_sample(config)
    images = [("parity sample", image.numpy(), band_mask.numpy())]
    for path in rasters:
        raster = open_raster(path)
        window = Window(0, 0, min(raster.width, CHECK_WINDOW), min(raster.height, CHECK_WINDOW))
        image = pad_to_multiple(raster.read(window)[np.newaxis], INPUT_MULTIPLE)
        images.append((f"{path.parent.name}/{path.name}", image, raster.band_mask[np.newaxis].astype(np.float32)))
    return images


def graph_differences(
    old_graph: Path, new_graph: Path, images: Sequence[tuple[str, np.ndarray, np.ndarray]]
) -> dict[str, dict[str, float]]:
    """Per named image: largest and mean absolute difference, and least cosine similarity, of the unit embeddings
    that two image graphs give its pixels."""
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]) for path in (old_graph, new_graph)]
    differences = {}
    for name, image, band_mask in images:
        feeds = {"image": image, "band_mask": band_mask, "keep": np.array([0, 0, *image.shape[2:]], dtype=np.int64)}
        old, new = (session.run(["dense"], feeds)[0] for session in sessions)
        delta = np.abs(old - new)
        differences[name] = {
            "max": round(float(delta.max()), 5),
            "mean": round(float(delta.mean()), 6),
            "min_cosine": round(float((old * new).sum(axis=1).min()), 6),
        }
    return differences


def reexport(
    weights_dir: Path, out_dir: Path | None = None, fold: Sequence[int] = (), check: Sequence[Path] = ()
) -> tuple[float, float]:
    """Re-export the image encoder of `weights_dir` into `out_dir` (default: in place), folding GRN in `fold`.

    Returns (difference of the rebuilt torch encoder to the old graph, of the exported encoder to the new graph).
    """
    encoder, card = image_encoder_from_onnx(weights_dir)
    recovered = image_parity(encoder, weights_dir / IMAGE_ENCODER)
    if fold:
        encoder = fold_response_norms(encoder, fold)
        card = {**card, "architecture": encoder.config.to_dict()}
    with tempfile.TemporaryDirectory() as folder:  # the new folder is staged here, then published over the old
        staged = Path(shutil.copytree(weights_dir, Path(folder) / "staged"))
        graph = export_image_encoder(encoder, Path(folder) / IMAGE_ENCODER)
        exported = image_parity(encoder, graph)
        if fold:
            stages = sorted(set(fold))
            differences = graph_differences(staged / IMAGE_ENCODER, graph, _check_images(encoder.config, check))
            worst = min(entry["min_cosine"] for entry in differences.values())
            if worst < FOLD_MIN_COSINE:
                raise RuntimeError(
                    f"folding GRN of stages {stages} leaves an embedding at cosine {worst:.4f} to the old"
                )
            simplification = {
                "folded_grn_stages": stages,
                "command": "python -m training.reexport --fold-grn " + ",".join(map(str, stages)),
                "previous_image_encoder_sha256": card["files"][IMAGE_ENCODER],
                "difference_to_previous_graph": differences,
            }
            card[SIMPLIFICATIONS] = [*card.get(SIMPLIFICATIONS, []), simplification]
        os.replace(graph, staged / IMAGE_ENCODER)
        card["files"] = dict(card["files"], **{IMAGE_ENCODER: sha256_file(staged / IMAGE_ENCODER)})
        (staged / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        publish(staged, None, out_dir or weights_dir)  # verifies the checksums, writes the card last
    return recovered, exported


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.reexport", description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, nargs="?", default=BUNDLED_WEIGHTS_DIR, help="weights folder")
    parser.add_argument("--out", type=Path, help="folder to write (default: the weights folder itself)")
    parser.add_argument("--fold-grn", default="", help="stages (0-3) whose GRN to fold, e.g. 0,1")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="rasters to compare the graphs on")
    args = parser.parse_args(argv)
    fold = [int(stage) for stage in args.fold_grn.split(",") if stage.strip()]
    recovered, exported = reexport(args.weights, args.out, fold, args.check)
    print(
        f"re-exported {args.weights / IMAGE_ENCODER} -> {(args.out or args.weights) / IMAGE_ENCODER}: "
        f"torch vs old graph {recovered:.1e}, vs new graph {exported:.1e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
