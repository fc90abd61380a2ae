"""Presto encoder (Tseng et al. 2023, arXiv 2304.14065): a per-pixel time-series transformer, used as a frozen teacher.

Each pixel is a sequence of tokens: one per (channel group, timestep), one per timestep for Dynamic World, one static
SRTM token and one location token. Masked tokens are left out; the eval embedding is the final norm of the mean of the
remaining tokens after the transformer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Union

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from training.teachers.blocks import Block

# The 17 input channels, in the order of the last axis of `x` and `mask`.
PRESTO_CHANNELS: tuple[str, ...] = (
    "VV", "VH", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12",
    "temperature_2m", "total_precipitation", "elevation", "slope", "NDVI",
)  # fmt: skip
PRESTO_S2_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
S2_CHANNELS: tuple[int, ...] = tuple(PRESTO_CHANNELS.index(band) for band in PRESTO_S2_BANDS)

# Channel groups, each embedded by its own linear layer into one token per timestep (SRTM: one token in all). The
# group's index is also its channel-embedding row; Dynamic World takes the row after the last group.
CHANNEL_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("S1", (0, 1)),
    ("S2_RGB", (2, 3, 4)),
    ("S2_Red_Edge", (5, 6, 7)),
    ("S2_NIR_10m", (8,)),
    ("S2_NIR_20m", (9,)),
    ("S2_SWIR", (10, 11)),
    ("ERA5", (12, 13)),
    ("SRTM", (14, 15)),
    ("NDVI", (16,)),
)
CHANNEL_NAMES: tuple[str, ...] = (*(name for name, _ in CHANNEL_GROUPS), "dynamic_world")
STATIC_GROUP = "SRTM"
DYNAMIC_WORLD_MISSING = 9  # the class index that means "no label"; its token is always masked
S2_SCALE = 10000.0  # Presto's S2 normalisation: reflectance = DN / 10000
CHECKPOINT = "default_model.pt"
CONFIG = "config.json"

Month = Union[int, Tensor]


def position_table(length: int, size: int, period: float = 1000.0) -> Tensor:
    """(length, size) sinusoid timestep encoding: sin on even dimensions, cos on odd ones, pairs sharing a frequency."""
    positions = torch.arange(length, dtype=torch.float64)[:, None]
    exponents = (2 * (torch.arange(size) // 2)).to(torch.float64) / size
    angles = positions / period**exponents
    table = torch.where(torch.arange(size) % 2 == 0, angles.sin(), angles.cos())
    return table.float()


def month_table(size: int) -> Tensor:
    """(12, size) month encoding: the month's angle on the year circle, sin in the first half, cos in the second."""
    angles = torch.arange(12, dtype=torch.float64)[:, None] * (2 * math.pi / 12)
    half = angles.expand(12, size // 2)
    return torch.cat([half.sin(), half.cos()], dim=1).float()


def cartesian(latlons: Tensor) -> Tensor:
    """(N,2) latitude, longitude in degrees -> (N,3) point on the unit sphere, so the embedding has no seam at ±180."""
    radians = latlons.float() * (math.pi / 180)
    lat, lon = radians[:, 0], radians[:, 1]
    return torch.stack([lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()], dim=-1)


def month_indices(month: Month, steps: int, device: torch.device) -> Tensor:
    """(N,T) 0-based month of every timestep from a start month ((N,) or int: then (1,T), the same for all pixels) or
    the months themselves ((N,T))."""
    month = torch.as_tensor(month, device=device).long()
    if month.dim() == 2:
        return month
    return (month.reshape(-1, 1) + torch.arange(steps, device=device)) % 12


def s2_pixel_inputs(raw_dn: Tensor, missing: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(N,10) S2 digital numbers in PRESTO_S2_BANDS order -> one-timestep Presto `x` (N,1,17) and `mask` (N,1,17).

    S1, ERA5 and SRTM are masked; NDVI comes from B08 and B04 and is masked where either is `missing` ((N,10) bool).
    """
    count = raw_dn.shape[0]
    reflectance = raw_dn.float() / S2_SCALE
    hidden = torch.ones(count, len(PRESTO_CHANNELS), dtype=torch.bool, device=raw_dn.device)
    if missing is None:
        hidden[:, list(S2_CHANNELS)] = False
    else:
        missing = missing.to(device=raw_dn.device, dtype=torch.bool)
        # absent bands may hold NaN or fill values: zero them, as a masked value must not reach any arithmetic
        reflectance = reflectance.masked_fill(missing, 0.0)
        hidden[:, list(S2_CHANNELS)] = missing
    red = reflectance[:, PRESTO_S2_BANDS.index("B04")]
    nir = reflectance[:, PRESTO_S2_BANDS.index("B08")]
    total = nir + red
    # computed from the scaled reflectances, as Presto's pipeline does, so the float32 values match it bit for bit
    ndvi = torch.where(total > 0, (nir - red) / torch.where(total > 0, total, 1.0), 0.0)
    ndvi_index = PRESTO_CHANNELS.index("NDVI")
    hidden[:, ndvi_index] = (
        hidden[:, S2_CHANNELS[PRESTO_S2_BANDS.index("B04")]] | hidden[:, S2_CHANNELS[PRESTO_S2_BANDS.index("B08")]]
    )
    ndvi = ndvi.masked_fill(hidden[:, ndvi_index], 0.0)
    x = torch.zeros(count, len(PRESTO_CHANNELS), device=raw_dn.device)
    x[:, list(S2_CHANNELS)] = reflectance
    x[:, ndvi_index] = ndvi
    return x[:, None], hidden[:, None].float()


class SelfAttention(nn.Module):
    """Multi-head self-attention; an optional (N,1,1,L) boolean mask marks the keys a token may attend to."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, keys: Tensor | None = None) -> Tensor:
        """(N,L,D) tokens -> (N,L,D)."""
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=keys)
        return self.proj(mixed.transpose(1, 2).reshape(batch, length, dim))


class Presto(nn.Module):
    """The Presto encoder; `forward` gives the (N,D) eval embedding of each pixel's time series."""

    def __init__(
        self,
        dim: int = 128,
        depth: int = 2,
        heads: int = 8,
        mlp_ratio: float = 4.0,
        channel_embed_ratio: float = 0.25,
        month_embed_ratio: float = 0.25,
        max_sequence_length: int = 24,
    ) -> None:
        super().__init__()
        channel_size = int(dim * channel_embed_ratio)
        month_size = int(dim * month_embed_ratio)
        position_size = dim - channel_size - month_size
        self.eo_patch_embed = nn.ModuleDict({name: nn.Linear(len(index), dim) for name, index in CHANNEL_GROUPS})
        self.dw_embed = nn.Embedding(DYNAMIC_WORLD_MISSING + 1, dim)
        self.latlon_embed = nn.Linear(3, dim)
        self.channel_embed = nn.Embedding(len(CHANNEL_GROUPS) + 1, channel_size)
        # fixed sinusoids, stored in the checkpoint too (loading overwrites them with the identical trained-with values)
        self.pos_embed = nn.Parameter(position_table(max_sequence_length, position_size)[None], requires_grad=False)
        self.month_embed = nn.Embedding.from_pretrained(month_table(month_size), freeze=True)
        self.blocks = nn.ModuleList(Block(SelfAttention(dim, heads), dim, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    @classmethod
    def load(cls, folder: Path) -> Presto:
        """The pretrained encoder of `folder` (config.json + default_model.pt), in eval mode and frozen."""
        config = json.loads((Path(folder) / CONFIG).read_text())
        state = torch.load(Path(folder) / CHECKPOINT, map_location="cpu", weights_only=True)
        # the checkpoint holds encoder and decoder; only the encoder is needed for embeddings
        encoder = {key.removeprefix("encoder."): value for key, value in state.items() if key.startswith("encoder.")}
        model = cls(
            dim=config["encoder_embedding_size"],
            depth=config["encoder_depth"],
            heads=config["encoder_num_heads"],
            mlp_ratio=config["mlp_ratio"],
            channel_embed_ratio=config["channel_embed_ratio"],
            month_embed_ratio=config["month_embed_ratio"],
            max_sequence_length=encoder["pos_embed"].shape[1],
        )
        model.load_state_dict(encoder, strict=True)
        return model.eval().requires_grad_(False)

    def _context(self, group: int, months: Tensor, steps: Tensor) -> Tensor:
        """(N or 1, k, D) month + channel-group + timestep embedding added to a group's tokens at timesteps `steps`."""
        channel = self.channel_embed.weight[group].expand(months.shape[0], len(steps), -1)
        if CHANNEL_NAMES[group] == STATIC_GROUP:
            # the static token has no month and no timestep: those parts of its embedding stay zero
            month = channel.new_zeros(*channel.shape[:2], self.month_embed.embedding_dim)
            position = channel.new_zeros(*channel.shape[:2], self.pos_embed.shape[-1])
        else:
            month = self.month_embed(months[:, steps])
            position = self.pos_embed[:, steps].expand(months.shape[0], -1, -1)
        return torch.cat([month, channel, position], dim=-1)

    def tokens(
        self, x: Tensor, mask: Tensor, dynamic_world: Tensor, latlons: Tensor, months: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Location token, then every (group, timestep) token seen by at least one pixel: (N,L,D), visibility (N,L)."""
        batch, steps, _ = x.shape
        hidden = mask.bool()
        visibility = []
        for name, channels in CHANNEL_GROUPS:
            # a group's token is masked when any of its channels is (the static token follows the first timestep)
            span = 1 if name == STATIC_GROUP else steps
            visibility.append(~hidden[:, :span, list(channels)].any(-1))
        visibility.append(dynamic_world != DYNAMIC_WORLD_MISSING)
        # only the columns some pixel sees enter the sequence: with one mask pattern per batch, exactly the seen ones
        kept = [visible.any(0).nonzero().flatten() for visible in visibility]
        length = 1 + sum(len(columns) for columns in kept)
        # written in place into one (N,L,D) tensor: no per-group concatenation of large intermediates
        out = x.new_empty(batch, length, self.norm.normalized_shape[0])
        context = x.new_zeros(months.shape[0], length, out.shape[-1])
        out[:, 0] = self.latlon_embed(cartesian(latlons))
        start = 1
        for group, columns in enumerate(kept):
            if len(columns) == 0:
                continue
            stop = start + len(columns)
            if group < len(CHANNEL_GROUPS):
                name, channels = CHANNEL_GROUPS[group]
                out[:, start:stop] = self.eo_patch_embed[name](x[:, columns[:, None], list(channels)])
            else:
                out[:, start:stop] = self.dw_embed(dynamic_world[:, columns])
            context[:, start:stop] = self._context(group, months, columns)
            start = stop
        seen = torch.cat([hidden.new_ones(batch, 1), *(v[:, c] for v, c in zip(visibility, kept))], dim=1)
        return out.add_(context), seen

    def forward(self, x: Tensor, mask: Tensor, dynamic_world: Tensor, latlons: Tensor, month: Month) -> Tensor:
        """(N,T,17) inputs, (N,T,17) mask (1 = masked), (N,T) classes, (N,2) degrees, start month -> (N,D)."""
        batch, steps, _ = x.shape
        months = month_indices(month, steps, x.device)
        tokens, seen = self.tokens(x, mask, dynamic_world.long(), latlons, months)
        if bool(seen.all()):
            # the usual case (e.g. one mask pattern for the whole batch): plain attention over the seen tokens only
            for block in self.blocks:
                tokens = block(tokens)
            return self.norm(tokens.mean(dim=1))
        # pixels differ in what they see: hidden tokens stay in the sequence but no token attends to them; zeroed so
        # that NaN or inf in a masked input cannot leak through a zero attention weight
        tokens = tokens.masked_fill(~seen[..., None], 0.0)
        keys = seen[:, None, None, :]
        for block in self.blocks:
            tokens = block(tokens, keys)
        weight = seen.to(tokens.dtype)[..., None]
        return self.norm((tokens * weight).sum(dim=1) / weight.sum(dim=1))

    def embed_s2_pixels(
        self,
        raw_dn: Tensor,
        latlons: Tensor,
        month0: int = 6,
        missing: Tensor | None = None,
        batch: int = 4096,
    ) -> Tensor:
        """(N,10) S2 DN of one timestep (PRESTO_S2_BANDS order) at (N,2) lat/lon -> (N,D) eval embeddings."""
        device = self.norm.weight.device
        raw_dn = torch.as_tensor(raw_dn)
        latlons = torch.as_tensor(latlons)
        if missing is not None:
            missing = torch.as_tensor(missing, dtype=torch.bool)
        outputs = []
        with torch.inference_mode():
            for start in range(0, raw_dn.shape[0], batch):
                rows = slice(start, start + batch)
                x, mask = s2_pixel_inputs(raw_dn[rows].to(device), None if missing is None else missing[rows])
                dynamic_world = torch.full(x.shape[:2], DYNAMIC_WORLD_MISSING, dtype=torch.long, device=device)
                outputs.append(self(x, mask, dynamic_world, latlons[rows].to(device), month0))
        if not outputs:
            return torch.zeros(0, self.norm.normalized_shape[0])
        return torch.cat(outputs)
