"""ONNX Runtime inference: parity with torch on real patches, any input size, checksum refusal, text queries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from model_core.errors import ModelWeightsError, QueryInputError
from model_core.io import Window, open_raster
from model_core.runtime import CODE_SCALE, CODE_ZERO_POINT, get_model, load_model, pad_to_multiple, sha256_file
from model_core.tokenizer import GLOSSARY, TextTokenizer
from tests.conftest import REPO_ROOT, shared
from training.export import export_model
from training.export import main as export_main
from training.model import GeoMeldConfig, build_model

PATCHES = {
    "eurosat": ("eurosat_ms/River/River_1237.tif", "eurosat", None),
    "bigearthnet_v2": ("bigearthnet_v2_s2/patches/S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_37_89.tif", None, None),
    "terramesh_crop": ("terramesh_examples/S2L1C/282D_485L_3_3.tif", None, Window(40, 24, 160, 96)),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """A seeded torch model and the same model exported and loaded with ONNX Runtime."""
    torch.manual_seed(7)
    config = GeoMeldConfig()
    model = build_model(config).eval()
    tokenizer = TextTokenizer.train(GLOSSARY, vocab_size=1024)
    folder = export_model(model, config, tokenizer, tmp_path_factory.mktemp("exported"), {"training": {"test": True}})
    return model, load_model(folder, threads=2)


def _read(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    relative, bands, window = PATCHES[name]
    raster = open_raster(shared(relative), bands=bands)
    return raster.read(window), raster.band_mask, raster.valid_mask(window)


def _torch_dense(model, image: np.ndarray, band_mask: np.ndarray) -> np.ndarray:
    height, width = image.shape[-2:]
    padded = pad_to_multiple(image[None], 32)
    with torch.no_grad():
        dense, _ = model.image(torch.from_numpy(np.ascontiguousarray(padded)), torch.from_numpy(band_mask)[None])
    return dense.numpy()[:, :, :height, :width]


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_onnx_matches_torch_on_real_patches(exported, name):
    model, runtime = exported
    image, band_mask, _ = _read(name)
    ort_dense = runtime.embed_dense(image, band_mask)
    assert ort_dense.shape == (1, 64, *image.shape[-2:])
    assert ort_dense.dtype == np.float32
    assert np.abs(ort_dense - _torch_dense(model, image, band_mask)).max() <= 1e-4
    assert np.allclose(np.linalg.norm(ort_dense, axis=1), 1.0, atol=1e-4)


def test_pooled_matches_the_torch_pooled_output_when_all_pixels_are_valid(exported):
    model, runtime = exported
    image, band_mask, valid = _read("eurosat")  # 64 x 64: no padding
    assert valid.all()
    with torch.no_grad():
        _, pooled = model.image(torch.from_numpy(image)[None], torch.from_numpy(band_mask)[None])
    assert np.abs(runtime.embed_pooled(image, band_mask) - pooled.numpy()).max() <= 1e-4
    assert np.abs(runtime.embed_pooled(image, band_mask, valid) - pooled.numpy()).max() <= 1e-4


def test_pooled_uses_only_valid_pixels(geomeld_model):
    image, band_mask, _ = _read("bigearthnet_v2")
    valid = np.zeros(image.shape[-2:], dtype=bool)
    valid[:40, :50] = True
    dense = geomeld_model.embed_dense(image, band_mask)[0]
    expected = dense[:, valid].mean(axis=1)
    expected /= np.linalg.norm(expected)
    pooled = geomeld_model.embed_pooled(image, band_mask, valid)
    assert pooled.shape == (1, geomeld_model.embedding_dim)
    assert np.abs(pooled[0] - expected).max() <= 1e-5
    assert np.abs(pooled - geomeld_model.embed_pooled(image, band_mask)).max() > 1e-4


@pytest.mark.parametrize("size", [(64, 64), (96, 160), (37, 50)])
def test_dynamic_batch_and_size(geomeld_model, size):
    raster = open_raster(shared(PATCHES["terramesh_crop"][0]))  # the whole 224 x 224 chip
    image, band_mask = raster.read(), raster.band_mask
    height, width = size
    batch = np.stack([image[:, :height, :width], image[:, -height:, -width:]])
    dense = geomeld_model.embed_dense(batch, band_mask)
    assert dense.shape == (2, geomeld_model.embedding_dim, height, width)
    assert np.isfinite(dense).all()
    assert np.abs(dense[0] - dense[1]).max() > 1e-3
    single = geomeld_model.embed_dense(batch[1], band_mask)
    assert np.abs(single[0] - dense[1]).max() <= 1e-4


@pytest.mark.parametrize("keep", [(0, 0, 224, 224), (37, 61, 100, 77), (64, 64, 160, 160), (3, 0, 1, 224)])
def test_kept_window_is_the_same_part_of_the_whole_map(exported, keep):
    model, runtime = exported
    raster = open_raster(shared(PATCHES["terramesh_crop"][0]))
    image, band_mask = raster.read(), raster.band_mask
    row, col, height, width = keep
    whole = _torch_dense(model, image, band_mask)
    window = runtime.embed_dense(image, band_mask, keep)
    assert window.shape == (1, 64, height, width)
    assert np.abs(window - whole[:, :, row : row + height, col : col + width]).max() <= 1e-4


def test_byte_codes_are_the_quantised_embeddings(geomeld_model):
    image, band_mask, _ = _read("bigearthnet_v2")
    keep = (5, 9, 100, 90)
    dense = geomeld_model.embed_dense(image, band_mask, keep)
    codes = geomeld_model.embed_codes(image, band_mask, keep)
    assert codes.dtype == np.uint8 and codes.shape == dense.shape == (1, geomeld_model.embedding_dim, 100, 90)
    assert codes.min() >= 1  # 0 is left for nodata
    steps = np.abs(codes.astype(np.int16) - (np.rint(dense / CODE_SCALE) + CODE_ZERO_POINT))
    assert steps.max() <= 1 and np.count_nonzero(steps) <= 1e-4 * steps.size  # only at rounding ties
    assert np.abs((codes.astype(np.int16) - CODE_ZERO_POINT) * CODE_SCALE - dense).max() <= CODE_SCALE


@pytest.mark.parametrize("keep", [(-1, 0, 10, 10), (0, 0, 0, 10), (200, 0, 25, 10), (0, 215, 10, 10)])
def test_kept_window_outside_the_image_is_refused(geomeld_model, keep):
    image = open_raster(shared(PATCHES["terramesh_crop"][0])).read()
    with pytest.raises(ValueError, match="not inside the 224 x 224 image"):
        geomeld_model.embed_dense(image, np.ones(15, dtype=np.float32), keep)


def _copy(weights_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "weights"
    shutil.copytree(weights_dir, target)
    return target


def test_changed_byte_is_refused_naming_the_file(weights_dir, tmp_path):
    folder = _copy(weights_dir, tmp_path)
    path = folder / "image_encoder.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelWeightsError, match=r"'image_encoder\.onnx' does not match the checksum"):
        load_model(folder)


def test_truncated_file_is_refused_naming_the_file(weights_dir, tmp_path):
    folder = _copy(weights_dir, tmp_path)
    path = folder / "text_encoder.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelWeightsError, match=r"'text_encoder\.onnx' .*incomplete"):
        load_model(folder)


def test_missing_card_file_or_folder_is_refused(weights_dir, tmp_path):
    folder = _copy(weights_dir, tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelWeightsError, match=r"'tokenizer\.json' is missing"):
        load_model(folder)
    (folder / "model_card.json").unlink()
    with pytest.raises(ModelWeightsError, match="model_card.json"):
        load_model(folder)
    with pytest.raises(ModelWeightsError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def _resign_image_encoder(folder: Path) -> None:
    """Write the replaced image encoder's checksum into the card, so that only the graph itself is wrong."""
    card_path = folder / "model_card.json"
    card = json.loads(card_path.read_text())
    card["files"]["image_encoder.onnx"] = sha256_file(folder / "image_encoder.onnx")
    card_path.write_text(json.dumps(card))


