"""The GeoMeld-FM pretraining objective: student, EMA teacher and the weighted sum of every pretext loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from model_core.bands import S2_BANDS
from training.losses import (
    dense_text_loss,
    distillation_loss,
    info_nce,
    jepa_loss,
    lulc_cross_entropy,
    masked_mean,
    masked_mse,
    neighbourhood_loss,
)
from training.model import GeoMeldFM, make_ema_teacher

S2 = slice(0, len(S2_BANDS))
S1 = slice(len(S2_BANDS), len(S2_BANDS) + 2)
LOSS_NAMES: tuple[str, ...] = (
    "mae_s2",
    "mae_s1",
    "mae_dem",
    "mae_lulc",
    "jepa",
    "infonce",
    "dense_text",
    "distil_tokens",
    "distil_pooled",
    "distil_pixels",
    "text_anchor",
)
RECONSTRUCTION: tuple[str, ...] = ("mae_s2", "mae_s1", "mae_dem", "mae_lulc", "jepa")  # from the masked input
DISTILLATION: tuple[str, ...] = ("distil_tokens", "distil_pooled", "distil_pixels")
ANCHOR_WORDS = 64  # words per step whose text embeddings keep their GloVe neighbours


@dataclass
class Batch:
    """One training batch as tensors; `pixel_mask` marks MAE-masked pixels, `input_mask` the band-dropped mask."""

    image: torch.Tensor  # (B,15,H,W) raw values
    band_mask: torch.Tensor  # (B,15) bands the sample really has
    input_mask: torch.Tensor  # (B,15) after band dropout: bands the encoder sees
    valid: torch.Tensor  # (B,H,W) bool
    pixel_mask: torch.Tensor  # (B,H,W) bool, True = hidden from the student
    dem: torch.Tensor  # (B,1,H,W) metres, 0 where absent
    has_dem: torch.Tensor  # (B,) float
    lulc: torch.Tensor  # (B,H,W) int64, 0 = none
    tokens: torch.Tensor  # (C,L) caption tokens of the captioned samples
    captioned: torch.Tensor  # (C,) int64 batch index of each caption row
    # Teacher targets (training.teachers.store), None without them.
    teacher_tokens: Optional[torch.Tensor] = None  # (B,T,h,w) Galileo-Nano tokens on its patch grid
    teacher_token_weight: Optional[torch.Tensor] = None  # (B,h,w)
    presto_points: Optional[torch.Tensor] = None  # (B,K,2) int64 (row, col)
    presto: Optional[torch.Tensor] = None  # (B,K,T) Presto pixel embeddings
    presto_weight: Optional[torch.Tensor] = None  # (B,K) 1 = a real point, 0 = padding

    def to(self, device: torch.device) -> Batch:
        """The batch on `device`."""
        return Batch(**{k: v if v is None else v.to(device, non_blocking=True) for k, v in self.__dict__.items()})


class PretrainObjective(nn.Module):
    """forward(batch) -> dict of the unweighted losses plus 'total' (their weighted sum)."""

    def __init__(
        self,
        model: GeoMeldFM,
        weights: dict[str, float],
        class_tokens: torch.Tensor,
        dem_std: float,
        teacher_stats: Optional[dict[str, dict[str, list[float]]]] = None,
        text_ids: tuple[int, int] = (2, 3),
    ) -> None:
        super().__init__()
        self.model = model
        self.teacher = make_ema_teacher(model.image)
        self.weights = {name: float(weights.get(name, 0.0)) for name in LOSS_NAMES}
        self.register_buffer("class_tokens", class_tokens, persistent=False)
        self.dem_std = dem_std
        self.start_id, self.end_id = text_ids  # the tokenizer's start and end of text
        # Standardisation of the teachers' targets (mean and std per dimension over the training split).
        dim = model.config.teacher_dim
        for name in ("galileo", "presto"):
            stats = (teacher_stats or {}).get(name, {"mean": [0.0] * dim, "std": [1.0] * dim})
            self.register_buffer(f"{name}_mean", torch.tensor(stats["mean"], dtype=torch.float32), persistent=False)
            self.register_buffer(f"{name}_std", torch.tensor(stats["std"], dtype=torch.float32), persistent=False)

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """All losses of one batch; a loss whose data the batch lacks is 0, and so are the reconstruction terms
        (RECONSTRUCTION) or the distillation terms (DISTILLATION) when every weight of their group is 0: those are not
        computed."""
        dense, pooled = self.model.image(batch.image, batch.input_mask)
        losses = self._reconstruction(batch) if any(self.weights[name] for name in RECONSTRUCTION) else {}
        losses["infonce"] = self._infonce(pooled, batch)
        losses["dense_text"] = self._dense_text(dense, batch)
        if any(self.weights[name] for name in DISTILLATION):
            losses.update(self._distillation(dense, pooled, batch))
        losses["text_anchor"] = self._text_anchor(pooled)
        zero = pooled.new_zeros(())
        losses = {name: losses.get(name, zero) for name in LOSS_NAMES}
        losses["total"] = sum(self.weights[name] * losses[name] for name in LOSS_NAMES)
        return losses

    def _reconstruction(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Masked autoencoding of every modality and JEPA, from the encoder's features of the masked input."""
        encoder = self.model.image
        hidden = batch.pixel_mask[:, None]
        masked_input = torch.where(hidden, encoder.mean.expand_as(batch.image), batch.image)
        features = encoder.forward_features(masked_input, batch.input_mask)
        recon = self.model.mae(features)
        target = (batch.image - encoder.mean) / encoder.std
        scored = (hidden & batch.valid[:, None]).float()
        valid = batch.valid[:, None].float()
        return {
            "mae_s2": masked_mse(recon["s2"], target[:, S2], scored, batch.band_mask[:, S2]),
            "mae_s1": masked_mse(recon["s1"], target[:, S1], scored, batch.band_mask[:, S1]),
            "mae_dem": masked_mse(recon["dem"], self._dem_target(batch), valid, batch.has_dem[:, None]),
            "mae_lulc": lulc_cross_entropy(recon["lulc"], batch.lulc, valid),
            "jepa": self._jepa(features[3], batch),
        }

    def _dem_target(self, batch: Batch) -> torch.Tensor:
        """Relief: DEM minus its per-sample mean, divided by the training DEM relief std."""
        weight = batch.valid[:, None].float()
        mean = (batch.dem * weight).sum(dim=(1, 2, 3), keepdim=True) / weight.sum(dim=(1, 2, 3), keepdim=True).clamp(1)
        return (batch.dem - mean) / self.dem_std

    def _jepa(self, context: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Predict the teacher's (layer-normalised) stride-32 features of the mostly-masked cells."""
        with torch.no_grad():
            target = self.teacher.forward_features(batch.image, batch.band_mask)[3]
            target = F.layer_norm(target.permute(0, 2, 3, 1), target.shape[1:2]).permute(0, 3, 1, 2)
        hidden = F.adaptive_avg_pool2d(batch.pixel_mask[:, None].float(), target.shape[-2:]) > 0.5
        predicted = self.model.jepa(context, hidden[:, 0])
        return jepa_loss(predicted, target, hidden.float())

    def _infonce(self, pooled: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Image-caption InfoNCE over the captioned samples (needs at least two)."""
        if batch.tokens.shape[0] < 2:
            return masked_mean(pooled, torch.zeros_like(pooled))
        text = self.model.text(batch.tokens)
        return info_nce(pooled[batch.captioned], text, self.model.logit_scale)

    def _dense_text(self, dense: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Per-pixel alignment of dense embeddings with the land-cover class-name texts."""
        labelled = (batch.lulc > 0).flatten(1).any(dim=1)
        if not bool(labelled.any()):
            return masked_mean(dense, torch.zeros_like(dense))
        class_text = self.model.text(self.class_tokens)
        return dense_text_loss(dense[labelled], class_text, batch.lulc[labelled], self.model.logit_scale)

    def _distillation(self, dense: torch.Tensor, pooled: torch.Tensor, batch: Batch) -> dict[str, torch.Tensor]:
        """Student embeddings against the teachers' standardised targets: Galileo-Nano's tokens (dense embedding
        averaged per teacher patch), its pooled embedding (the crop's mean token) and Presto per pixel."""
        if batch.teacher_tokens is None:
            zero = masked_mean(dense, torch.zeros_like(dense))
            return {"distil_tokens": zero, "distil_pooled": zero, "distil_pixels": zero}
        heads = self.model.distil
        stride = dense.shape[-1] // batch.teacher_tokens.shape[-1]
        cells = F.avg_pool2d(dense, stride).permute(0, 2, 3, 1)
        tokens = batch.teacher_tokens.permute(0, 2, 3, 1)
        weight = batch.teacher_token_weight
        standard_tokens = (tokens - self.galileo_mean) / self.galileo_std
        cell_weight = weight[..., None]
        crop_mean = (tokens * cell_weight).sum(dim=(1, 2)) / cell_weight.sum(dim=(1, 2)).clamp_min(1e-6)
        rows, cols = batch.presto_points[..., 0], batch.presto_points[..., 1]
        index = (rows * dense.shape[-1] + cols)[:, None, :].expand(-1, dense.shape[1], -1)
        pixels = dense.flatten(2).gather(2, index).transpose(1, 2)
        return {
            "distil_tokens": distillation_loss(
                heads("tokens", cells).flatten(0, 2), standard_tokens.flatten(0, 2), weight.flatten()
            ),
            "distil_pooled": distillation_loss(
                heads("pooled", pooled),
                (crop_mean - self.galileo_mean) / self.galileo_std,
                (weight.sum((1, 2)) > 0).float(),
            ),
            "distil_pixels": distillation_loss(
                heads("pixels", pixels).flatten(0, 1),
                ((batch.presto - self.presto_mean) / self.presto_std).flatten(0, 1),
                batch.presto_weight.flatten(),
            ),
        }

    def _text_anchor(self, reference: torch.Tensor) -> torch.Tensor:
        """One-word prompts of random vocabulary words keep their GloVe neighbours in the text embedding space, so
        the text tower's training on captions does not pull apart what the word vectors put together."""
        text = self.model.text
        if getattr(text, "word_dim", 0) == 0 or self.weights["text_anchor"] == 0:
            return masked_mean(reference, torch.zeros_like(reference))
        special = text.SPECIAL_TOKEN_COUNT
        words = torch.randint(special, text.word_vectors.shape[0], (ANCHOR_WORDS,), device=reference.device)
        start, end = torch.full_like(words, self.start_id), torch.full_like(words, self.end_id)
        embedded = text(torch.stack([start, words, end], dim=1))
        return neighbourhood_loss(embedded, text.word_vectors[words])
