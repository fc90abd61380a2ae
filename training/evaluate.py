"""Evaluate GeoMeld-FM weights against baselines: `python -m training.evaluate --weights DIR [--out eval/] [--quick]`.

Tasks (each on validation data, every method on the same split, fixed untuned classifier settings):
(a) EuroSAT-MS linear probe (stratified 5-fold CV) and 5-shot accuracy; (b) BigEarthNet v2 multi-label F1
(official train -> validation); (c) zero-shot EuroSAT from class-name prompts; (d) text-to-image Recall@1/5 on
validation captions; (e) water IoU of the text query "water" on the Sen1Floods11 chip, against NDWI > 0; (f) on
the Aberystwyth scene (tests and evaluation only, never trained on), the ROC AUC of the text queries "forest" and
"water" for their labelled class against the other three. Zero-shot is scored from the class names and from three
paraphrases of each. The teachers distilled from (Galileo-Nano, Presto; `--teachers`) are baseline rows of the probes.
Probes (a, b) see the encoders' patch features (`training.pooling.pooled_features`: mean, max and min of
the dense embeddings); zero-shot and retrieval (c, d) the normalised mean embedding, which lives in the text space.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier

from model_core.atomic import write_text_atomic
from model_core.bands import MODEL_BANDS
from training.baselines import PooledPCA, band_statistics, logistic_regression, random_forest
from training.data.base import GeoDataset, shared_data_dir
from training.data.bigearthnet import BigEarthNetV2S2
from training.data.eurosat import EuroSATMS
from training.data.packed import PackedDataset
from training.data.sen1floods11 import VAL_ROWS, Sen1Floods11
from training.data.splits import row_band
from training.pooling import pooled_features
from training.pretrain import fit_text
from training.teachers.galileo import default_teacher_dir

EUROSAT_CLASS_WORDS: dict[str, str] = {
    "AnnualCrop": "annual crop land",
    "Forest": "forest",
    "HerbaceousVegetation": "herbaceous vegetation",
    "Highway": "highway",
    "Industrial": "industrial buildings",
    "Pasture": "pasture",
    "PermanentCrop": "permanent crop",
    "Residential": "residential buildings",
    "River": "river",
    "SeaLake": "sea or lake",
}
# Three paraphrases per class, none of them the class name's own words where a synonym exists.
EUROSAT_PARAPHRASES: dict[str, tuple[str, str, str]] = {
    "AnnualCrop": ("arable fields", "cultivated farmland", "ploughed cropland"),
    "Forest": ("woodland", "dense trees", "a wooded area"),
    "HerbaceousVegetation": ("grassland", "meadows and shrubs", "natural vegetation"),
    "Highway": ("a motorway", "a major road", "a road through fields"),
    "Industrial": ("factories", "warehouses and industrial buildings", "a commercial zone"),
    "Pasture": ("grazing land", "green meadow for cattle", "grassy fields"),
    "PermanentCrop": ("orchards", "vineyards", "fruit plantations"),
    "Residential": ("houses", "a town", "suburban housing"),
    "River": ("a stream", "a river channel", "a watercourse"),
    "SeaLake": ("open water", "a lake", "the sea"),
}
ABERYSTWYTH = "rsgislib_aberystwyth_s2"
ABERYSTWYTH_QUERIES: dict[str, int] = {"forest": 1, "water": 4}  # text -> its class in labels_4class.tif
PROMPT_TEMPLATES: tuple[str, ...] = (
    "a satellite image of {}",
    "a sentinel-2 image of {}",
    "an aerial view of {}",
    "{}",
)
WATER_PROMPT = "water"
BACKGROUND_PROMPTS: tuple[str, ...] = ("land", "vegetation", "farmland", "forest", "buildings", "bare soil", "road")
FEW_SHOT = 5
MODEL_NAME = "GeoMeld-FM"
RANDOM_NAME = "random-init encoder"

Features = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class ImageSet:
    """Images in model band order with their labels and official split."""

    images: np.ndarray  # (N,15,H,W) float32
    band_mask: np.ndarray  # (N,15)
    valid: np.ndarray  # (N,H,W) bool
    labels: list = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)

    def subset(self, index: Sequence[int]) -> ImageSet:
        """The images at `index`."""
        index = list(index)
        return ImageSet(
            self.images[index],
            self.band_mask[index],
            self.valid[index],
            [self.labels[i] for i in index],
            [self.ids[i] for i in index],
            [self.splits[i] for i in index],
        )


@dataclass
class Result:
    """One row of the evaluation table."""

    task: str
    metric: str
    method: str
    value: float
    n: int
    note: str = ""


# ---- data -------------------------------------------------------------------------------------------------------
def image_set(dataset: GeoDataset | PackedDataset, every: int = 1) -> ImageSet:
    """Every `every`-th sample of a reader or pack (samples of one size) as one stacked ImageSet."""
    samples = [dataset[i] for i in range(0, len(dataset), every)]
    return ImageSet(
        np.stack([s["image"] for s in samples]),
        np.stack([s["band_mask"] for s in samples]),
        np.stack([s["valid"] for s in samples]),
        [s["labels"] for s in samples],
        [s["meta"]["id"] for s in samples],
        [s["meta"]["split"] for s in samples],
    )


def load_captions(path: Path, split: str = "val") -> dict[str, str]:
    """First accepted caption of every sample of `split` in a captions.jsonl file (sample id -> caption)."""
    captions: dict[str, str] = {}
    if not path.exists():
        return captions
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("split") == split and record.get("captions"):
                captions[str(record["id"])] = record["captions"][0]
    return captions


# ---- encoders ---------------------------------------------------------------------------------------------------
class Encoder:
    """GeoMeld-FM runtime weights: pooled, dense and text embeddings in batches."""

    def __init__(self, weights_dir: Path, batch: int = 32) -> None:
        from model_core.runtime import load_model

        self.model = load_model(weights_dir)
        self.batch = batch

    def pooled(self, images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(N,D) pooled embeddings of (N,15,H,W) images over their valid pixels."""
        return self._in_batches(self.model.embed_pooled, images, band_mask, valid)

    def features(self, images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(N,F) probe features of (N,15,H,W) images: `pooled_features` of their dense embeddings, in batches."""
        return self._in_batches(
            lambda batch, mask, pixels: pooled_features(self.model.embed_dense(batch, mask), pixels),
            images,
            band_mask,
            valid,
        )

    def _in_batches(self, embed: Features, images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """embed(images, band_mask, valid) over batches of `self.batch` images, concatenated as float32."""
        parts = [
            embed(images[i : i + self.batch], band_mask[i : i + self.batch], valid[i : i + self.batch])
            for i in range(0, len(images), self.batch)
        ]
        return np.concatenate(parts).astype(np.float32)

    def dense(self, image: np.ndarray, band_mask: np.ndarray) -> np.ndarray:
        """(D,H,W) L2-normalised dense embedding of one (15,H,W) image."""
        return np.asarray(self.model.embed_dense(image[None], band_mask[None]))[0]

    def text(self, texts: Sequence[str]) -> np.ndarray:
        """(N,D) L2-normalised text embeddings (long captions cut at whole words to the text context)."""
        fitted = [fit_text(self.model.tokenizer, text, self.model.context_length) for text in texts]
        embedded = np.asarray(self.model.embed_text(fitted), dtype=np.float32)
        return embedded / np.linalg.norm(embedded, axis=1, keepdims=True).clip(1e-8)


def random_encoder(weights_dir: Path, out_dir: Path) -> Encoder:
    """A randomly initialised encoder of the same architecture, normalisation and tokenizer as `weights_dir`'s
    (seeded, so the baseline is the same model in every run)."""
    from model_core.runtime import TOKENIZER, read_card
    from model_core.tokenizer import TextTokenizer
    from training.export import export_random
    from training.model import GeoMeldConfig

    config = GeoMeldConfig.from_dict(read_card(weights_dir)["architecture"])
    export_random(out_dir, config, seed=1, tokenizer=TextTokenizer.load(weights_dir / TOKENIZER))
    return Encoder(out_dir)


# ---- tasks ------------------------------------------------------------------------------------------------------
def _stat_features(images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
    del band_mask
    return band_statistics(images, valid)


def _pca_features(train: ImageSet) -> Features:
    pca = PooledPCA().fit(train.images, train.valid)
    return lambda images, band_mask, valid: pca.transform(images, valid)


def probe_methods(
    encoders: dict[str, Encoder], pca_fit: ImageSet, teachers: dict[str, Features] | None = None
) -> list[tuple[str, Features, Callable]]:
    """(name, feature function, classifier factory) of every method compared in the probing tasks."""
    methods: list[tuple[str, Features, Callable]] = [
        (f"{name} + logistic regression", encoder.features, logistic_regression) for name, encoder in encoders.items()
    ]
    methods += [
        (f"{name} + logistic regression", features, logistic_regression) for name, features in (teachers or {}).items()
    ]
    methods += [
        ("band statistics + random forest (500 trees)", _stat_features, random_forest),
        ("band statistics + logistic regression", _stat_features, logistic_regression),
        ("PCA of raw bands + logistic regression", _pca_features(pca_fit), logistic_regression),
    ]
    return methods


def eurosat_probe(data: ImageSet, methods: list[tuple[str, Features, Callable]], seeds: int) -> list[Result]:
    """Stratified 5-fold CV accuracy and 5-shot-per-class accuracy (mean over seeds) of every method."""
    labels = np.asarray([sample_labels[0] for sample_labels in data.labels])
    results = []
    for name, features_of, classifier in methods:
        features = features_of(data.images, data.band_mask, data.valid)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(features, labels)
        cv = [_accuracy(classifier(0), features, labels, train, test) for train, test in folds]
        few = [_accuracy(classifier(s), features, labels, *_few_shot_split(labels, s)) for s in range(seeds)]
        split = _split_indices(data.splits)
        results.append(Result("EuroSAT linear probe", "accuracy (5-fold CV)", name, float(np.mean(cv)), len(labels)))
        results.append(
            Result(
                "EuroSAT linear probe",
                "accuracy (train -> val split)",
                name,
                _accuracy(classifier(0), features, labels, *split),
                len(split[1]),
            )
        )
        results.append(
            Result("EuroSAT 5-shot", f"accuracy (mean of {seeds} seeds)", name, float(np.mean(few)), len(labels))
        )
    return results


def _accuracy(model, features: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    model.fit(features[train], labels[train])
    return float((model.predict(features[test]) == labels[test]).mean())


def _split_indices(splits: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    flags = np.asarray(splits)
    return np.flatnonzero(flags == "train"), np.flatnonzero(flags == "val")


def _few_shot_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), FEW_SHOT, replace=False) for c in np.unique(labels)]
    )
    return train, np.setdiff1d(np.arange(len(labels)), train)


def bigearthnet_f1(data: ImageSet, methods: list[tuple[str, Features, Callable]]) -> list[Result]:
    """Micro/macro F1 of one-vs-rest classifiers trained on the official train split, scored on validation."""
    train = np.array([s == "train" for s in data.splits])
    classes = sorted({c for i in np.flatnonzero(train) for c in data.labels[i]})
    targets = np.array([[c in labels for c in classes] for labels in data.labels], dtype=int)
    usable = targets[train].min(axis=0) == 0  # a class present in every training patch cannot be learnt one-vs-rest
    targets = targets[:, usable]
    results = []
    for name, features_of, classifier in methods:
        features = features_of(data.images, data.band_mask, data.valid)
        model = classifier(0)
        if not isinstance(model, RandomForestClassifier):  # forests are natively multi-label: one forest, not 19
            model = OneVsRestClassifier(model)
        model.fit(features[train], targets[train])
        predicted = model.predict(features[~train])
        for average in ("micro", "macro"):
            score = f1_score(targets[~train], predicted, average=average, zero_division=0)
            results.append(
                Result("BigEarthNet v2 multi-label", f"{average} F1", name, float(score), int((~train).sum()))
            )
    return results


def zero_shot_eurosat(data: ImageSet, encoders: dict[str, Encoder]) -> list[Result]:
    """Zero-shot accuracy on EuroSAT validation patches from prompt-ensembled class-name text embeddings, and from
    each of three paraphrases of every class name."""
    val = data.subset([i for i, s in enumerate(data.splits) if s == "val"])
    classes = sorted(EUROSAT_CLASS_WORDS)
    truth = np.array([classes.index(labels[0]) for labels in val.labels])
    results = [Result("EuroSAT zero-shot", "accuracy", "chance (1 / classes)", 1.0 / len(classes), len(truth))]
    wordings = {"class names": [EUROSAT_CLASS_WORDS[c] for c in classes]}
    wordings |= {f"paraphrase {k + 1}": [EUROSAT_PARAPHRASES[c][k] for c in classes] for k in range(3)}
    for name, encoder in encoders.items():
        image = _normalise(encoder.pooled(val.images, val.band_mask, val.valid))
        for wording, words in wordings.items():
            prototypes = np.stack([_prompt_ensemble(encoder, w) for w in words])
            accuracy = float(((image @ prototypes.T).argmax(axis=1) == truth).mean())
            metric = "accuracy" if wording == "class names" else f"accuracy, {wording}"
            results.append(Result("EuroSAT zero-shot", metric, name, accuracy, len(truth), ", ".join(words)))
    return results


def aberystwyth_query_auc(data_dir: Path, encoders: dict[str, Encoder]) -> list[Result]:
    """ROC AUC of each query's cosine score for its labelled class against the other three labelled classes."""
    folder = data_dir / ABERYSTWYTH
    scene = gdal.Open(str(folder / "s2_20210527_aberystwyth_10band_sref_x1000.tif"))
    labels = gdal.Open(str(folder / "labels_4class.tif")).ReadAsArray()
    names = [scene.GetRasterBand(i + 1).GetDescription() for i in range(scene.RasterCount)]
    image = np.zeros((len(MODEL_BANDS), *labels.shape), np.float32)
    band_mask = np.zeros(len(MODEL_BANDS), np.float32)
    for index, name in enumerate(names):
        image[MODEL_BANDS.index(name)] = scene.GetRasterBand(index + 1).ReadAsArray() / 1000.0
        band_mask[MODEL_BANDS.index(name)] = 1.0
    multiple = 32  # the encoder's input multiple: crop to it
    height, width = (size - size % multiple for size in labels.shape)
    image, labels = image[:, :height, :width], labels[:height, :width]
    labelled = labels > 0
    results = []
    for name, encoder in encoders.items():
        dense = encoder.dense(image, band_mask)[:, labelled]
        for text, label in ABERYSTWYTH_QUERIES.items():
            score = encoder.text([text])[0] @ dense
            auc = float(roc_auc_score(labels[labelled] == label, score))
            results.append(Result("Aberystwyth text query", f'ROC AUC "{text}"', name, auc, int(labelled.sum())))
    return results


def _prompt_ensemble(encoder: Encoder, words: str) -> np.ndarray:
    return _normalise(encoder.text([t.format(words) for t in PROMPT_TEMPLATES]).mean(axis=0, keepdims=True))[0]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True).clip(1e-8)


