"""GeoMeld-FM in torch: ConvNeXt-V2 image encoder with a per-pixel decoder, text tower and pretraining heads.

Only training and ONNX export import this module; the plugin runs the exported ONNX graphs without torch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - conventional alias
from torch import nn

from model_core.bands import MODEL_BANDS, S1_BANDS, S2_BANDS

# Height and width of an encoder input must be multiples of this (total stride of the ConvNeXt stages).
INPUT_MULTIPLE = 32

# Encoder sizes as data: ConvNeXt-V2 widths and blocks per stage.
VARIANTS: dict[str, dict[str, tuple[int, ...]]] = {
    "zepto": {"dims": (32, 64, 128, 256), "depths": (2, 2, 4, 2)},
    "atto": {"dims": (40, 80, 160, 320), "depths": (2, 2, 6, 2)},
    "femto": {"dims": (48, 96, 192, 384), "depths": (2, 2, 6, 2)},
    "pico": {"dims": (64, 128, 256, 512), "depths": (2, 2, 6, 2)},
}

# Typical Sentinel-2 L1C/L2A reflectance fractions (B01..B12 with B8A) and Sentinel-1 backscatter in dB (VV, VH).
# Training replaces these with statistics measured on its data.
DEFAULT_MEAN: tuple[float, ...] = (
    0.14, 0.12, 0.11, 0.11, 0.13, 0.19, 0.22, 0.21, 0.24, 0.08, 0.02, 0.18, 0.12, -12.0, -19.0,
)  # fmt: skip
DEFAULT_STD: tuple[float, ...] = (
    0.03, 0.04, 0.045, 0.06, 0.06, 0.07, 0.08, 0.09, 0.09, 0.04, 0.01, 0.10, 0.09, 5.0, 5.0,
)  # fmt: skip


@dataclass
class GeoMeldConfig:
    """Architecture and input normalisation of GeoMeld-FM (stored in the model card)."""

    variant: str = "atto"
    dims: tuple[int, ...] = VARIANTS["atto"]["dims"]
    depths: tuple[int, ...] = VARIANTS["atto"]["depths"]
    embed_dim: int = 64
    decoder_dim: int = 64
    fullres_dim: int = 16
    in_channels: int = len(MODEL_BANDS)
    mean: tuple[float, ...] = DEFAULT_MEAN
    std: tuple[float, ...] = DEFAULT_STD
    vocab_size: int = 4096
    context_length: int = 32
    text_width: int = 128
    text_layers: int = 4
    text_heads: int = 4
    # 0 = learned token embeddings; > 0 = frozen word vectors of this size (e.g. 50 for GloVe), projected to the text
    # width (see TextEncoder).
    word_dim: int = 0
    lulc_classes: int = 10
    patch_size: int = 8
    jepa_dim: int = 192
    jepa_layers: int = 2
    # Whether the blocks of each stage have their response normalisation (see `fold_response_norms`).
    grn_stages: tuple[bool, ...] = (True, True, True, True)
    # Embedding size of the pretrained teachers distilled from (Galileo-Nano, Presto); heads map the student to it.
    teacher_dim: int = 128

    def __post_init__(self) -> None:
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise ValueError(f"mean and std need {self.in_channels} values each (one per model band)")
        if len(self.dims) != 4 or len(self.depths) != 4 or len(self.grn_stages) != 4:
            raise ValueError("dims, depths and grn_stages need 4 values each (one per ConvNeXt stage)")

    @classmethod
    def for_variant(cls, variant: str = "atto", **overrides) -> GeoMeldConfig:
        """The configuration of a named encoder size ('zepto', 'atto', 'femto', 'pico'), with optional overrides
        (which may change its widths or depths)."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant '{variant}'; choose one of {', '.join(VARIANTS)}")
        return cls(variant=variant, **{**VARIANTS[variant], **overrides})

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (tuples become lists)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> GeoMeldConfig:
        """Inverse of to_dict; unknown keys are ignored so newer cards still load."""
        known = {f.name for f in fields(cls)}
        values = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items() if key in known
        }
        return cls(**values)


