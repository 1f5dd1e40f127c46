"""Attention building blocks shared by both streams: multi-head attention that returns its
weights (s2d needs the static decoder's), post-norm residual blocks, and sine encodings.

Masks are boolean with True for real (not padded) keys, as in ``schemas/batch.py``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention over ``num_heads`` heads; on request also the attention
    weights averaged over heads (the static decoder's, for s2d)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        n, length, d = x.shape  # (N, S, d) -> (N, heads, S, d / heads)
        return x.view(n, length, self.num_heads, d // self.num_heads).transpose(1, 2)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_mask: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (N, Q, d), key/value (N, K, d), key_mask (N, K) -> (N, Q, d), and the weights
        (N, Q, K) when asked for (otherwise the fused kernel runs and they are None)."""
        q, k, v = (
            self._split(self.q_proj(query)),
            self._split(self.k_proj(key)),
            self._split(self.v_proj(value)),
        )
        mask = None if key_mask is None else key_mask[:, None, None, :]  # (N, 1, 1, K)
        if need_weights:
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (N, heads, Q, K)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            out = self.dropout(weights) @ v  # (N, heads, Q, d / heads)
            weights = weights.mean(dim=1)
        else:
            dropout = self.dropout.p if self.training else 0.0
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
            weights = None
        out = out.transpose(1, 2).reshape(query.shape)
        return self.out_proj(out), weights


class AttentionBlock(nn.Module):
    """x + Attention(x, memory), then LayerNorm (DETR's post-norm residual)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (N, Q, d) attends memory (N, K, d) -> updated x (N, Q, d), weights (N, Q, K) or
        None."""
        out, weights = self.attention(x, memory, memory, memory_mask, need_weights)
        return self.norm(x + self.dropout(out)), weights


class FeedForwardBlock(nn.Module):
    """x + FFN(x), then LayerNorm."""

    def __init__(self, d_model: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ffn_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ffn_dim, d_model)
        )
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.ffn(x)))


def sine_encoding(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer sine/cosine encoding of positions (n,) -> (n, dim)."""
    freqs = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device)
        * (-math.log(10000.0) / dim)
    )
    angles = positions.float()[:, None] * freqs[None, :]  # (n, dim / 2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)[:, :dim]


def grid_encoding(height: int, width: int, dim: int, device: torch.device) -> torch.Tensor:
    """2D sine encoding of an H x W grid, half the channels per axis -> (H*W, dim)."""
    rows = sine_encoding(torch.arange(height, device=device), dim // 2)  # (H, dim/2)
    cols = sine_encoding(torch.arange(width, device=device), dim - dim // 2)  # (W, dim/2)
    grid = torch.cat(
        [rows[:, None, :].expand(height, width, -1), cols[None, :, :].expand(height, width, -1)],
        dim=-1,
    )
    return grid.reshape(height * width, dim)
