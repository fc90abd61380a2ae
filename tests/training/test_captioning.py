"""Agentic captioning on real samples: facts, verification of claims, evaluation and the JSONL records."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared
from training.captioning.captioner import TemplateCaptioner
from training.captioning.evaluator import diversity, score, select
from training.captioning.orchestrator import Orchestrator, gather_facts
from training.captioning.pipeline import caption_pack, rejection_stats, summary_text
from training.captioning.verifier import parse_claims, verify
from training.data.eurosat import EuroSATMS
from training.data.pack import SourcePlan, pack
from training.data.terramesh import TerraMesh


def eurosat_sample(label: str, split: str = "train"):
    shared("eurosat_ms/manifest.csv")
    dataset = EuroSATMS(split=split)
    return dataset.load(next(item for item in dataset.items if item["label"] == label))


@pytest.fixture(scope="module")
def forest():
    return gather_facts(eurosat_sample("Forest"))


@pytest.fixture(scope="module")
def sealake():
    return gather_facts(eurosat_sample("SeaLake"))


def test_eurosat_facts_water_and_vegetation(forest, sealake):
    assert sealake.water_fraction_optical > 0.7 and sealake.ndvi_mean < 0.1 and sealake.mndwi_mean > 0.3
    assert forest.ndvi_mean > 0.5 and forest.dense_vegetation_fraction > 0.6
    assert forest.water_fraction_optical < 0.01 and forest.landcover == {"trees": 1.0}
    assert forest.landcover_source == "labels" and forest.region is not None and forest.date is None


def test_terramesh_facts_use_lulc_dem_and_radar():
    shared("terramesh_examples/S2L1C")
    samples = {s["meta"]["id"].split("/")[0]: s for s in TerraMesh(split="train", views=("S2L1C",))}
    snow = gather_facts(samples["609U_541L_3_0"])  # Hudson Bay, January, snow only
    assert snow.landcover_source == "lulc" and snow.landcover == {"snow": 1.0}
    assert snow.snow_fraction > 0.5 and snow.season == "winter" and snow.region == "subarctic Canada"
    assert snow.water_fraction_s1 is not None and snow.slope_class == "flat" and snow.relief < 40
    denmark = gather_facts(samples["637U_59R_1_3"])
    assert denmark.dominant(0.5) == ["crops"] and denmark.season == "autumn" and denmark.elevation_mean < 50
    chile = gather_facts(samples["433D_629L_3_1"])
    assert chile.relief > denmark.relief and chile.season == "autumn"  # southern hemisphere April


def test_verification_rejects_water_on_dry_patch_and_keeps_forest(forest, sealake):
    dry = verify("A Sentinel-2 image of dense forest with a small lake.", forest)
    assert not dry.accepted and dry.claims == ["water", "forest"]
    assert dry.reasons[0].startswith("water:")
    assert verify("Dense coniferous forest seen from Sentinel-2.", forest).accepted
    assert verify("A wide body of open water.", sealake).accepted
    assert not verify("Farmland next to a town.", sealake).accepted
    assert not verify("Dense forest in summer.", forest).accepted  # EuroSAT has no acquisition date
    assert not verify("Forest on steep mountains.", forest).accepted  # no DEM, no terrain claim
    assert parse_claims("gently rolling farmland") == ["crops", "hilly"]


def test_validation_labels_never_reach_facts():
    sample = eurosat_sample("Forest", split="val")
    facts = gather_facts(sample)
    assert sample["labels"] == ["Forest"] and facts.labels == [] and facts.landcover_source == "none"
    assert not verify("Dense forest.", facts).accepted  # the val label cannot support a claim
    assert verify("Dense green vegetation.", facts).accepted


def test_captioner_and_evaluator(forest):
    captions = TemplateCaptioner().generate(forest, 8, seed=0)
    assert len(captions) == len(set(captions)) >= 4
    assert captions == TemplateCaptioner().generate(forest, 8, seed=0)
    accepted = [c for c in captions if verify(c, forest).accepted]
    chosen = select(accepted, forest, 3)
    assert 1 <= len(chosen) <= 3
    assert all("forest" in parse_claims(c) for c, _ in chosen)
    assert score("Dense forest.", forest)["coverage"] == 1.0 > score("A small village.", forest)["coverage"]
    assert diversity(["dense forest", "dense forest"]) == 0.0 < diversity(["dense forest", "open water"])


def test_caption_pack_writes_records(tmp_path):
    shared("eurosat_ms/manifest.csv")

    def subset():
        dataset = EuroSATMS()
        dataset.items = [i for i in dataset.items if i["label"] in ("SeaLake", "Forest")][:12]
        return dataset

    pack(tmp_path / "pack", crop=64, plan=(SourcePlan(lambda crop, scale: subset()),), log=lambda _: None)
    out = tmp_path / "captions.jsonl"
    records = caption_pack(tmp_path / "pack", out, Orchestrator(keep=2), log=lambda _: None)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == json.loads(json.dumps(records)) and len(lines) == 12
    assert {r["split"] for r in lines} == {"train", "val"}
    for record in lines:
        assert set(record) >= {"id", "dataset", "split", "captions", "rejected", "facts"}
        assert 1 <= len(record["captions"]) <= 2
        assert all(item["reasons"] for item in record["rejected"])
        if record["split"] == "val":
            assert record["facts"]["labels"] == [] and record["facts"]["landcover_source"] == "none"
    stats = rejection_stats(lines)
    assert sum(stats["datasets"]["proposed"].values()) >= 12 * 4
    assert "eurosat_ms" in summary_text(lines) and "water" in summary_text(lines)