def text_to_image_recall(data: ImageSet, captions: dict[str, str], encoders: dict[str, Encoder]) -> list[Result]:
    """Recall@1/5 of retrieving each validation image from its own held-back caption among all captioned ones."""
    data = data.subset([i for i, sample in enumerate(data.ids) if sample in captions])
    n = len(data.ids)
    if n < 2:
        return []
    results = [Result("text-to-image retrieval", f"Recall@{k}", "chance", min(k / n, 1.0), n) for k in (1, 5)]
    for name, encoder in encoders.items():
        text = encoder.text([captions[sample] for sample in data.ids])
        image = _normalise(encoder.pooled(data.images, data.band_mask, data.valid))
        ranks = (-(text @ image.T)).argsort(axis=1)
        for k in (1, 5):
            hit = float(np.mean([i in ranks[i, :k] for i in range(n)]))
            results.append(Result("text-to-image retrieval", f"Recall@{k}", name, hit, n))
    return results


def water_iou(data_dir: Path, encoders: dict[str, Encoder]) -> list[Result]:
    """IoU of the text query "water" (softmax against background prompts) and of NDWI > 0 on the Sen1Floods11 chip.

    Scored on the chip's validation rows (the pretraining pack holds only the other rows, never the water label).
    """
    reader = Sen1Floods11(data_dir / Sen1Floods11.folder, split="val")
    sample = reader[0]
    label_path = reader.root / "Labels" / f"{reader.items[0]['chip']}_LabelHand.tif"
    label = gdal.Open(str(label_path)).ReadAsArray()
    start, stop = row_band(label.shape[0], "val", VAL_ROWS)
    label = label[start:stop]
    image, valid = sample["image"], sample["valid"]
    scored = valid & (label >= 0)
    water = label == 1
    green, nir = image[MODEL_BANDS.index("B03")], image[MODEL_BANDS.index("B08")]
    ndwi = (green - nir) / np.clip(green + nir, 1e-6, None)
    n = int(scored.sum())
    results = [Result("Sen1Floods11 water", "IoU", "NDWI > 0", _iou(ndwi > 0, water, scored), n)]
    for name, encoder in encoders.items():
        dense = encoder.dense(image, sample["band_mask"])
        bank = encoder.text([WATER_PROMPT, *BACKGROUND_PROMPTS])
        similarity = np.einsum("dhw,kd->khw", dense, bank)
        predicted = similarity.argmax(axis=0) == 0  # softmax over the bank: "water" wins where it is most probable
        results.append(Result("Sen1Floods11 water", "IoU", f'{name} text "water"', _iou(predicted, water, scored), n))
    return results


