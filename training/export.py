"""Export GeoMeld-FM to ONNX with its tokenizer and model card: `python -m training.export --checkpoint CKPT --out DIR`.

The weights folder holds image_encoder.onnx, text_encoder.onnx, tokenizer.json and model_card.json (with the sha256
of every other file, checked by model_core.runtime before loading).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from model_core import __version__
from model_core.bands import MODEL_BANDS, S1_BANDS, S2_BANDS
from model_core.runtime import (
    CARD_NAME,
    CODE_SCALE,
    CODE_ZERO_POINT,
    IMAGE_ENCODER,
    TEXT_ENCODER,
    TOKENIZER,
    sha256_file,
)
from model_core.tokenizer import GLOSSARY, TextTokenizer
from training.model import (
    INPUT_MULTIPLE,
    GeoMeldConfig,
    GeoMeldFM,
    ImageEncoder,
    InferenceImageEncoder,
    build_model,
)

OPSET = 17
PARITY_TOLERANCE = 1e-4
# (row, col, height, width) of the kept window checked on the 96 x 160 parity sample: off the stride-4 grid.
PARITY_WINDOW = (13, 6, 70, 101)
DEFAULT_LICENCE = "CC-BY-SA-4.0 (trained on TerraMesh, CC-BY-SA)"
BAND_MEANING = {
    **{band: "Sentinel-2 reflectance as a fraction (digital number / 10000, L1C TOA or L2A BOA)" for band in S2_BANDS},
    **{band: "Sentinel-1 backscatter in dB (GRD/RTC)" for band in S1_BANDS},
}


def _onnx_export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], axes: dict) -> None:
    """Export `module` to ONNX. The transformer fast path (taken in eval mode when no parameter needs a gradient, as
    in a run whose text tower is locked) has no ONNX form, so it is switched off while exporting."""
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _declare_fullres_sum_shape(graph: onnx.GraphProto, channels: int) -> None:
    """Declare that the two summands of the full-resolution sum (upsampled context + full-resolution branch) have
    one shape, the output window's.

    Both sizes come from the `keep` input, so ONNX shape inference leaves them unknown; with the declaration ONNX
    Runtime adds the upsampled context inside the branch's last convolution instead of in a separate pass over the
    window (model about 10 % faster on a 896 px tile).
    """
    producers = {node.output[0]: node for node in graph.node}

    def is_linear_resize(name: str) -> bool:
        node = producers.get(name)
        return (
            node is not None
            and node.op_type == "Resize"
            and any(attribute.name == "mode" and attribute.s == b"linear" for attribute in node.attribute)
        )

    sums = [node for node in graph.node if node.op_type == "Add" and any(map(is_linear_resize, node.input))]
    if len(sums) != 1:
        raise RuntimeError(f"expected one sum with the upsampled context in the image graph, found {len(sums)}")
    shape = ["batch", channels, "window_height", "window_width"]
    for name in sums[0].input:
        graph.value_info.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape))


def _merge_window_slices(graph: onnx.GraphProto) -> None:
    """Cut each window in one Slice instead of one per axis: the exporter writes `x[:, :, a:b, c:d]` as a Slice of a
    Slice, and ONNX Runtime copies the image window twice (about 4 % of the model's time on a 1408 px tile)."""
    producers = {output: node for node in graph.node for output in node.output}
    uses = Counter(name for node in graph.node for name in node.input)
    for second in [node for node in graph.node if node.op_type == "Slice"]:
        first = producers.get(second.input[0])
        if first is None or first.op_type != "Slice" or uses[first.output[0]] != 1:
            continue
        if len(first.input) != 5 or len(second.input) != 5:  # the exporter gives starts, ends, axes and steps
            continue
        merged_inputs = [first.input[0]]
        nodes = []
        for index, part in enumerate(("starts", "ends", "axes", "steps"), start=1):
            name = f"{second.name}/{part}"
            parts = [first.input[index], second.input[index]]
            nodes.append(onnx.helper.make_node("Concat", parts, [name], name=name, axis=0))
            merged_inputs.append(name)
        nodes.append(onnx.helper.make_node("Slice", merged_inputs, list(second.output), name=second.name))
        position = list(graph.node).index(second)
        graph.node.remove(second)
        for offset, node in enumerate(nodes):
            graph.node.insert(position + offset, node)
        graph.node.remove(first)


def _add_codes_output(graph: onnx.GraphProto, channels: int) -> None:
    """Add the output `codes`: the dense embeddings quantised to bytes (QuantizeLinear, CODE_SCALE and
    CODE_ZERO_POINT), which the engine writes to int8 embedding rasters as they are."""
    graph.initializer.extend(
        [
            onnx.helper.make_tensor("codes_scale", onnx.TensorProto.FLOAT, [], [CODE_SCALE]),
            onnx.helper.make_tensor("codes_zero_point", onnx.TensorProto.UINT8, [], [CODE_ZERO_POINT]),
        ]
    )
    graph.node.append(onnx.helper.make_node("QuantizeLinear", ["dense", "codes_scale", "codes_zero_point"], ["codes"]))
    shape = ["batch", channels, "window_height", "window_width"]
    graph.output.append(onnx.helper.make_tensor_value_info("codes", onnx.TensorProto.UINT8, shape))


def export_image_encoder(encoder: ImageEncoder, path: Path) -> Path:
    """Write the inference graph of `encoder` (`InferenceImageEncoder`: inputs image, band_mask, keep; outputs
    dense, origin, codes) to `path`."""
    image, band_mask = _sample_image(encoder.config, 64, 64, seed=0)
    _onnx_export(
        InferenceImageEncoder(encoder.eval()),
        (image, band_mask, _full_window(image)),
        path,
        ["image", "band_mask", "keep"],
        ["dense", "origin"],
        {
            "image": {0: "batch", 2: "height", 3: "width"},
            "band_mask": {0: "batch"},
            "dense": {0: "batch", 2: "window_height", 3: "window_width"},
        },
    )
    graph_model = onnx.load(str(path))  # the exporter's graph, rewritten in place for ONNX Runtime
    _declare_fullres_sum_shape(graph_model.graph, encoder.config.embed_dim)
    _merge_window_slices(graph_model.graph)
    _add_codes_output(graph_model.graph, encoder.config.embed_dim)
    onnx.checker.check_model(graph_model)
    onnx.save(graph_model, str(path))
    return path


def _sample_image(config: GeoMeldConfig, height: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A plausible input around the normalisation statistics, with B10 and S1 absent."""
    generator = torch.Generator().manual_seed(seed)
    mean = torch.tensor(config.mean).view(1, -1, 1, 1)
    std = torch.tensor(config.std).view(1, -1, 1, 1)
    image = mean + std * torch.randn(2, config.in_channels, height, width, generator=generator)
    band_mask = torch.ones(2, config.in_channels)
    band_mask[1, MODEL_BANDS.index("B10")] = 0.0
    band_mask[1, len(MODEL_BANDS) - len(S1_BANDS) :] = 0.0
    return image, band_mask


def parity_sample(config: GeoMeldConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2 x 96 x 160 px sample that exported graphs are checked on (the second image lacks B10 and S1)."""
    return _sample_image(config, 96, 160, seed=1)


def _full_window(image: torch.Tensor) -> torch.Tensor:
    return torch.tensor([0, 0, image.shape[2], image.shape[3]], dtype=torch.int64)


def image_parity(encoder: ImageEncoder, path: Path) -> float:
    """Largest absolute difference between `encoder` in torch and the image graph at `path`; raises above 1e-4.

    The graph is compared on a whole sample and on a kept window that starts off the stride-4 grid; its byte codes
    (graphs exported before there were codes have none) must be the quantised dense embeddings within one step.
    """
    import onnxruntime as ort

    image, band_mask = parity_sample(encoder.config)
    with torch.no_grad():
        dense = encoder.eval()(image, band_mask)[0].numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"image": image.numpy(), "band_mask": band_mask.numpy()}
    whole, _, *codes = session.run(None, {**feeds, "keep": _full_window(image).numpy()})
    if codes and np.abs(codes[0] - (np.rint(whole / CODE_SCALE) + CODE_ZERO_POINT)).max() > 1:
        raise RuntimeError("the exported encoder's codes are not its quantised dense embeddings")
    top, left, height, width = PARITY_WINDOW
    window, (row, col) = session.run(["dense", "origin"], {**feeds, "keep": np.array(PARITY_WINDOW, dtype=np.int64)})
    kept = window[:, :, top - row : top - row + height, left - col : left - col + width]
    if min(row, col) < 0 or kept.shape[2:] != (height, width):
        raise RuntimeError(f"the exported encoder's window at {row},{col} does not hold the kept window")
    worst = max(
        float(np.abs(whole - dense).max()),
        float(np.abs(kept - dense[:, :, top : top + height, left : left + width]).max()),
    )
    _check_tolerance(worst)
    return worst


def _check_tolerance(worst: float) -> None:
    if worst > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX export differs from torch by {worst:.2e} (> {PARITY_TOLERANCE:g})")


def check_parity(model: GeoMeldFM, tokenizer: TextTokenizer, folder: Path) -> float:
    """Largest absolute difference between torch and ONNX Runtime outputs (image and text); raises above 1e-4."""
    import onnxruntime as ort

    tokens = torch.from_numpy(
        tokenizer.encode(["dense forest", "a river next to farmland"], model.config.context_length)
    )
    with torch.no_grad():
        text = model.text(tokens).numpy()
    session = ort.InferenceSession(str(folder / TEXT_ENCODER), providers=["CPUExecutionProvider"])
    (ort_text,) = session.run(None, {"tokens": tokens.numpy()})
    worst = float(np.abs(ort_text - text).max())
    _check_tolerance(worst)
    return max(image_parity(model.image, folder / IMAGE_ENCODER), worst)


def build_card(config: GeoMeldConfig, model: GeoMeldFM, card_extra: dict | None, files: dict[str, str]) -> dict:
    """The model card: architecture, bands, normalisation, licence, training/evaluation fields, file checksums."""
    card = {
        "name": "GeoMeld-FM",
        "version": __version__,
        "architecture": config.to_dict(),
        "bands": list(MODEL_BANDS),
        "band_meaning": BAND_MEANING,
        "normalisation": {
            "mean": list(config.mean),
            "std": list(config.std),
            "absent_bands": "set to the mean (0 after normalisation) and flagged by band_mask",
        },
        "input_multiple": INPUT_MULTIPLE,
        "output_stride": 1,
        "embedding_dim": config.embed_dim,
        # The multiplier of cosine similarities in the contrastive logits (exp of the learned log-scale).
        "logit_scale": float(model.logit_scale.detach().exp().item()),
        "licence": DEFAULT_LICENCE,
    }
    card.update(card_extra or {})
    card["files"] = files
    return card


def export_model(
    model: GeoMeldFM,
    config: GeoMeldConfig,
    tokenizer: TextTokenizer,
    out_dir: Path,
    card_extra: dict | None = None,
) -> Path:
    """Write image_encoder.onnx, text_encoder.onnx, tokenizer.json and model_card.json to out_dir (atomic per file)."""
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens but the text encoder only {config.vocab_size}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    staging = Path(tempfile.mkdtemp(prefix=".export.", dir=out_dir))
    try:
        export_image_encoder(model.image, staging / IMAGE_ENCODER)
        tokens = torch.from_numpy(tokenizer.encode(["forest", "a river"], config.context_length))
        _onnx_export(
            model.text, (tokens,), staging / TEXT_ENCODER, ["tokens"], ["text"], {"tokens": {0: "n"}, "text": {0: "n"}}
        )
        tokenizer.save(staging / TOKENIZER)
        check_parity(model, tokenizer, staging)
        files = {name: sha256_file(staging / name) for name in (IMAGE_ENCODER, TEXT_ENCODER, TOKENIZER)}
        card = build_card(config, model, card_extra, files)
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2), encoding="utf-8")
        # The card goes last: a folder whose files do not match its card is refused by the runtime.
        for name in (*files, CARD_NAME):
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def export_random(
    out_dir: Path, config: GeoMeldConfig | None = None, seed: int = 0, tokenizer: TextTokenizer | None = None
) -> Path:
    """Export a randomly initialised model (for tests before training, and the random-encoder baseline).

    `tokenizer` defaults to one trained on GLOSSARY.
    """
    torch.manual_seed(seed)
    tokenizer = tokenizer or TextTokenizer.train(GLOSSARY, vocab_size=4096)
    config = config or GeoMeldConfig()
    model = build_model(config)
    extra = {"training": {"status": "untrained: random weights for testing"}}
    return export_model(model, config, tokenizer, out_dir, extra)