def test_unloadable_onnx_with_matching_checksum_is_refused(weights_dir, tmp_path):
    folder = _copy(weights_dir, tmp_path)
    (folder / "image_encoder.onnx").write_bytes(b"not an onnx graph")
    _resign_image_encoder(folder)
    with pytest.raises(ModelWeightsError, match="ONNX Runtime cannot load 'image_encoder.onnx'"):
        load_model(folder)


def test_image_graph_without_the_kept_window_input_is_refused(weights_dir, tmp_path):
    """A graph of the plain torch encoder (image, band_mask -> dense, pooled), as older exports were."""
    folder = _copy(weights_dir, tmp_path)
    model = build_model(GeoMeldConfig()).eval()
    image, band_mask = torch.zeros(1, 15, 64, 64), torch.ones(1, 15)
    torch.onnx.export(model.image, (image, band_mask), str(folder / "image_encoder.onnx"), dynamo=False,
                      input_names=["image", "band_mask"], output_names=["dense", "pooled"])  # fmt: skip
    _resign_image_encoder(folder)
    with pytest.raises(ModelWeightsError, match="does not take the inputs image, band_mask, keep"):
        load_model(folder)


def test_image_graph_without_byte_codes_is_refused(weights_dir, tmp_path):
    """The graph as exported before it gave byte codes: same inputs, outputs dense and origin only."""
    folder = _copy(weights_dir, tmp_path)
    path = folder / "image_encoder.onnx"
    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    quantise = next(node for node in graph.node if "codes" in node.output)
    graph.node.remove(quantise)
    graph.output.remove(next(output for output in graph.output if output.name == "codes"))
    onnx.save(graph_model, str(path))
    _resign_image_encoder(folder)
    with pytest.raises(ModelWeightsError, match="give the outputs dense, origin, codes"):
        load_model(folder)


