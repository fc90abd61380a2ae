"""The torch image encoder of an exported weights folder, rebuilt from its image_encoder.onnx initializers.

`training.export` folds the input normalisation into the graph and stores linear layers as transposed MatMul
constants, so the state dict is recovered by the nodes that use each constant: a MatMul named after its module
(`/stages.0/blocks/blocks.1/fc1/MatMul`) holds that Linear's weight transposed, and the two convolutions that read
the input hold the image half and the band-mask half of their weights in the order the graph sums them. The result
is checked by the caller against the ONNX graph itself (`training.reexport`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from model_core.runtime import IMAGE_ENCODER, read_card
from training.model import GeoMeldConfig, ImageEncoder

# The two input convolutions of InferenceImageEncoder, by the ONNX node that applies the image half of the weight.
_INPUT_CONVS = {"/Conv": "stem.0", "/Conv_1": "fullres.0"}


def _prefix_state(initializers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Named initializers (`encoder.<module>.<param>`) without the wrapper's prefix."""
    return {name[len("encoder.") :]: value for name, value in initializers.items() if name.startswith("encoder.")}


def _linear_weights(graph: onnx.GraphProto, initializers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Linear weights (out, in) from the MatMul nodes named after their modules."""
    weights = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.name.endswith("/MatMul") and node.input[1] in initializers:
            module = node.name.strip("/").removesuffix("/MatMul").replace("/blocks/", "/").replace("/", ".")
            weights[f"{module}.weight"] = initializers[node.input[1]].T
    return weights


def _input_conv_weights(graph: onnx.GraphProto, initializers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Input convolution weights (out, 2 * bands, kh, kw): the image half the Conv applies, then the mask half.

    The graph sums each half over its kernel (ReduceSum) to fold the normalisation and the constant band-mask
    channels into the bias; the mask half is the constant reduced right after the image half.
    """
    reduced = [node.input[0] for node in graph.node if node.op_type == "ReduceSum" and node.input[0] in initializers]
    weights = {}
    for node in graph.node:
        module = _INPUT_CONVS.get(node.name)
        if node.op_type == "Conv" and module is not None:
            image_half = node.input[1]
            mask_half = reduced[reduced.index(image_half) + 1]
            weights[f"{module}.weight"] = np.concatenate([initializers[image_half], initializers[mask_half]], axis=1)
    return weights


def image_encoder_from_onnx(weights_dir: Path) -> tuple[ImageEncoder, dict]:
    """The torch ImageEncoder (eval mode) whose inference graph is `weights_dir/image_encoder.onnx`, and its card.

    The card is read with its checksums verified; raises if the graph's constants do not fill the whole state dict.
    """
    card = read_card(weights_dir)
    config = GeoMeldConfig.from_dict(card["architecture"])
    graph = onnx.load(str(weights_dir / IMAGE_ENCODER)).graph
    initializers = {item.name: numpy_helper.to_array(item) for item in graph.initializer}
    state = {
        **_prefix_state(initializers),
        **_linear_weights(graph, initializers),
        **_input_conv_weights(graph, initializers),
        "mean": np.asarray(config.mean, dtype=np.float32).reshape(1, -1, 1, 1),
        "std": np.asarray(config.std, dtype=np.float32).reshape(1, -1, 1, 1),
    }
    encoder = ImageEncoder(config)
    expected = encoder.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise ValueError(f"'{weights_dir / IMAGE_ENCODER}' holds no weights for {', '.join(missing[:5])}")
    encoder.load_state_dict({key: torch.from_numpy(np.array(state[key], dtype=np.float32)) for key in expected})
    return encoder.eval(), card
