"""GeoMeld-FM inference with ONNX Runtime (no torch): checksum-verified weights, dense/pooled/text embeddings."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .devices import CPU, PROVIDERS, device_name, fallback_note
from .errors import ModelWeightsError
from .paths import BUNDLED_WEIGHTS_DIR
from .tokenizer import TextTokenizer

CARD_NAME = "model_card.json"
IMAGE_ENCODER = "image_encoder.onnx"
TEXT_ENCODER = "text_encoder.onnx"
TOKENIZER = "tokenizer.json"
IMAGE_INPUTS: tuple[str, ...] = ("image", "band_mask", "keep")
IMAGE_OUTPUTS: tuple[str, ...] = ("dense", "origin", "codes")
# The image graph's `codes` are its embeddings as bytes, round(value / CODE_SCALE) + CODE_ZERO_POINT: unit vectors'
# components map to 1..255, so 0 is free to mark nodata.
CODE_SCALE = 1.0 / 127.0
CODE_ZERO_POINT = 128
REQUIRED_FILES: tuple[str, ...] = (IMAGE_ENCODER, TEXT_ENCODER, TOKENIZER)
REINSTALL_HINT = "reinstall the plugin or choose the original weights folder"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights_dir() -> Path:
    """$GEOMELD_WEIGHTS_DIR if set, else the weights bundled with the plugin."""
    configured = os.environ.get("GEOMELD_WEIGHTS_DIR")
    return Path(configured) if configured else BUNDLED_WEIGHTS_DIR


def default_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, then CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [p for p in (PROVIDERS["CUDA"], PROVIDERS[CPU]) if p in available]


def read_card(weights_dir: Path) -> dict:
    """The model card of a weights folder, with its file checksums verified."""
    if not weights_dir.is_dir():
        raise ModelWeightsError(f"The GeoMeld weights folder '{weights_dir}' does not exist; {REINSTALL_HINT}.")
    card_path = weights_dir / CARD_NAME
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelWeightsError(f"'{weights_dir}' holds no {CARD_NAME}: it is not a GeoMeld weights folder.") from None
    except (OSError, ValueError) as exc:
        raise ModelWeightsError(f"{CARD_NAME} in '{weights_dir}' cannot be read ({exc}); {REINSTALL_HINT}.") from None
    files = card.get("files") if isinstance(card, dict) else None
    if not isinstance(files, dict) or any(name not in files for name in REQUIRED_FILES):
        raise ModelWeightsError(f"{CARD_NAME} in '{weights_dir}' does not list the model files; {REINSTALL_HINT}.")
    for name, expected in files.items():
        path = weights_dir / name
        if not path.is_file():
            raise ModelWeightsError(f"'{name}' is missing from '{weights_dir}'; {REINSTALL_HINT}.")
        if sha256_file(path) != expected:
            raise ModelWeightsError(
                f"'{name}' does not match the checksum in {CARD_NAME}: the file was changed or is incomplete; "
                f"{REINSTALL_HINT}."
            )
    return card


def _session(path: Path, providers: Sequence[str], threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Memory patterns pre-plan one arena block for every intermediate tensor: 1.5 GB instead of 0.9 GB for a 768 px
    # tile, at the same speed.
    options.enable_mem_pattern = False
    # Idle ONNX Runtime threads sleep instead of spinning: the engine reads and writes tiles on other threads of the
    # same cores (6-7 % faster end to end on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own exception types for invalid or unsupported graphs
        raise ModelWeightsError(f"ONNX Runtime cannot load '{path.name}' ({exc}); {REINSTALL_HINT}.") from None


def _as_batch(image: np.ndarray, band_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image, dtype=np.float32)
    band_mask = np.asarray(band_mask, dtype=np.float32)
    if image.ndim == 3:
        image = image[np.newaxis]
    if band_mask.ndim == 1:
        band_mask = np.broadcast_to(band_mask, (image.shape[0], band_mask.shape[0]))
    if image.ndim != 4 or band_mask.shape != image.shape[:2]:
        raise ValueError(f"image (B, C, H, W) and band_mask (B, C) do not match: {image.shape} vs {band_mask.shape}")
    return image, np.ascontiguousarray(band_mask)


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the last two axes of (B, C, H, W) up to multiples of `multiple` (bottom and right)."""
    height, width = image.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if not pad_h and not pad_w:
        return image
    mode = "reflect" if height > 1 and width > 1 else "edge"
    return np.pad(image, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode=mode)