def load_checkpoint(path: Path) -> tuple[GeoMeldFM, GeoMeldConfig, TextTokenizer, dict]:
    """Model, config, tokenizer and card fields from a training checkpoint (torch.load with weights_only)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    config = GeoMeldConfig.from_dict(checkpoint["config"])
    model = build_model(config)
    model.load_state_dict(checkpoint["model"])
    tokenizer = TextTokenizer.from_str(checkpoint["tokenizer"])
    return model, config, tokenizer, dict(checkpoint.get("card_extra") or {})


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="training checkpoint (.pt) to export")
    source.add_argument("--random", action="store_true", help="export a randomly initialised model (testing)")
    parser.add_argument("--out", type=Path, required=True, help="weights folder to write, e.g. resources/model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random model")
    parser.add_argument(
        "--glove-words", type=int, help="widen a GloVe text tower's vocabulary to this many words (exact, no training)"
    )
    args = parser.parse_args(argv)
    if args.random:
        folder = export_random(args.out, seed=args.seed)
    else:
        model, config, tokenizer, extra = load_checkpoint(args.checkpoint)
        if args.glove_words:
            from training.glove import widen_vocabulary

            model, tokenizer = widen_vocabulary(model, tokenizer, args.glove_words)
            config = model.config
        folder = export_model(model, config, tokenizer, args.out, extra)
    card = json.loads((folder / CARD_NAME).read_text(encoding="utf-8"))
    print(f"exported GeoMeld-FM {card['architecture']['variant']} (D={card['embedding_dim']}) to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
