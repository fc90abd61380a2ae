"""Response normalisation, its folding, and re-exporting a weights folder from its own ONNX graph."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - conventional alias

from model_core.io import Window, open_raster
from model_core.runtime import CARD_NAME, IMAGE_ENCODER, load_model, read_card, sha256_file
from tests.conftest import shared
from training.export import image_parity
from training.model import GeoMeldConfig, GlobalResponseNorm, ImageEncoder, fold_response_norms
from training.onnx_weights import image_encoder_from_onnx
from training.reexport import FOLD_MIN_COSINE, SIMPLIFICATIONS, reexport


def _randomised(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """`module` with every parameter drawn at random (GRN's gamma and beta start at zero, which hides them)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    return module.eval()


class _MeanResponse(torch.nn.Module):
    """A GRN with nx set to 1: the affine map that folding puts into the next layer."""

    def __init__(self, grn: GlobalResponseNorm) -> None:
        super().__init__()
        self.gamma, self.beta = grn.gamma, grn.beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x * (1 + gamma) + beta."""
        return x * (1.0 + self.gamma) + self.beta


def test_response_norm_takes_the_mean_energy_of_the_clipped_7x7_window():
    grn = _randomised(GlobalResponseNorm(24))
    x = torch.randn(2, 19, 23, 24)
    energy = F.avg_pool2d((x * x).permute(0, 3, 1, 2), 7, stride=1, padding=3, count_include_pad=False)
    gx = energy.permute(0, 2, 3, 1).add(grn.eps).sqrt()
    expected = x + grn.gamma * (x * gx / (gx.mean(dim=-1, keepdim=True) + grn.eps)) + grn.beta
    with torch.no_grad():
        assert torch.allclose(grn(x), expected, atol=1e-6)


def test_folding_replaces_each_response_norm_by_its_channel_mean_response():
    encoder = _randomised(ImageEncoder(GeoMeldConfig()))
    folded = fold_response_norms(encoder, [0, 2])
    assert folded.config.grn_stages == (False, True, False, True)
    assert not any(".grn." in name for name in folded.stages[0].state_dict())
    assert fold_response_norms(folded, [0]).config == folded.config  # already folded: nothing changes
    block, folded_block = encoder.stages[2].blocks[1], folded.stages[2].blocks[1]
    x = torch.randn(1, 160, 9, 11)
    with torch.no_grad():
        grn = block.grn
        block.grn = _MeanResponse(grn)
        expected = block(x)
        block.grn = grn
        assert torch.allclose(folded_block(x), expected, atol=1e-5)
        assert not torch.allclose(block(x), expected, atol=1e-3)  # the real GRN differs: the fold is an approximation
        unfolded = encoder.stages[1].blocks[0]
        assert torch.equal(folded.stages[1].blocks[0](x[:, :80]), unfolded(x[:, :80]))


def test_bundled_encoder_is_rebuilt_from_its_graph(weights_dir):
    encoder, card = image_encoder_from_onnx(weights_dir)
    assert encoder.config == GeoMeldConfig.from_dict(card["architecture"])
    assert image_parity(encoder, weights_dir / IMAGE_ENCODER) < 1e-5


def test_bundled_card_records_the_folded_stages_and_their_measured_difference(weights_dir):
    card = read_card(weights_dir)
    simplifications = card.get(SIMPLIFICATIONS)
    if not simplifications:
        pytest.skip("the weights folder has no folded response norms")
    folded = {stage for entry in simplifications for stage in entry["folded_grn_stages"]}
    assert [not on for on in card["architecture"]["grn_stages"]] == [stage in folded for stage in range(4)]
    for entry in simplifications:
        differences = entry["difference_to_previous_graph"]
        assert len(differences) >= 3 and len(entry["previous_image_encoder_sha256"]) == 64
        assert min(value["min_cosine"] for value in differences.values()) >= FOLD_MIN_COSINE


@pytest.fixture(scope="module")
def reexported(weights_dir, tmp_path_factory) -> tuple:
    """The bundled weights re-exported with the current graph: (folder, recovered difference, exported difference)."""
    out = tmp_path_factory.mktemp("reexported")
    return (out, *reexport(weights_dir, out))


def test_reexport_keeps_the_function_and_the_other_files(weights_dir, reexported):
    out, recovered, exported = reexported
    assert recovered < 1e-5 and exported < 1e-4
    old_card, new_card = read_card(weights_dir), read_card(out)  # read_card verifies every checksum
    assert {key: value for key, value in new_card.items() if key != "files"} == {
        key: value for key, value in old_card.items() if key != "files"
    }
    for name in new_card["files"]:
        if name != IMAGE_ENCODER:
            assert sha256_file(out / name) == sha256_file(weights_dir / name)
    raster = open_raster(shared("sen1floods11_sample/S2/Spain_7370579_S2Hand.tif"))
    image = raster.read(Window(64, 32, 224, 192))
    old = load_model(weights_dir).embed_dense(image, raster.band_mask)
    new = load_model(out).embed_dense(image, raster.band_mask)
    assert np.abs(old - new).max() < 1e-4


def test_the_exported_graph_scales_the_image_once_and_cuts_each_window_in_one_slice(reexported):
    nodes = onnx.load(str(reexported[0] / IMAGE_ENCODER)).graph.node
    producers = {output: node for node in nodes for output in node.output}
    assert [node.op_type for node in nodes if "image" in node.input] == ["Mul"]
    slices = [node for node in nodes if node.op_type == "Slice" and node.input[0] != "keep"]
    assert len(slices) == 2  # the image window and the context window
    assert all(producers[node.input[0]].op_type != "Slice" for node in slices)


def test_a_fold_that_changes_the_embeddings_is_refused_and_writes_nothing(weights_dir, tmp_path):
    out = tmp_path / "weights"
    shutil.copytree(weights_dir, out)
    before = {path.name: sha256_file(path) for path in out.iterdir()}
    with pytest.raises(RuntimeError, match="cosine"):
        reexport(out, fold=[3], check=[shared("terramesh_examples/S2L1C/433D_629L_3_1.tif")])
    assert {path.name: sha256_file(path) for path in out.iterdir()} == before
    assert json.loads((out / CARD_NAME).read_text(encoding="utf-8"))["files"][IMAGE_ENCODER] == before[IMAGE_ENCODER]