# ---- ConvNeXt-V2 building blocks (structure of timm's convnext.py) ---------------------------------------------------
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each pixel's channel vector."""
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class GlobalResponseNorm(nn.Module):
    """ConvNeXt-V2 response normalisation on NHWC tensors, with the channel energy taken over a local window.

    ConvNeXt-V2 takes each channel's L2 norm over the whole image; that makes a pixel's embedding depend on the
    tile it was computed in. Here the energy is averaged over a `window` x `window` neighbourhood instead, so the
    encoder stays translation-equivariant and tiled rasters have no seams; the channel competition is unchanged.
    """

    def __init__(self, dim: int, eps: float = 1e-6, window: int = 7) -> None:
        super().__init__()
        self.eps = eps
        self.window = window
        self.gamma = nn.Parameter(torch.zeros(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + gamma * (x * relative local L2 norm of each channel) + beta."""
        # The window mean as a column mean then a row mean: the same values (a clipped window is a rectangle, so its
        # pixel count is the product of the two), 14 instead of 49 additions per value (the model runs ~10 % faster).
        half = self.window // 2
        columns = F.avg_pool2d(
            (x * x).permute(0, 3, 1, 2), (self.window, 1), stride=1, padding=(half, 0), count_include_pad=False
        )
        energy = F.avg_pool2d(columns, (1, self.window), stride=1, padding=(0, half), count_include_pad=False)
        energy = energy.permute(0, 2, 3, 1)
        gx = energy.add(self.eps).sqrt()
        nx = gx / (gx.mean(dim=-1, keepdim=True) + self.eps)
        return x + self.gamma * (x * nx) + self.beta


class ConvNeXtBlock(nn.Module):
    """Depthwise 7x7 conv, LayerNorm, pointwise MLP with GELU and (optionally) GRN, residual."""

    def __init__(self, dim: int, mlp_ratio: int = 4, grn: bool = True) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.act = nn.GELU()
        self.grn = GlobalResponseNorm(mlp_ratio * dim) if grn else nn.Identity()
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One residual block on an NCHW tensor."""
        shortcut = x
        x = self.conv_dw(x).permute(0, 2, 3, 1)
        x = self.fc2(self.grn(self.act(self.fc1(self.norm(x)))))
        return shortcut + x.permute(0, 3, 1, 2)


class ConvNeXtStage(nn.Module):
    """Optional 2x2 stride-2 downsampling (LayerNorm + conv), then blocks."""

    def __init__(self, in_dim: int, dim: int, depth: int, downsample: bool, grn: bool = True) -> None:
        super().__init__()
        self.downsample = (
            nn.Sequential(LayerNorm2d(in_dim, eps=1e-6), nn.Conv2d(in_dim, dim, kernel_size=2, stride=2))
            if downsample
            else nn.Identity()
        )
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dim, grn=grn) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Downsample then run the blocks."""
        return self.blocks(self.downsample(x))


def _l2_normalise(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Unit L2 norm along dim (export-friendly: no torch.nn.functional.normalize clamp quirks)."""
    return x / (x * x).sum(dim=dim, keepdim=True).add(1e-12).sqrt()


# ---- image encoder ------------------------------------------------------------------------------------------------
class ImageEncoder(nn.Module):
    """Sentinel-2 (+S1) image -> per-pixel embeddings at 10 m and a pooled image embedding.

    Input: raw values as `SentinelRaster.read` gives them (S2 reflectance fractions, S1 dB) and a band mask
    (1 = band present). The image is normalised, absent bands are zeroed (= the band mean) and the mask is appended
    as 15 extra channels so the network knows what is missing. A ConvNeXt-V2 backbone (stride 4..32) feeds a light
    FPN decoder to stride 4, which is upsampled and added to a shallow full-resolution branch of the input.
    """

    def __init__(self, config: GeoMeldConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.in_channels
        self.register_buffer("mean", torch.tensor(config.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(config.std, dtype=torch.float32).view(1, -1, 1, 1))
        dims = config.dims
        self.stem = nn.Sequential(nn.Conv2d(2 * channels, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0]))
        self.stages = nn.ModuleList(
            ConvNeXtStage(dims[max(i - 1, 0)], dims[i], config.depths[i], i > 0, config.grn_stages[i]) for i in range(4)
        )
        width = config.decoder_dim
        self.lateral = nn.ModuleList(nn.Conv2d(dim, width, kernel_size=1) for dim in dims)
        self.smooth = nn.Sequential(
            nn.Conv2d(width, width, kernel_size=3, padding=1, groups=width),
            LayerNorm2d(width),
            nn.Conv2d(width, width, kernel_size=1),
            nn.GELU(),
            nn.Conv2d(width, config.embed_dim, kernel_size=1),
        )
        self.fullres = nn.Sequential(
            nn.Conv2d(2 * channels, config.fullres_dim, kernel_size=1),
            nn.GELU(),
            nn.Conv2d(config.fullres_dim, config.embed_dim, kernel_size=1),
        )

    def prepare(self, image: torch.Tensor, band_mask: torch.Tensor) -> torch.Tensor:
        """Normalised image with absent bands zeroed, concatenated with the band mask: (B, 30, H, W)."""
        height, width = image.shape[-2:]
        if not torch.jit.is_tracing() and (height % INPUT_MULTIPLE or width % INPUT_MULTIPLE):
            raise ValueError(f"image height and width must be multiples of {INPUT_MULTIPLE}, not {height} x {width}")
        mask = band_mask[:, :, None, None]
        x = (image - self.mean) / self.std * mask
        return torch.cat([x, mask.expand_as(x)], dim=1)

    def forward_features(self, image: torch.Tensor, band_mask: torch.Tensor) -> list[torch.Tensor]:
        """The four ConvNeXt stage maps at strides 4, 8, 16 and 32 (for the pretraining heads)."""
        return self.run_stages(self.stem(self.prepare(image, band_mask)))

    def run_stages(self, stem: torch.Tensor) -> list[torch.Tensor]:
        """The four stage maps from the stem's output."""
        features = []
        y = stem
        for stage in self.stages:
            y = stage(y)
            features.append(y)
        return features

    def context_hidden(self, features: list[torch.Tensor]) -> torch.Tensor:
        """The FPN decoder's stride-4 map before its last (pointwise) convolution."""
        top = self.lateral[3](features[3])
        for level in (2, 1, 0):
            top = self.lateral[level](features[level]) + F.interpolate(top, scale_factor=2.0, mode="nearest")
        return self.smooth[:-1](top)

    def context(self, features: list[torch.Tensor]) -> torch.Tensor:
        """The FPN decoder's stride-4 map (B, D, H/4, W/4), before it is upsampled to the input grid."""
        return self.smooth[-1](self.context_hidden(features))

    def decode(self, x: torch.Tensor, features: list[torch.Tensor]) -> torch.Tensor:
        """Un-normalised per-pixel embeddings (B, D, H, W) from the prepared input and the stage maps."""
        return _upsample4(self.context(features)) + self.fullres(x)

    def forward(self, image: torch.Tensor, band_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(dense (B, D, H, W), pooled (B, D)), both L2-normalised; pooled is the normalised mean of dense."""
        x = self.prepare(image, band_mask)
        dense = _l2_normalise(self.decode(x, self.run_stages(self.stem(x))), dim=1)
        pooled = _l2_normalise(dense.mean(dim=(2, 3)), dim=1)
        return dense, pooled


@torch.no_grad()
def fold_response_norms(encoder: ImageEncoder, stages: Sequence[int]) -> ImageEncoder:
    """A copy of `encoder` whose blocks in `stages` have no GRN: each is replaced by its channel-mean response.

    GRN maps x to x * (1 + gamma * nx) + beta, where nx (a channel's local energy relative to the mean over
    channels) averages 1 over the channels. With nx set to 1 the layer is the affine map x * (1 + gamma) + beta,
    which folds into the next linear layer (fc2). It is an approximation: its error is measured by the caller.
    In the shipped model, folding the first three stages' GRN (whose spatial pooling took about 40 % of the model's
    time) leaves every pixel's unit embedding at a cosine similarity of at least 0.9996 to the trained network's.
    """
    folding = [index for index in stages if encoder.config.grn_stages[index]]
    grn_stages = [on and index not in folding for index, on in enumerate(encoder.config.grn_stages)]
    folded = ImageEncoder(GeoMeldConfig.from_dict({**encoder.config.to_dict(), "grn_stages": grn_stages}))
    state = {key: value.clone() for key, value in encoder.state_dict().items()}
    for index in folding:
        for block in range(encoder.config.depths[index]):
            prefix = f"stages.{index}.blocks.{block}."
            gamma, beta = state.pop(prefix + "grn.gamma"), state.pop(prefix + "grn.beta")
            weight = state[prefix + "fc2.weight"]
            state[prefix + "fc2.bias"] += weight @ beta
            state[prefix + "fc2.weight"] = weight * (1.0 + gamma)[None, :]
    folded.load_state_dict(state)
    return folded.eval()


def _upsample4(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=4.0, mode="bilinear", align_corners=False)


class InferenceImageEncoder(nn.Module):
    """`ImageEncoder.forward` arranged for ONNX Runtime and restricted to a kept window: the graph the plugin runs.

    The embeddings are the same (the export checks parity); the graph runs about a quarter faster on a CPU because
    - the input normalisation and the band-mask channels are folded into the two convolutions that read the input,
      so the 30-channel prepared image is never built, and the image is scaled once for both;
    - the full-resolution part (upsampled context, full-resolution branch, L2 norm) runs only around `keep`, the
      window of the input whose embeddings are wanted (tiled rasters discard the rest);
    - the window is cut before the decoder's last convolution, which is pointwise, so that ONNX Runtime keeps the
      context, its upsampling and the sum with the full-resolution branch in its blocked layout (`training.export`
      also declares that the two summands have one shape, so the sum is fused into the convolution before it);
    - the squared norm of each pixel is a 1x1 convolution, which ONNX Runtime runs in its blocked layout, not a
      strided ReduceSum.
    Only dense embeddings are exported; the pooled image embedding is their mean, which callers take over their
    valid pixels.
    """

    def __init__(self, encoder: ImageEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.register_buffer("ones", torch.ones(1, encoder.config.embed_dim, 1, 1))

    def _input_conv(
        self, conv: nn.Conv2d, scaled: torch.Tensor, band_mask: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """`conv(encoder.prepare(image, band_mask))` from `scaled` = image x `scale` (band_mask / std, (B, C)),
        without building the prepared image."""
        channels = self.encoder.config.in_channels
        image_weight, mask_weight = conv.weight[:, :channels], conv.weight[:, channels:]
        # No padding: the normalisation offset and the constant mask channels add the same amount at every pixel.
        bias = (
            conv.bias
            - (self.encoder.mean.view(1, -1) * scale) @ image_weight.sum(dim=(2, 3)).T
            + band_mask @ mask_weight.sum(dim=(2, 3)).T
        )
        return F.conv2d(scaled, image_weight, None, stride=conv.stride) + bias[:, :, None, None]

    def forward(
        self, image: torch.Tensor, band_mask: torch.Tensor, keep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(dense, origin): embeddings (B, D, h, w) of a window holding `keep` and the window's (row, col) in the image.

        `keep` is int64 (row, col, height, width). The window is `keep` grown to the stride-4 grid plus one cell on
        each side (clamped to the image), so that upsampling those cells gives the whole map's values inside `keep`;
        the window's margin outside `keep` is not exact and is for the caller to cut off.
        """
        encoder = self.encoder
        scale = band_mask / encoder.std.view(1, -1)
        scaled = image * scale[:, :, None, None]
        stem = encoder.stem[1](self._input_conv(encoder.stem[0], scaled, band_mask, scale))
        hidden = encoder.context_hidden(encoder.run_stages(stem))
        top, left = (keep[:2].div(4, rounding_mode="floor") - 1).clamp(min=0)  # Slice clamps the far ends
        bottom, right = (keep[:2] + keep[2:] + 3).div(4, rounding_mode="floor") + 1
        upsampled = _upsample4(encoder.smooth[-1](hidden[:, :, top:bottom, left:right]))
        window = scaled[:, :, 4 * top : 4 * bottom, 4 * left : 4 * right]
        fullres = encoder.fullres
        dense = fullres[2](fullres[1](self._input_conv(fullres[0], window, band_mask, scale))) + upsampled
        dense = dense * torch.rsqrt(F.conv2d(dense * dense, self.ones) + 1e-12)
        return dense, torch.stack([4 * top, 4 * left])


# ---- text encoder -------------------------------------------------------------------------------------------------
class TextEncoder(nn.Module):
    """Token ids (N, L) -> L2-normalised text embeddings (N, D), CLIP-style causal transformer.

    Written here with torch's own nn.TransformerEncoderLayer because open_clip's TextTransformer cannot be imported:
    open_clip imports torchvision, and PyPI torchvision does not load beside the CPU build of torch.
    Pad id is 0; each sequence is pooled at its last non-pad token (the end token).

    With `config.word_dim` 0 each token id has a learned embedding. With `word_dim` > 0 the vocabulary is whole words
    (`TextTokenizer.word_level`) and a token's embedding is a learned projection of its frozen word vector (the
    persistent buffer `word_vectors`, filled by `set_word_vectors`, e.g. with GloVe vectors), so that words no
    caption contains still land near their synonyms; the special tokens (ids below 4, zero word vectors) have
    learned embeddings of their own.
    """

    # Token ids below this are the tokenizer's special tokens ([PAD], [UNK], [SOS], [EOS]; model_core.tokenizer).
    SPECIAL_TOKEN_COUNT = 4

    def __init__(self, config: GeoMeldConfig) -> None:
        super().__init__()
        width = config.text_width
        self.word_dim = config.word_dim
        if self.word_dim > 0:
            self.register_buffer("word_vectors", torch.zeros(config.vocab_size, config.word_dim))
            self.word_projection = nn.Linear(config.word_dim, width, bias=False)
            # As small as the projected word vectors (about 0.02 a value with build_model's initialisation).
            self.special_embedding = nn.Embedding(self.SPECIAL_TOKEN_COUNT, width)
            nn.init.normal_(self.special_embedding.weight, std=0.02)
        else:
            self.token_embedding = nn.Embedding(config.vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.randn(config.context_length, width) * 0.01)
        layer = nn.TransformerEncoderLayer(
            d_model=width,
            nhead=config.text_heads,
            dim_feedforward=4 * width,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(config.text_layers))
        self.final_norm = nn.LayerNorm(width)
        self.projection = nn.Linear(width, config.embed_dim, bias=False)
        causal = torch.full((config.context_length, config.context_length), float("-inf")).triu(1)
        self.register_buffer("causal_mask", causal, persistent=False)

    @torch.no_grad()
    def set_word_vectors(self, vectors: np.ndarray | torch.Tensor) -> None:
        """Copy in the frozen word vectors (V, word_dim), row i for token id i, V at most the vocabulary size.

        Rows 0-3 (the special tokens) must be zero and the words start at row 4, as `training.glove.glove_text_setup`
        returns them; the rows from V on (if any) are set to zero.
        """
        if self.word_dim == 0:
            raise ValueError("this text encoder has learned token embeddings (word_dim is 0), not word vectors")
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        rows, dim = self.word_vectors.shape
        if vectors.ndim != 2 or vectors.shape[1] != dim or len(vectors) > rows:
            raise ValueError(f"word vectors of shape {tuple(vectors.shape)} do not fit ({rows}, {dim})")
        count = self.SPECIAL_TOKEN_COUNT
        if vectors[:count].any():
            raise ValueError(f"rows 0-{count - 1} (the special tokens) of the word vectors must be zero")
        self.word_vectors.zero_()
        self.word_vectors[: len(vectors)] = vectors.to(self.word_vectors.device)

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token embeddings (N, L, width) of token ids (N, L), before the positional embedding."""
        if self.word_dim == 0:
            return self.token_embedding(tokens)
        count = self.SPECIAL_TOKEN_COUNT
        words = self.word_projection(self.word_vectors[tokens])  # zero for the special tokens
        return words + self.special_embedding(tokens.clamp(max=count - 1)) * (tokens < count).unsqueeze(-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Embed token ids (N, L); L may be at most the configured context length."""
        length = tokens.shape[1]
        x = self.embed_tokens(tokens) + self.positional_embedding[:length]
        mask = self.causal_mask[:length, :length]
        for layer in self.layers:
            x = layer(x, src_mask=mask)
        x = self.final_norm(x)
        last = ((tokens != 0).sum(dim=1) - 1).clamp(min=0)
        pooled = x[torch.arange(x.shape[0], device=x.device), last]
        return _l2_normalise(self.projection(pooled), dim=1)


# ---- pretraining heads ---------------------------------------------------------------------------------------------
class MAEDecoders(nn.Module):
    """Conv decoders from the stride-4 and stride-32 stage maps to full-resolution reconstructions.

    Outputs: 's2' (13 ch, normalised reflectance), 's1' (2 ch, normalised dB), 'dem' (1 ch), 'lulc' (class logits).
    """

    def __init__(self, config: GeoMeldConfig, width: int = 96) -> None:
        super().__init__()
        self.from_s4 = nn.Conv2d(config.dims[0], width, kernel_size=1)
        self.from_s32 = nn.Conv2d(config.dims[3], width, kernel_size=1)
        self.outputs = {"s2": len(S2_BANDS), "s1": len(S1_BANDS), "dem": 1, "lulc": config.lulc_classes}
        self.heads = nn.ModuleDict(
            {
                name: nn.Sequential(
                    nn.Conv2d(width, width, kernel_size=3, padding=1),
                    nn.GELU(),
                    nn.Conv2d(width, channels * 16, kernel_size=1),
                    nn.PixelShuffle(4),
                )
                for name, channels in self.outputs.items()
            }
        )
        self.norm = LayerNorm2d(width)

    def forward(self, features: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Reconstructions (B, C, H, W) keyed by target name, from ImageEncoder.forward_features output."""
        s4 = self.from_s4(features[0])
        s32 = F.interpolate(self.from_s32(features[3]), size=s4.shape[-2:], mode="nearest")
        x = self.norm(s4 + s32)
        return {name: head(x) for name, head in self.heads.items()}


class JEPAPredictor(nn.Module):
    """Predicts the EMA teacher's stride-32 features of masked regions from the student's context features."""

    def __init__(self, config: GeoMeldConfig) -> None:
        super().__init__()
        dim, width = config.dims[3], config.jepa_dim
        self.input = nn.Linear(dim, width)
        self.mask_token = nn.Parameter(torch.zeros(width))
        self.position = nn.Conv2d(width, width, kernel_size=3, padding=1, groups=width)
        layer = nn.TransformerEncoderLayer(
            d_model=width, nhead=4, dim_feedforward=4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerEncoder(layer, num_layers=config.jepa_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, dim)

    def forward(self, context: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """context (B, C, h, w) stride-32 student features; masked (B, h, w) bool -> predictions (B, C, h, w)."""
        batch, _, height, width = context.shape
        x = self.input(context.permute(0, 2, 3, 1))
        x = torch.where(masked[..., None], self.mask_token.expand_as(x), x)
        x = x.permute(0, 3, 1, 2)
        x = x + self.position(x)
        tokens = self.layers(x.flatten(2).transpose(1, 2))
        out = self.output(self.norm(tokens))
        return out.transpose(1, 2).reshape(batch, -1, height, width)


class DistillationHeads(nn.Module):
    """Linear maps from the student's embeddings to the teachers' standardised embeddings (training only).

    Linear, so that what the teachers know must be linearly readable from the embeddings the plugin ships, as a
    probe reads them: 'tokens' from the dense embedding averaged over each teacher patch, 'pooled' from the pooled
    embedding, 'pixels' from the dense embedding of single pixels.
    """

    def __init__(self, config: GeoMeldConfig) -> None:
        super().__init__()
        self.heads = nn.ModuleDict(
            {name: nn.Linear(config.embed_dim, config.teacher_dim) for name in ("tokens", "pooled", "pixels")}
        )

    def forward(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Apply head `name` to (..., embed_dim) features."""
        return self.heads[name](x)


class GeoMeldFM(nn.Module):
    """The whole pretraining model: image and text encoders, MAE decoders, JEPA predictor, distillation heads and
    the contrastive scale."""

    def __init__(self, config: GeoMeldConfig) -> None:
        super().__init__()
        self.config = config
        self.image = ImageEncoder(config)
        self.text = TextEncoder(config)
        self.mae = MAEDecoders(config)
        self.jepa = JEPAPredictor(config)
        self.distil = DistillationHeads(config)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))


def build_model(config: GeoMeldConfig | None = None) -> GeoMeldFM:
    """A freshly initialised GeoMeld-FM (truncated-normal conv/linear weights, as in ConvNeXt)."""
    model = GeoMeldFM(config or GeoMeldConfig())
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


# ---- EMA teacher and masking ---------------------------------------------------------------------------------------
def make_ema_teacher(encoder: nn.Module) -> nn.Module:
    """A frozen copy of the encoder, in eval mode, to be updated with ema_update."""
    teacher = copy.deepcopy(encoder)
    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """teacher = momentum * teacher + (1 - momentum) * student, for parameters; buffers are copied."""
    for t_param, s_param in zip(teacher.parameters(), student.parameters()):
        t_param.mul_(momentum).add_(s_param.detach(), alpha=1.0 - momentum)
    for t_buffer, s_buffer in zip(teacher.buffers(), student.buffers()):
        t_buffer.copy_(s_buffer)


def random_patch_mask(
    batch: int, height: int, width: int, patch: int, ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Bool (B, H, W), True on masked pixels: exactly round(ratio * n) of the n patch x patch squares per sample."""
    rows, cols = math.ceil(height / patch), math.ceil(width / patch)
    count = rows * cols
    masked_count = min(count, max(0, round(ratio * count)))
    noise = torch.rand(batch, count, generator=generator)
    order = noise.argsort(dim=1)
    grid = torch.zeros(batch, count, dtype=torch.bool)
    grid.scatter_(1, order[:, :masked_count], True)
    grid = grid.view(batch, rows, cols)
    pixels = grid.repeat_interleave(patch, dim=1).repeat_interleave(patch, dim=2)
    return pixels[:, :height, :width]
