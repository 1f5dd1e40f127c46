"""Static VL stream (paper Sec. 3.1): a DETR-like cross-modal encoder over each frame's
[H*W visual ; L text] tokens, and decoder layers in which one learnable object query per frame
attends that frame's memory. Each decoder layer exposes its cross-attention weights over the
H*W visual positions (the A of the s2d block)."""

from __future__ import annotations

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model.attention import AttentionBlock, FeedForwardBlock


class EncoderLayer(nn.Module):
    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.self_attention = AttentionBlock(config.d_model, config.num_heads, config.dropout)
        self.ffn = FeedForwardBlock(config.d_model, config.ffn_dim, config.dropout)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """tokens (B*T, HW+L, d), mask (B*T, HW+L) -> (B*T, HW+L, d)."""
        tokens, _ = self.self_attention(tokens, tokens, mask)
        return self.ffn(tokens)


class StaticEncoder(nn.Module):
    """N encoder layers turning each frame's tokens into its cross-modal memory M_t."""

    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_layers))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            tokens = layer(tokens, mask)
        return tokens


class DecoderLayer(nn.Module):
    """The object query of each frame attends that frame's memory, then an FFN."""

    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.cross_attention = AttentionBlock(config.d_model, config.num_heads, config.dropout)
        self.ffn = FeedForwardBlock(config.d_model, config.ffn_dim, config.dropout)

    def forward(
        self, queries: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (B*T, 1, d), memory (B*T, HW+L, d) -> queries, weights (B*T, HW+L)."""
        queries, weights = self.cross_attention(queries, memory, memory_mask, need_weights=True)
        return self.ffn(queries), weights[:, 0, :]


def build_static_stream(config: CSDVLConfig) -> tuple[StaticEncoder, nn.ModuleList]:
    """The encoder and the N decoder layers (the model interleaves them with collaboration)."""
    decoder = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_layers))
    return StaticEncoder(config), decoder