class GeoMeldModel:
    """The exported GeoMeld-FM: image and text ONNX sessions, tokenizer and model card."""

    def __init__(self, weights_dir: Path, providers: Sequence[str], threads: int | None = None) -> None:
        self.weights_dir = weights_dir
        self.card: dict = read_card(weights_dir)
        self.providers = list(providers)
        self.model_id: str = self.card["files"][IMAGE_ENCODER]
        self.tokenizer = TextTokenizer.load(weights_dir / TOKENIZER)
        self._image = _session(weights_dir / IMAGE_ENCODER, self.providers, threads)
        self._text = _session(weights_dir / TEXT_ENCODER, self.providers, threads)
        used = self._image.get_providers()
        # What runs the image encoder, and a sentence when it is not the device asked for (never swapped silently).
        self.device: str = device_name(used[0])
        self.device_note: str = fallback_note(self.providers, used)
        inputs = [node.name for node in self._image.get_inputs()]
        outputs = [node.name for node in self._image.get_outputs()]
        if inputs != list(IMAGE_INPUTS) or outputs != list(IMAGE_OUTPUTS):
            raise ModelWeightsError(
                f"'{IMAGE_ENCODER}' in '{weights_dir}' does not take the inputs {', '.join(IMAGE_INPUTS)} and give "
                f"the outputs {', '.join(IMAGE_OUTPUTS)}: it was exported by another version of GeoMeld; "
                f"{REINSTALL_HINT}."
            )
        self.embedding_dim: int = int(self.card["embedding_dim"])
        self.input_multiple: int = int(self.card.get("input_multiple", 32))
        self.logit_scale: float = float(self.card["logit_scale"])
        self.context_length: int = int(self.card["architecture"]["context_length"])

    def embed_dense(
        self, image: np.ndarray, band_mask: np.ndarray, keep: tuple[int, int, int, int] | None = None
    ) -> np.ndarray:
        """Per-pixel unit embeddings (B, D, h, w) float32 of (15, H, W) or (B, 15, H, W) raw values, any size.

        `keep` = (row, col, height, width) limits the output to that window of the image (a view into a slightly larger
        array); the whole image still gives the window its context. Default: the whole image.
        """
        return self._run_image("dense", image, band_mask, keep)

    def embed_codes(
        self, image: np.ndarray, band_mask: np.ndarray, keep: tuple[int, int, int, int] | None = None
    ) -> np.ndarray:
        """`embed_dense` as bytes (B, D, h, w) uint8, round(value / CODE_SCALE) + CODE_ZERO_POINT, quantised by the
        graph (on all its threads, about a quarter of the CPU time of the same in numpy)."""
        return self._run_image("codes", image, band_mask, keep)

    def _run_image(
        self, output: str, image: np.ndarray, band_mask: np.ndarray, keep: tuple[int, int, int, int] | None
    ) -> np.ndarray:
        """One output of the image graph, cut to the `keep` window."""
        image, band_mask = _as_batch(image, band_mask)
        row, col, height, width = keep or (0, 0, *image.shape[-2:])
        image_height, image_width = image.shape[-2:]
        if min(row, col) < 0 or min(height, width) < 1 or row + height > image_height or col + width > image_width:
            raise ValueError(f"keep window {keep} is not inside the {image_height} x {image_width} image")
        feeds = {
            "image": np.ascontiguousarray(pad_to_multiple(image, self.input_multiple)),
            "band_mask": band_mask,
            "keep": np.array([row, col, height, width], dtype=np.int64),
        }
        values, (window_row, window_col) = self._image.run([output, "origin"], feeds)
        top, left = row - int(window_row), col - int(window_col)
        return values[:, :, top : top + height, left : left + width]

    def embed_pooled(self, image: np.ndarray, band_mask: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        """Unit image embeddings (B, D): the normalised mean of the dense map over valid (B, H, W or H, W) pixels."""
        dense = self.embed_dense(image, band_mask)
        if valid is None:
            summed = dense.sum(axis=(2, 3))
        else:
            weights = np.broadcast_to(np.asarray(valid, dtype=np.float32), (dense.shape[0], *dense.shape[2:]))
            summed = np.einsum("bdhw,bhw->bd", dense, weights)
        norm = np.linalg.norm(summed, axis=1, keepdims=True)
        return (summed / np.maximum(norm, 1e-12)).astype(np.float32)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Unit text embeddings (N, D) for a list of queries."""
        tokens = self.tokenizer.encode(texts, self.context_length)
        return self._text.run(["text"], {"tokens": tokens})[0].astype(np.float32)


def load_model(
    weights_dir: str | Path | None = None, providers: Sequence[str] | None = None, threads: int | None = None
) -> GeoMeldModel:
    """Load GeoMeld-FM from a weights folder (default: $GEOMELD_WEIGHTS_DIR or the bundled weights)."""
    folder = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    return GeoMeldModel(folder, providers or default_providers(), threads)


@functools.lru_cache(maxsize=4)
def _cached_model(folder: str, providers: tuple[str, ...], threads: int | None) -> GeoMeldModel:
    return load_model(folder, providers, threads)


def get_model(
    weights_dir: str | Path | None = None, providers: Sequence[str] | None = None, threads: int | None = None
) -> GeoMeldModel:
    """Like load_model, but reuses the sessions of an earlier call with the same folder, providers and threads."""
    folder = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    return _cached_model(str(folder.resolve()), tuple(providers or default_providers()), threads)
