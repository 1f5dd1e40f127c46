"""Dynamic VL stream (paper Sec. 3.2): Space-Time Cross-Modal Transformer (STCMT) layers over
clip features (B, T, S, d), S = H*W spatial positions (S = 1 for the "w/o spatial" variant).

Each layer: divided space-time self-attention (time, then space, as TimeSformer), text
self-attention, the two cross-modal attentions of Eq. 1 (every visual position attends the
text; the text attends the spatially mean-pooled visual features, or all T*S tokens when
``dynamic_mean_pool`` is off), then an FFN on each modality.
"""

from __future__ import annotations

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model.attention import AttentionBlock, FeedForwardBlock


class STCMTLayer(nn.Module):
    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        d, heads, p = config.d_model, config.num_heads, config.dropout
        self.mean_pool = config.dynamic_mean_pool
        self.time_attention = AttentionBlock(d, heads, p)
        self.space_attention = AttentionBlock(d, heads, p)
        self.text_attention = AttentionBlock(d, heads, p)
        self.visual_to_text = AttentionBlock(d, heads, p)
        self.text_to_visual = AttentionBlock(d, heads, p)
        self.visual_ffn = FeedForwardBlock(d, config.ffn_dim, p)
        self.text_ffn = FeedForwardBlock(d, config.ffn_dim, p)

    def _self_attention(self, visual: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        b, t, s, d = visual.shape
        # time: (B, T, S, d) -> (B*S, T, d), padded frames masked as keys
        per_position = visual.transpose(1, 2).reshape(b * s, t, d)
        per_position, _ = self.time_attention(
            per_position, per_position, frame_mask.repeat_interleave(s, dim=0)
        )
        visual = per_position.reshape(b, s, t, d).transpose(1, 2)
        # space: (B, T, S, d) -> (B*T, S, d)
        per_frame = visual.reshape(b * t, s, d)
        per_frame, _ = self.space_attention(per_frame, per_frame)
        return per_frame.reshape(b, t, s, d)

    def _visual_keys(
        self, visual: torch.Tensor, frame_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """What the text attends: H-bar_v (B, T, d), or every token (B, T*S, d)."""
        b, t, s, d = visual.shape
        if self.mean_pool:
            return visual.mean(dim=2), frame_mask
        return visual.reshape(b, t * s, d), frame_mask.repeat_interleave(s, dim=1)

    def forward(
        self,
        visual: torch.Tensor,
        text: torch.Tensor,
        frame_mask: torch.Tensor,
        text_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """visual (B, T, S, d), text (B, L, d) -> updated visual and text, same shapes."""
        b, t, s, d = visual.shape
        visual = self._self_attention(visual, frame_mask)
        text, _ = self.text_attention(text, text, text_mask)
        # Eq. 1: both cross-attentions read the features after self-attention.
        keys, key_mask = self._visual_keys(visual, frame_mask)
        new_text, _ = self.text_to_visual(text, keys, key_mask)
        flat = visual.reshape(b, t * s, d)  # (B, T*S, d): every position attends the text
        new_visual, _ = self.visual_to_text(flat, text, text_mask)
        visual = self.visual_ffn(new_visual).reshape(b, t, s, d)
        return visual, self.text_ffn(new_text)


def build_dynamic_stream(config: CSDVLConfig) -> nn.ModuleList:
    return nn.ModuleList(STCMTLayer(config) for _ in range(config.num_layers))