def _iou(predicted: np.ndarray, truth: np.ndarray, scored: np.ndarray) -> float:
    union = ((predicted | truth) & scored).sum()
    return float(((predicted & truth) & scored).sum() / union) if union else 0.0


# ---- report -----------------------------------------------------------------------------------------------------
def markdown_table(results: list[Result]) -> str:
    """The results as a Markdown table: task, metric, method, value, number of evaluated samples."""
    lines = ["| task | metric | method | value | n |", "|---|---|---|---|---|"]
    lines += [f"| {r.task} | {r.metric} | {r.method} | {r.value:.3f} | {r.n} |" for r in results]
    return "\n".join(lines) + "\n"


def write_report(results: list[Result], out_dir: Path, header: dict) -> tuple[Path, Path]:
    """Write eval.md and eval.json atomically into out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {**header, "results": [r.__dict__ for r in results]}
    title = f"# GeoMeld-FM evaluation\n\nWeights: `{header['weights']}`; quick: {header['quick']}.\n\n"
    paths = (out_dir / "eval.md", out_dir / "eval.json")
    for path, text in zip(paths, (title + markdown_table(results), json.dumps(payload, indent=2))):
        write_text_atomic(path, text)
    return paths


def teacher_features(teachers_dir: Path | None) -> dict[str, Features]:
    """The teachers' feature functions by row name; none when the teachers folder is absent."""
    if teachers_dir is None or not (teachers_dir / "galileo_nano").exists():
        return {}
    from training.teachers.features import TeacherFeatures

    teachers = TeacherFeatures(teachers_dir)
    return {
        "Galileo-Nano pooled tokens (teacher)": teachers.galileo_pooled,
        "Presto pixel embeddings, mean and max (teacher)": teachers.presto_mean_max,
    }


