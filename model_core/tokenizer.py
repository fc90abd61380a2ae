"""Text tokenizer of GeoMeld-FM: a lower-casing WordPiece model from the `tokenizers` library (no torch)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from .atomic import write_text_atomic
from .errors import ModelWeightsError, QueryInputError

PAD, UNK, START, END = "[PAD]", "[UNK]", "[SOS]", "[EOS]"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, START, END)  # PAD must stay id 0

# Land-cover and remote-sensing phrases the tokenizer is trained on besides the training captions, so that common
# queries (EuroSAT, BigEarthNet-19, CORINE, ESRI/Dynamic World land cover, hydrology, crops, built-up) tokenise well.
GLOSSARY: list[str] = [
    # EuroSAT classes
    "annual crop", "forest", "herbaceous vegetation", "highway", "industrial", "pasture", "permanent crop",
    "residential", "river", "sea", "lake",
    # BigEarthNet-19
    "urban fabric", "industrial or commercial units", "arable land", "permanent crops", "pastures",
    "complex cultivation patterns",
    "land principally occupied by agriculture with significant areas of natural vegetation",
    "agro-forestry areas", "broad-leaved forest", "coniferous forest", "mixed forest",
    "natural grassland and sparsely vegetated areas", "moors, heathland and sclerophyllous vegetation",
    "transitional woodland, shrub", "beaches, dunes, sands", "inland wetlands", "coastal wetlands", "inland waters",
    "marine waters",
    # CORINE-like level 3
    "continuous urban fabric", "discontinuous urban fabric", "road and rail networks", "port areas", "airports",
    "mineral extraction sites", "dump sites", "construction sites", "green urban areas", "sport and leisure facilities",
    "non-irrigated arable land", "permanently irrigated land", "rice fields", "vineyards",
    "fruit trees and berry plantations", "olive groves", "annual crops associated with permanent crops",
    "sclerophyllous vegetation", "bare rocks",
    "sparsely vegetated areas", "burnt areas", "glaciers and perpetual snow", "inland marshes", "peat bogs",
    "salt marshes", "salines", "intertidal flats", "water courses", "water bodies", "coastal lagoons", "estuaries",
    "sea and ocean",
    # ESRI / Dynamic World land cover
    "water", "trees", "flooded vegetation", "crops", "built area", "bare ground", "snow and ice", "clouds",
    "rangeland", "grass", "shrub and scrub", "built-up area", "bare",
    # water and hydrology
    "flood", "flooded area", "flood water", "standing water", "open water", "river bank", "stream", "canal",
    "reservoir", "pond", "lake shore", "sea", "ocean", "coast", "coastline", "shoreline", "beach", "sand dunes",
    "tidal flat", "marsh", "tidal marsh", "swamp", "wetland", "mangrove", "lagoon", "barrier island", "delta",
    # forests and vegetation
    "dense forest", "deciduous forest", "evergreen forest", "needleleaf forest", "broadleaf forest", "pine plantation",
    "tropical rainforest", "woodland", "shrubland", "scrubland", "savanna", "heath", "moorland", "meadow",
    "grassland", "hedgerow", "clearcut", "deforestation", "burned area", "wildfire scar",
    # agriculture
    "cropland", "farmland", "agricultural field", "ploughed field", "harvested field", "irrigated field",
    "centre pivot irrigation", "wheat", "maize", "corn", "soybean", "rice paddy", "sugar cane", "cotton",
    "rapeseed", "sunflower", "potato", "vineyard", "orchard", "olive grove", "greenhouse", "fallow land",
    "bare soil", "plantation",
    # built environment
    "urban", "city", "town", "village", "dense urban area", "suburban", "residential area", "buildings",
    "industrial area", "commercial area", "factory", "warehouse", "port", "harbour", "airport", "runway", "road",
    "highway", "motorway", "railway", "bridge", "parking lot", "solar farm", "wind farm", "quarry", "mine",
    "landfill", "construction site", "stadium", "golf course", "park",
    # terrain, snow, atmosphere
    "desert", "sand", "rock", "bare rock", "mountain", "hill", "valley", "cliff", "glacier", "snow", "ice",
    "snow cover", "sea ice", "cloud", "cloud shadow", "haze", "smoke",
    # sensing vocabulary
    "sentinel-2", "sentinel-1", "satellite image", "multispectral", "near infrared", "shortwave infrared",
    "red edge", "radar backscatter", "ndvi", "vegetation index", "land cover", "land use", "elevation",
    "an aerial view of", "a satellite image of", "a patch of", "mostly", "partly", "with", "and", "near", "along",
    "surrounded by", "next to", "small", "large", "green", "brown", "dark", "bright", "healthy", "dry", "wet",
]  # fmt: skip


class TextTokenizer:
    """Lower-casing WordPiece tokenizer with [PAD]=0, [UNK], [SOS] and [EOS]; encodes to fixed-length id arrays."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self.pad_id = tokenizer.token_to_id(PAD)
        self.start_id = tokenizer.token_to_id(START)
        self.end_id = tokenizer.token_to_id(END)
        if self.pad_id != 0 or self.start_id is None or self.end_id is None:
            raise ModelWeightsError("The tokenizer file is not a GeoMeld tokenizer (special tokens are missing).")

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4096) -> TextTokenizer:
        """Train a new tokenizer on texts (use captions plus GLOSSARY); the same texts give the same tokenizer.

        The trainer creates the continuation piece of each character ("##a") when it first meets it, in hash-map
        order, and breaks ties between equally frequent merges by piece id, so its vocabulary changes from process to
        process (huggingface/tokenizers#1794). Passing every continuation piece up front, sorted, fixes their ids; they
        go in as special tokens only for that and are ordinary vocabulary pieces of the trained tokenizer.
        """
        texts = list(texts)
        tokenizer = Tokenizer(models.WordPiece(unk_token=UNK))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        characters = sorted({c for text in texts for c in tokenizer.normalizer.normalize_str(text) if not c.isspace()})
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size,
            special_tokens=[*SPECIAL_TOKENS, *(f"##{c}" for c in characters)],
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer=trainer)
        document = json.loads(tokenizer.to_str())
        document["added_tokens"] = [token for token in document["added_tokens"] if token["content"] in SPECIAL_TOKENS]
        return cls(Tokenizer.from_str(json.dumps(document)))

    @classmethod
    def word_level(cls, words: Sequence[str]) -> TextTokenizer:
        """A whole-word tokenizer: the special tokens (ids 0-3) then `words` in order; any other word is [UNK].

        It normalises and splits text as the WordPiece tokenizer does (lower case, accents stripped, BERT
        pre-tokenizer), so each word must be one such piece, e.g. "forest" or "," but not "Forest" or "built-up".
        """
        words = list(words)
        invalid = [word for word in words if split_words(word) != [word] or word in SPECIAL_TOKENS]
        if invalid:
            raise ValueError(f"not single lower-case words as the tokenizer splits text: {invalid[:5]}")
        if len(set(words)) != len(words):
            raise ValueError("the word list has duplicates")
        vocabulary = {token: index for index, token in enumerate([*SPECIAL_TOKENS, *words])}
        tokenizer = Tokenizer(models.WordLevel(vocab=vocabulary, unk_token=UNK))
        tokenizer.normalizer = _normalizer()
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer)

    @classmethod
    def from_str(cls, text: str) -> TextTokenizer:
        """Load from the JSON text of a saved tokenizer."""
        try:
            return cls(Tokenizer.from_str(text))
        except Exception as exc:  # the library raises plain Exception subclasses for malformed JSON
            raise ModelWeightsError(f"The tokenizer cannot be read ({exc}).") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> TextTokenizer:
        """Load a tokenizer.json written by save()."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelWeightsError(f"The tokenizer file '{path}' cannot be read ({exc.strerror}).") from None
        return cls.from_str(text)

    def to_str(self) -> str:
        """The tokenizer as JSON text."""
        return self._tokenizer.to_str()

    def save(self, path: str | os.PathLike) -> Path:
        """Write tokenizer.json atomically."""
        return write_text_atomic(path, json.dumps(json.loads(self.to_str()), ensure_ascii=False))

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return self._tokenizer.get_vocab_size()

    def vocabulary(self) -> list[str]:
        """Every token, in id order."""
        by_id = self._tokenizer.get_vocab()
        return sorted(by_id, key=by_id.get)

    def tokens(self, text: str) -> list[str]:
        """The word pieces of a text (for inspection)."""
        return self._tokenizer.encode(text, add_special_tokens=False).tokens

    def encode(self, texts: Sequence[str], context_length: int) -> np.ndarray:
        """Token ids int64 (N, context_length): [SOS] pieces [EOS] then [PAD]=0; rejects empty or too long texts."""
        if isinstance(texts, str):
            texts = [texts]
        limit = context_length - 2
        out = np.zeros((len(texts), context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            if not text or not text.strip():
                raise QueryInputError("The text query is empty; type a few words such as 'a river' or 'dense forest'.")
            ids = self._tokenizer.encode(text, add_special_tokens=False).ids
            if len(ids) > limit:
                raise QueryInputError(
                    f'The query is too long: at most {limit} words ("{text[:40]}..." has {len(ids)} word pieces).'
                )
            out[row, : len(ids) + 2] = [self.start_id, *ids, self.end_id]
        return out


def _normalizer() -> normalizers.Normalizer:
    return normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)


def split_words(text: str) -> list[str]:
    """The words of `text` as the tokenizers see them before splitting words into pieces: normalised (lower case,
    accents stripped) and split by the BERT pre-tokenizer (on white space and around punctuation)."""
    normalised = _normalizer().normalize_str(text)
    return [word for word, _ in pre_tokenizers.BertPreTokenizer().pre_tokenize_str(normalised)]
