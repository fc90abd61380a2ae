"""Galileo-Nano encoder (Tseng et al. 2025, arXiv 2502.09356) with its pretrained weights: a distillation teacher.

The project's own implementation of the public nasaharvest/galileo encoder (MIT): a ViT over space-time patch tokens,
one token per channel group, with flexible patch sizes. It reproduces the reference's outputs to ~1e-6 (see
tests/training/test_teacher_galileo.py) and is faster at inference: masked tokens are dropped and, when every sample
keeps the same number of tokens, attention runs without a mask.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from training.teachers.blocks import Block

GALILEO_S2_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")

# The model's four kinds of input and their channel groups (group name -> band indices within that input).
SPACE_TIME_BANDS: tuple[str, ...] = ("VV", "VH", *GALILEO_S2_BANDS, "NDVI")
SPACE_TIME_GROUPS: dict[str, tuple[int, ...]] = {
    "S1": (0, 1),
    "S2_RGB": (2, 3, 4),
    "S2_Red_Edge": (5, 6, 7),
    "S2_NIR_10m": (8,),
    "S2_NIR_20m": (9,),
    "S2_SWIR": (10, 11),
    "NDVI": (12,),
}
SPACE_GROUPS: dict[str, tuple[int, ...]] = {"SRTM": (0, 1), "DW": tuple(range(2, 11)), "WC": tuple(range(11, 16))}
TIME_GROUPS: dict[str, tuple[int, ...]] = {"ERA5": (0, 1), "TC": (2, 3, 4), "VIIRS": (5,)}
STATIC_GROUPS: dict[str, tuple[int, ...]] = {
    "LS": (0,),
    "location": (1, 2, 3),
    "DW_static": tuple(range(4, 13)),
    "WC_static": tuple(range(13, 18)),
}
SPACE_BAND_COUNT, TIME_BAND_COUNT, STATIC_BAND_COUNT = 16, 6, 18
S2_GROUPS: tuple[str, ...] = ("S2_RGB", "S2_Red_Edge", "S2_NIR_10m", "S2_NIR_20m", "S2_SWIR")
S2_OFFSET = SPACE_TIME_BANDS.index("B02")  # S2 bands sit contiguously from here in the space-time input
BASE_GSD_M = 10.0  # metres per pixel the position encoding is scaled against

TEACHER_FOLDER = "galileo_nano"


def default_teacher_dir() -> Path:
    """Folder of the pretrained teachers: $GEOMELD_TEACHERS, else ../shared/teachers beside the repository."""
    env = os.environ.get("GEOMELD_TEACHERS")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "teachers"


def sincos_1d(dim: int, positions: Tensor) -> Tensor:
    """(N, dim) sin | cos encoding of positions; Galileo's frequencies 10000^(-i / (2 dim)), i < dim / 2."""
    # Same float32 operations as the reference: the tables must agree to the last bit or two.
    exponents = torch.arange(dim // 2, device=positions.device) / dim / 2.0
    frequencies = 1.0 / 10000**exponents
    angles = positions.reshape(-1, 1).float() * frequencies
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def month_table(dim: int) -> Tensor:
    """(12, dim) month encoding: sin of the month's angle on the year circle in the first half, cos in the second."""
    angles = (torch.arange(13) / (12 / (2 * math.pi)))[:12, None]
    return torch.cat([angles.sin().expand(12, dim // 2), angles.cos().expand(12, dim // 2)], dim=1)


def is_masked(mask: Tensor) -> Tensor:
    """Boolean 'masked' of a mask in the reference's convention (1 = masked, 2 = masked and to decode, 0 = seen)."""
    return mask if mask.dtype == torch.bool else mask >= 1


class GalileoOutput(NamedTuple):
    """Encoder tokens (after the exit layer norm) and their patch-level masks, in the reference's return order."""

    space_time: Tensor  # (B, H/P, W/P, T, 7, D)
    space: Tensor  # (B, H/P, W/P, 3, D)
    time: Tensor  # (B, T, 3, D)
    static: Tensor  # (B, 4, D)
    space_time_mask: Tensor  # (B, H/P, W/P, T, 7), the input mask at each patch's top-left pixel
    space_mask: Tensor  # (B, H/P, W/P, 3)
    time_mask: Tensor  # (B, T, 3)
    static_mask: Tensor  # (B, 4)
    months: Tensor  # (B, T)


class FlexiPatchEmbed(nn.Module):
    """Patch projection whose base kernel is resampled to any patch size by the FlexiViT pseudo-inverse resize."""

    def __init__(self, in_channels: int, dim: int, base_patch: int):
        super().__init__()
        self.base_patch = base_patch
        self.proj = nn.Conv2d(in_channels, dim, base_patch, stride=base_patch)
        self._pinvs: dict[int, Tensor] = {}

    def _pinv(self, patch: int) -> Tensor:
        """(patch^2, base^2) pseudo-inverse of the bicubic, antialiased base -> patch resize of a pixel patch."""
        if patch not in self._pinvs:
            base = self.base_patch
            basis = torch.eye(base * base).reshape(-1, 1, base, base)  # one image per base pixel
            resized = F.interpolate(basis, size=(patch, patch), mode="bicubic", antialias=True)
            self._pinvs[patch] = torch.linalg.pinv(resized.reshape(base * base, patch * patch))
        return self._pinvs[patch]

    def kernel(self, patch: int) -> Tensor:
        """Conv weight for `patch`-pixel patches: on a resized patch it answers as the base kernel on the original."""
        weight = self.proj.weight
        if patch == self.base_patch:
            return weight
        out_channels, in_channels = weight.shape[:2]
        resampled = weight.reshape(out_channels * in_channels, -1) @ self._pinv(patch).to(weight).T
        return resampled.reshape(out_channels, in_channels, patch, patch)

    def forward(self, x: Tensor, patch: int) -> Tensor:
        """(B, H, W, [T,] C) pixels -> (B, H/P, W/P, [T,] D) tokens."""
        if x.ndim == 5:
            b, h, w, t, c = x.shape
            tokens = F.conv2d(
                x.permute(0, 3, 4, 1, 2).reshape(b * t, c, h, w), self.kernel(patch), self.proj.bias, patch
            )
            return tokens.reshape(b, t, *tokens.shape[1:]).permute(0, 3, 4, 1, 2)
        return F.conv2d(x.permute(0, 3, 1, 2), self.kernel(patch), self.proj.bias, patch).permute(0, 2, 3, 1)


class Attention(nn.Module):
    """Multi-head self-attention; `key_mask` (B, N) True = may be attended to, None = every token may."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        # Separate q, k, v projections: the checkpoint stores them so.
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, key_mask: Optional[Tensor]) -> Tensor:
        """(B, N, D) -> (B, N, D)."""
        b, n, d = x.shape
        q, k, v = (layer(x).reshape(b, n, self.heads, -1).transpose(1, 2) for layer in (self.q, self.k, self.v))
        # The reference always passes a mask, even an all-true one; None is the same math at half the time.
        mask = None if key_mask is None else key_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


def _flatten(parts: Sequence[Tensor], batch: int, token_dims: int) -> Tensor:
    """Concatenate tensors of shape (B, ..., [D]) along one token axis; token_dims = trailing feature axes (0 or 1)."""
    return torch.cat([p.reshape(batch, -1, *p.shape[p.ndim - token_dims :]) for p in parts], dim=1)


def _keep_seen(x: Tensor, masked: Tensor) -> tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
    """Move each sample's seen tokens to the front, in order, and cut to the longest; returns (tokens, order, key mask).

    order is None when nothing is masked; the key mask is None when every sample keeps as many tokens as the longest.
    """
    seen_counts = (~masked).sum(dim=1)
    longest = int(seen_counts.max())
    if longest == masked.shape[1]:
        return x, None, None
    order = torch.sort(masked.to(torch.int8), dim=1, stable=True).indices[:, :longest]
    x = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
    if bool((seen_counts == longest).all()):
        return x, order, None
    key_mask = torch.arange(longest, device=x.device) < seen_counts[:, None]
    # Padding rows are masked tokens: zero them so that a NaN in an unseen input can never reach the attention.
    return torch.where(key_mask[..., None], x, 0.0), order, key_mask


def _restore(x: Tensor, order: Optional[Tensor], key_mask: Optional[Tensor], length: int) -> Tensor:
    """Inverse of _keep_seen: seen tokens back at their positions, zeros at the masked ones."""
    if order is None:
        return x
    if key_mask is not None:
        x = torch.where(key_mask[..., None], x, 0.0)
    full = x.new_zeros(x.shape[0], length, x.shape[-1])
    return full.scatter(1, order[..., None].expand_as(x), x)


def _expand_cat(parts: Sequence[Tensor], shape: Sequence[int]) -> Tensor:
    """Concatenate encoding pieces along the feature axis after broadcasting each to `shape` + its own width."""
    return torch.cat([p.expand(*shape, p.shape[-1]) for p in parts], dim=-1)


class GalileoNano(nn.Module):
    """Galileo encoder: channel-group patch tokens of space-time, space, time and static inputs through a ViT."""

    def __init__(
        self,
        s2_mean: Sequence[float],
        s2_std: Sequence[float],
        embedding_size: int = 128,
        depth: int = 4,
        num_heads: int = 8,
        mlp_ratio: float = 4.0,
        max_sequence_length: int = 24,
        max_patch_size: int = 8,
    ):
        super().__init__()
        self.dim = embedding_size
        quarter = embedding_size // 4  # channel, time position, month and space position each get a quarter
        self.max_patch_size = max_patch_size
        # Pretraining normalisation of the S2 DNs: x = (raw - (mean - 2 std)) / (4 std).
        mean, std = torch.tensor(s2_mean, dtype=torch.float64), torch.tensor(s2_std, dtype=torch.float64)
        self.register_buffer("s2_low", (mean - 2 * std).float(), persistent=False)
        self.register_buffer("s2_range", (4 * std).float(), persistent=False)

        self.space_time_embed = nn.ModuleDict(
            {
                name: FlexiPatchEmbed(len(bands), embedding_size, max_patch_size)
                for name, bands in SPACE_TIME_GROUPS.items()
            }
        )
        self.space_embed = nn.ModuleDict(
            {name: FlexiPatchEmbed(len(bands), embedding_size, max_patch_size) for name, bands in SPACE_GROUPS.items()}
        )
        self.time_embed = nn.ModuleDict({name: nn.Linear(len(b), embedding_size) for name, b in TIME_GROUPS.items()})
        self.static_embed = nn.ModuleDict(
            {name: nn.Linear(len(b), embedding_size) for name, b in STATIC_GROUPS.items()}
        )

        # Fixed tables (the checkpoint holds them too) and learnt per-group channel embeddings.
        self.register_buffer("pos_embed", sincos_1d(quarter, torch.arange(max_sequence_length)))
        self.month_embed = nn.Embedding.from_pretrained(month_table(quarter), freeze=True)
        self.s_t_channel_embed = nn.Parameter(torch.zeros(len(SPACE_TIME_GROUPS), quarter))
        self.sp_channel_embed = nn.Parameter(torch.zeros(len(SPACE_GROUPS), quarter))
        self.t_channel_embed = nn.Parameter(torch.zeros(len(TIME_GROUPS), quarter))
        self.st_channel_embed = nn.Parameter(torch.zeros(len(STATIC_GROUPS), quarter))

        self.blocks = nn.ModuleList(
            Block(Attention(embedding_size, num_heads), embedding_size, mlp_ratio) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embedding_size)

    @classmethod
    def load(cls, folder: Path) -> GalileoNano:
        """The pretrained encoder of `folder` (config.json, encoder.pt, normalization.json), in eval mode and frozen."""
        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())["model"]["encoder"]
        stats = json.loads((folder / "normalization.json").read_text())[str(len(SPACE_TIME_BANDS))]
        s2 = slice(S2_OFFSET, S2_OFFSET + len(GALILEO_S2_BANDS))
        model = cls(
            stats["mean"][s2],
            stats["std"][s2],
            embedding_size=config["embedding_size"],
            depth=config["depth"],
            num_heads=config["num_heads"],
            mlp_ratio=config["mlp_ratio"],
            max_sequence_length=config["max_sequence_length"],
            max_patch_size=config["max_patch_size"],
        )
        model.load_state_dict(torch.load(folder / "encoder.pt", map_location="cpu", weights_only=True))
        return model.requires_grad_(False).eval()

    def normalise_s2(self, raw_dn: Tensor) -> Tensor:
        """(..., 10) S2 digital numbers (reflectance x 10000, GALILEO_S2_BANDS order) -> the pretraining's scale."""
        return (raw_dn.to(self.s2_low) - self.s2_low) / self.s2_range

    def encode_s2(
        self, raw_dn: Tensor, patch_size: int, month0: int = 6, missing: Optional[Tensor] = None
    ) -> tuple[Tensor, Tensor]:
        """Tokens of S2-only crops: (B, H, W, 10) DN -> ((B, H/P, W/P, 5, D) tokens of S2_GROUPS, (B, 5) seen).

        `missing` (B, 10) bool marks bands a sample lacks; every group holding one is masked for that sample (its
        values are never read) and reported unseen. An unseen group's tokens are the reference's placeholder (the
        final norm of zeros): use the seen mask. `month0` is the 0-based acquisition month.
        """
        b, h, w, _ = raw_dn.shape
        # no_grad rather than inference_mode: the targets stay ordinary tensors that a loss may save for backward.
        with torch.no_grad():
            device = self.s2_low.device
            s2 = self.normalise_s2(raw_dn.to(device))
            group_masked = torch.ones(b, len(SPACE_TIME_GROUPS), dtype=torch.bool, device=device)
            group_masked[:, 1 : 1 + len(S2_GROUPS)] = False
            if missing is not None:
                missing = missing.to(device=device, dtype=torch.bool)
                s2 = torch.where(missing[:, None, None, :], 0.0, s2)
                for index, name in enumerate(S2_GROUPS, start=1):
                    bands = [band - S2_OFFSET for band in SPACE_TIME_GROUPS[name]]
                    group_masked[:, index] = missing[:, bands].any(dim=1)
            space_time_x = F.pad(s2, (S2_OFFSET, len(SPACE_TIME_BANDS) - S2_OFFSET - s2.shape[-1]))[:, :, :, None]
            out = self(
                space_time_x,
                s2.new_zeros(b, h, w, SPACE_BAND_COUNT),
                s2.new_zeros(b, 1, TIME_BAND_COUNT),
                s2.new_zeros(b, STATIC_BAND_COUNT),
                group_masked[:, None, None, None, :].expand(b, h, w, 1, -1),
                torch.ones(b, h, w, len(SPACE_GROUPS), dtype=torch.bool, device=device),
                torch.ones(b, 1, len(TIME_GROUPS), dtype=torch.bool, device=device),
                torch.ones(b, len(STATIC_GROUPS), dtype=torch.bool, device=device),
                torch.full((b, 1), month0, dtype=torch.long, device=device),
                patch_size,
            )
            s2_groups = slice(1, 1 + len(S2_GROUPS))
            return out.space_time[:, :, :, 0, s2_groups], ~group_masked[:, s2_groups]

    @staticmethod
    def pooled_mean(tokens: Tensor, seen: Tensor) -> Tensor:
        """Mean over the seen tokens per sample: (B, ..., G, D) tokens, (B, G) or (B, ..., G) seen mask -> (B, D)."""
        if seen.ndim == 2 and tokens.ndim > 3:
            seen = seen.reshape(seen.shape[0], *[1] * (tokens.ndim - 3), seen.shape[1])
        weight = seen.expand(tokens.shape[:-1]).to(tokens.dtype).reshape(tokens.shape[0], -1, 1)
        return (tokens.reshape(weight.shape[0], -1, tokens.shape[-1]) * weight).sum(dim=1) / weight.sum(dim=1)

    @staticmethod
    def average_tokens(output: GalileoOutput) -> Tensor:
        """Mean over every seen token of a forward output, all four kinds together: the reference's pooled embedding."""
        batch = output.static.shape[0]
        tokens = _flatten(output[:4], batch, 1)
        seen = ~_flatten([is_masked(m) for m in output[4:8]], batch, 0)
        return GalileoNano.pooled_mean(tokens, seen)

    def forward(
        self,
        space_time_x: Tensor,
        space_x: Tensor,
        time_x: Tensor,
        static_x: Tensor,
        space_time_mask: Tensor,
        space_mask: Tensor,
        time_mask: Tensor,
        static_mask: Tensor,
        months: Tensor,
        patch_size: int,
        input_resolution_m: float = BASE_GSD_M,
        exit_after: Optional[int] = None,
        token_exit_cfg: Optional[dict[str, int]] = None,
        add_layernorm_on_exit: bool = True,
    ) -> GalileoOutput:
        """Encode (B, H, W, T, 13) space-time, (B, H, W, 16) space, (B, T, 6) time and (B, 18) static inputs.

        Masks hold one value per channel group, 0 = seen and 1 (or True) = masked; months (B, T) are 0-based.
        exit_after runs only the first N blocks; token_exit_cfg (group name -> depth) lets a group's tokens leave after
        that many blocks (0 = its linear projection), as in Galileo's pretraining. Masked tokens come out as zeros
        before the exit layer norm.
        """
        b, h, w = space_time_x.shape[:3]
        if h % patch_size or w % patch_size:
            raise ValueError(f"image size {h}x{w} is not a multiple of the patch size {patch_size}")
        # A patch takes the mask of its top-left pixel, as in the reference.
        masks = [space_time_mask[:, ::patch_size, ::patch_size], space_mask[:, ::patch_size, ::patch_size]]
        masks += [time_mask, static_mask]
        masked = [is_masked(m) for m in masks]

        tokens = [
            self._project(
                SPACE_TIME_GROUPS, masked[0], lambda n, c: self.space_time_embed[n](space_time_x[..., c], patch_size)
            ),
            self._project(SPACE_GROUPS, masked[1], lambda n, c: self.space_embed[n](space_x[..., c], patch_size)),
            self._project(TIME_GROUPS, masked[2], lambda n, c: self.time_embed[n](time_x[..., c])),
            self._project(STATIC_GROUPS, masked[3], lambda n, c: self.static_embed[n](static_x[..., c])),
        ]
        if exit_after is None or exit_after > 0:
            gsd_ratio = input_resolution_m * patch_size / BASE_GSD_M
            tokens = self._transform(tokens, masked, months, gsd_ratio, exit_after, token_exit_cfg)
        else:
            tokens = [torch.where(m[..., None], 0.0, x) for x, m in zip(tokens, masked)]
        if add_layernorm_on_exit:
            tokens = [self.norm(x) for x in tokens]
        return GalileoOutput(*tokens, *masks, months)

    def _project(self, groups: dict[str, tuple[int, ...]], masked: Tensor, project: Callable) -> Tensor:
        """Per-group linear tokens stacked on a group axis (-2); a group masked for everyone is skipped (zeros)."""
        parts = []
        for index, (name, bands) in enumerate(groups.items()):
            if bool(masked[..., index].all()):
                parts.append(self.norm.weight.new_zeros(*masked.shape[:-1], self.dim))
            else:
                parts.append(project(name, list(bands)))
        return torch.stack(parts, dim=-2)

    def _encodings(self, shapes: list[torch.Size], months: Tensor, gsd_ratio: float) -> list[Tensor]:
        """Channel | time position | month | space position encodings for the four token kinds (zeros where n/a)."""
        (b, h, w, t, _, d), sp_shape, t_shape, st_shape = shapes
        quarter = d // 4
        device = self.pos_embed.device
        # First half of the space encoding: the column; second half: the row (the reference's meshgrid order).
        cols = sincos_1d(quarter // 2, torch.arange(w, device=device) * gsd_ratio)
        rows = sincos_1d(quarter // 2, torch.arange(h, device=device) * gsd_ratio)
        space = torch.cat([cols[None].expand(h, w, -1), rows[:, None].expand(h, w, -1)], dim=-1)
        position, month = self.pos_embed[:t], self.month_embed(months)
        zeros = space.new_zeros(quarter)
        return [
            _expand_cat(
                [self.s_t_channel_embed, position[:, None], month[:, None, None, :, None], space[:, :, None, None]],
                (b, h, w, t, len(SPACE_TIME_GROUPS)),
            ),
            _expand_cat([self.sp_channel_embed, zeros, zeros, space[:, :, None]], sp_shape[:-1]),
            _expand_cat([self.t_channel_embed, position[:, None], month[:, :, None], zeros], t_shape[:-1]),
            _expand_cat([self.st_channel_embed, zeros, zeros, zeros], st_shape[:-1]),
        ]

    def _transform(
        self,
        tokens: list[Tensor],
        masked: list[Tensor],
        months: Tensor,
        gsd_ratio: float,
        exit_after: Optional[int],
        token_exit_cfg: Optional[dict[str, int]],
    ) -> list[Tensor]:
        """Add the encodings and run the blocks over each sample's seen tokens; masked tokens come back as zeros."""
        batch = tokens[0].shape[0]
        shapes = [x.shape for x in tokens]
        encodings = self._encodings(shapes, months, gsd_ratio)
        x = _flatten([t + e for t, e in zip(tokens, encodings)], batch, 1)
        flat_masked = _flatten(masked, batch, 0)
        x, order, key_mask = _keep_seen(x, flat_masked)
        blocks = self.blocks if exit_after is None else self.blocks[:exit_after]

        if token_exit_cfg is not None:
            # Early-exiting tokens keep their state from before block `depth`; depth 0 = the bare linear projection.
            depths = [
                torch.tensor([token_exit_cfg[name] for name in groups], device=x.device).expand(m.shape)
                for groups, m in zip((SPACE_TIME_GROUPS, SPACE_GROUPS, TIME_GROUPS, STATIC_GROUPS), masked)
            ]
            exit_depth = _keep_seen(_flatten(depths, batch, 0)[..., None], flat_masked)[0][..., 0]
            exited = _keep_seen(_flatten(tokens, batch, 1), flat_masked)[0]
        if x.shape[1] > 0:
            for index, block in enumerate(blocks):
                if token_exit_cfg is not None and index > 0:
                    exited = torch.where((exit_depth == index)[..., None], x, exited)
                x = block(x, key_mask)
        if token_exit_cfg is not None:
            x = torch.where((exit_depth >= len(blocks))[..., None], x, exited)

        x = _restore(x, order, key_mask, flat_masked.shape[1])
        sizes = [math.prod(s[1:-1]) for s in shapes]
        return [part.reshape(shape) for part, shape in zip(x.split(sizes, dim=1), shapes)]