def evaluate(
    weights_dir: Path, data_dir: Path, pack_dir: Path, quick: bool, log=print, teachers_dir: Path | None = None
) -> list[Result]:
    """Run every task for the weights and the baselines; quick uses subsets and fewer seeds.

    Retrieval uses the validation split of the pack in `pack_dir` and its captions.jsonl (skipped without them).
    """
    teachers = teacher_features(teachers_dir)
    with tempfile.TemporaryDirectory() as scratch:
        encoders = {MODEL_NAME: Encoder(weights_dir), RANDOM_NAME: random_encoder(weights_dir, Path(scratch))}
        eurosat = image_set(EuroSATMS(data_dir / EuroSATMS.folder))
        bigearthnet = image_set(BigEarthNetV2S2(data_dir / BigEarthNetV2S2.folder), every=3 if quick else 1)
        bigearthnet_train = bigearthnet.subset([i for i, s in enumerate(bigearthnet.splits) if s == "train"])
        captions = load_captions(pack_dir / "captions.jsonl")
        pack_val = image_set(PackedDataset(pack_dir, "val"), every=3 if quick else 1) if captions else None
        steps = [
            (
                "EuroSAT probe",
                lambda: eurosat_probe(eurosat, probe_methods(encoders, eurosat, teachers), 3 if quick else 10),
            ),
            ("BigEarthNet", lambda: bigearthnet_f1(bigearthnet, probe_methods(encoders, bigearthnet_train, teachers))),
            ("zero-shot", lambda: zero_shot_eurosat(eurosat, encoders)),
            ("retrieval", lambda: text_to_image_recall(pack_val, captions, encoders) if pack_val is not None else []),
            ("water", lambda: water_iou(data_dir, encoders)),
            ("Aberystwyth", lambda: aberystwyth_query_auc(data_dir, encoders)),
        ]
        results: list[Result] = []
        for label, run in steps:
            started = time.time()
            results += run()
            log(f"{label}: {time.time() - started:.1f} s")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, type=Path, help="folder of exported GeoMeld-FM weights")
    parser.add_argument("--out", type=Path, default=Path("eval"), help="folder for eval.md and eval.json")
    parser.add_argument("--data", type=Path, default=shared_data_dir(), help="the shared data folder")
    parser.add_argument("--pack", type=Path, default=Path(".packed"), help="pack with captions.jsonl (retrieval)")
    parser.add_argument("--quick", action="store_true", help="subsets and fewer seeds (a few minutes on CPU)")
    parser.add_argument(
        "--teachers", type=Path, default=default_teacher_dir(), help="teachers folder for their baseline rows"
    )
    args = parser.parse_args(argv)
    started = time.time()
    results = evaluate(
        args.weights,
        args.data,
        args.pack,
        args.quick,
        log=lambda m: print(m, file=sys.stderr),
        teachers_dir=args.teachers,
    )
    header = {"weights": str(args.weights), "quick": args.quick, "seconds": round(time.time() - started, 1)}
    write_report(results, args.out, header)
    sys.stdout.write(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
