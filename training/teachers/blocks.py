"""The pre-norm transformer block both teachers are built of (attribute names follow their checkpoints' keys)."""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F  # noqa: N812 - conventional alias
from torch import Tensor, nn


class FeedForward(nn.Module):
    """Two-layer GELU MLP of a transformer block."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        """(..., D) -> (..., D)."""
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block around a given attention module (no drop path: the teachers only run inference)."""

    def __init__(self, attention: nn.Module, dim: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = attention
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """(B, N, D) tokens -> (B, N, D); `mask` is passed to the attention as it is."""
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))
