"""Pretraining losses of GeoMeld-FM: multi-pretext MAE, JEPA, image-text InfoNCE and dense pixel-text alignment."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812

from model_core.bands import MODEL_BANDS, REQUIRED_BANDS

REQUIRED_CHANNELS: tuple[int, ...] = tuple(MODEL_BANDS.index(b) for b in REQUIRED_BANDS)


def masked_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of `values` weighted by a broadcastable 0/1 `weight`; 0 (with gradient) when the weight is empty."""
    weight = weight.to(values.dtype).expand_as(values)
    return (values * weight).sum() / weight.sum().clamp_min(1.0)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, pixel_weight: torch.Tensor, channel_weight: torch.Tensor):
    """MSE over (B,C,H,W) where pixel_weight (B,1,H,W) and channel_weight (B,C) are both 1."""
    weight = pixel_weight * channel_weight[:, :, None, None]
    return masked_mean((pred.float() - target.float()) ** 2, weight)


def lulc_cross_entropy(logits: torch.Tensor, lulc: torch.Tensor, pixel_weight: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (B,K,H,W) class logits against (B,H,W) labels; class 0 means unlabelled and is ignored."""
    per_pixel = F.cross_entropy(logits.float(), lulc.long(), ignore_index=0, reduction="none")
    labelled = (lulc > 0).to(per_pixel.dtype) * pixel_weight[:, 0].to(per_pixel.dtype)
    return masked_mean(per_pixel, labelled)


def jepa_loss(pred: torch.Tensor, target: torch.Tensor, pixel_weight: torch.Tensor) -> torch.Tensor:
    """Cosine distance between predicted and (detached) teacher features (B,D,H,W) over the masked pixels."""
    cosine = F.cosine_similarity(pred.float(), target.detach().float(), dim=1, eps=1e-6)
    return masked_mean(1.0 - cosine, pixel_weight[:, 0])


def info_nce(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between matching rows of L2-normalised image (N,D) and text (N,D) embeddings."""
    scale = logit_scale.float().exp().clamp(max=100.0)
    logits = scale * F.normalize(image.float(), dim=-1) @ F.normalize(text.float(), dim=-1).t()
    targets = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets))


def dense_text_loss(
    dense: torch.Tensor, class_text: torch.Tensor, lulc: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """Per-pixel cross-entropy of dense embeddings (B,D,H,W) against class-name text embeddings (K,D).

    `lulc` (B,H,W) holds class ids 1..K (0 = unlabelled, ignored); row k-1 of `class_text` is the text of class k.
    """
    scale = logit_scale.float().exp().clamp(max=100.0)
    text = F.normalize(class_text.float(), dim=-1)
    logits = scale * torch.einsum("bdhw,kd->bkhw", F.normalize(dense.float(), dim=1), text)
    never = torch.full_like(logits[:, :1], -1e4)  # index 0 = unlabelled: never a target, no probability mass
    padded = torch.cat([never, logits], dim=1)
    return lulc_cross_entropy(padded, lulc, torch.ones_like(lulc[:, None], dtype=logits.dtype))


def distillation_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosine distance plus mean squared error between (N, D) predictions and standardised teacher targets.

    Weighted by (N,) `weight`. The cosine aligns directions, the squared error also matches the magnitudes.
    """
    pred, target = pred.float(), target.detach().float()
    cosine = F.cosine_similarity(pred, target, dim=-1, eps=1e-6)
    squared = ((pred - target) ** 2).mean(dim=-1)
    return masked_mean(1.0 - cosine + squared, weight)


def neighbourhood_loss(embedded: torch.Tensor, reference: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Keep the neighbours of each row: cross-entropy of the softmax over the other rows' cosine similarities in
    `embedded` (N, D) against the same softmax in `reference` (N, E); self-similarities are left out."""
    embedded, reference = F.normalize(embedded.float(), dim=-1), F.normalize(reference.float(), dim=-1)
    self_pairs = torch.eye(len(embedded), dtype=torch.bool, device=embedded.device)
    target = (reference @ reference.t() / temperature).masked_fill(self_pairs, -1e4).softmax(dim=-1)
    logits = (embedded @ embedded.t() / temperature).masked_fill(self_pairs, -1e4)
    return -(target.detach() * logits.log_softmax(dim=-1)).sum(dim=-1).mean()


def ema_momentum(progress: float, start: float, end: float) -> float:
    """EMA teacher momentum rising from `start` to `end` along a half-cosine over training progress (0..1)."""
    progress = min(max(progress, 0.0), 1.0)
    return end - (end - start) * (math.cos(math.pi * progress) + 1.0) / 2.0


def band_dropout(band_mask: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Randomly switch off present bands of (B,15) band masks; B02/B03/B04/B08 are never dropped."""
    keep = torch.rand(band_mask.shape, generator=generator, device="cpu").to(band_mask.device) >= probability
    keep[:, list(REQUIRED_CHANNELS)] = True
    return band_mask * keep.to(band_mask.dtype)