def test_card_and_identity(geomeld_model, weights_dir):
    card = geomeld_model.card
    assert card["name"] == "GeoMeld-FM"
    assert card["bands"][:4] == ["B01", "B02", "B03", "B04"] and card["bands"][-2:] == ["VV", "VH"]
    assert card["input_multiple"] == geomeld_model.input_multiple == 32
    assert geomeld_model.model_id == sha256_file(Path(weights_dir) / "image_encoder.onnx")
    assert geomeld_model.logit_scale > 1.0
    assert get_model(weights_dir, threads=1) is get_model(str(weights_dir) + "/", threads=1)


def test_text_embeddings_are_unit_vectors_and_distinguish_queries(geomeld_model):
    texts = ["a river", "dense forest", "A RIVER"]
    embeddings = geomeld_model.embed_text(texts)
    assert embeddings.shape == (3, geomeld_model.embedding_dim)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert np.abs(embeddings[0] - embeddings[2]).max() <= 1e-5  # lower-case normalisation
    assert np.abs(embeddings[0] - embeddings[1]).max() > 1e-3


@pytest.mark.parametrize("text", ["", "   ", "forest " * 40])
def test_empty_or_too_long_text_is_refused(geomeld_model, text):
    with pytest.raises(QueryInputError):
        geomeld_model.embed_text(["a river", text])


def test_tokenizer_round_trip_and_layout(geomeld_model, tmp_path):
    tokenizer = geomeld_model.tokenizer
    path = tokenizer.save(tmp_path / "tokenizer.json")
    again = TextTokenizer.load(path)
    tokens = again.encode(["Salt marshes near the coast"], 32)
    assert np.array_equal(tokens, tokenizer.encode(["salt marshes near the coast"], 32))
    length = int((tokens[0] != 0).sum())
    assert tokens[0, 0] == again.start_id and tokens[0, length - 1] == again.end_id
    assert not tokens[0, length:].any()
    assert again.vocab_size == tokenizer.vocab_size


def test_tokenizer_training_gives_the_same_tokenizer_in_every_process():
    """The tokenizers library assigns continuation pieces in hash-map order, which differs between processes."""
    script = (
        "from model_core.tokenizer import GLOSSARY, TextTokenizer; "
        "tokenizer = TextTokenizer.train(GLOSSARY * 2 + ['flooded fields near a pine forest'], vocab_size=512); "
        "print(tokenizer.to_str())"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
        for _ in range(3)
    ]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    document = json.loads(runs[0].stdout)
    assert [token["content"] for token in document["added_tokens"]] == ["[PAD]", "[UNK]", "[SOS]", "[EOS]"]
    assert "##q" in document["model"]["vocab"]  # continuation pieces are ordinary vocabulary


def test_export_command_from_checkpoint(tmp_path):
    torch.manual_seed(3)
    config = GeoMeldConfig(embed_dim=32)
    model = build_model(config).eval()
    tokenizer = TextTokenizer.train(GLOSSARY, vocab_size=512)
    checkpoint = tmp_path / "checkpoint.pt"
    extra = {"training": {"epochs": 1}, "evaluation": {"eurosat_linear_probe": 0.5}}
    torch.save(
        {"config": config.to_dict(), "model": model.state_dict(), "tokenizer": tokenizer.to_str(), "card_extra": extra},
        checkpoint,
    )
    assert export_main(["--checkpoint", str(checkpoint), "--out", str(tmp_path / "model")]) == 0
    runtime = load_model(tmp_path / "model")
    assert runtime.embedding_dim == 32
    assert runtime.card["evaluation"] == extra["evaluation"] and runtime.card["licence"].startswith("CC-BY-SA-4.0")
    assert sorted(runtime.card["files"]) == ["image_encoder.onnx", "text_encoder.onnx", "tokenizer.json"]
    assert not [p.name for p in (tmp_path / "model").iterdir() if p.name.startswith(".")]
    image, band_mask, _ = _read("eurosat")
    assert np.abs(runtime.embed_dense(image, band_mask) - _torch_dense(model, image, band_mask)).max() <= 1e-4
