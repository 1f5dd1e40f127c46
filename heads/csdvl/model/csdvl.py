"""The CSDVL model: static and dynamic VL streams exchanging information after every layer,
then the spatial and temporal prediction heads (paper Fig. 2).

Input: a batch laid out as ``schemas/batch.py`` (frame_feats, clip_feats, frame_mask,
text_feats, text_mask). Frame and clip features share the H x W grid. Padded frames and text
tokens are masked everywhere, so they never change the outputs of real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model.attention import grid_encoding, sine_encoding
from stvg.heads.csdvl.model.collaboration import build_collaboration
from stvg.heads.csdvl.model.dynamic_stream import build_dynamic_stream
from stvg.heads.csdvl.model.spatial_head import (
    attention_centre,
    build_spatial_head,
    joint_attention,
)
from stvg.heads.csdvl.model.static_stream import build_static_stream
from stvg.heads.csdvl.model.temporal_head import build_temporal_head


@dataclass(frozen=True)
class FeatureDims:
    """Channel sizes of the cached features (read from a batch, never hard-coded)."""

    frame: int  # Cr, e.g. 2048 for ResNet-101
    clip: int  # Cs, e.g. 2304 for SlowFast (slow + fast)
    text: int  # Ct, e.g. 768 for RoBERTa-base

    @classmethod
    def of_batch(cls, batch: dict) -> FeatureDims:
        return cls(
            frame=batch["frame_feats"].shape[-1],
            clip=batch["clip_feats"].shape[-1],
            text=batch["text_feats"].shape[-1],
        )


def feature_projection(in_dim: int, config: CSDVLConfig) -> nn.Sequential:
    """The FC behind a feature extractor (paper Sec. 3.1), followed by LayerNorm and dropout
    as MDETR's and TubeDETR's feature resizers do: extractor outputs come at any scale (a
    ResNet's post-ReLU maps have a large shared mean), and without the norm they drown the
    position encodings added next or are drowned by them."""
    return nn.Sequential(
        nn.Linear(in_dim, config.d_model), nn.LayerNorm(config.d_model), nn.Dropout(config.dropout)
    )


class CSDVL(nn.Module):
    def __init__(self, config: CSDVLConfig, dims: FeatureDims) -> None:
        super().__init__()
        self.config = config
        self.dims = dims
        self.frame_proj = feature_projection(dims.frame, config)
        self.clip_proj = feature_projection(dims.clip, config)
        self.static_text_proj = feature_projection(dims.text, config)
        self.dynamic_text_proj = feature_projection(dims.text, config)
        self.object_query = nn.Parameter(torch.zeros(config.d_model))
        self.encoder, self.decoder = build_static_stream(config)
        self.dynamic_layers = build_dynamic_stream(config)
        self.collaboration = build_collaboration(config)
        self.spatial_head = build_spatial_head(config)
        self.temporal_head = build_temporal_head(config)
        # Off during a warm start (TrainConfig.collab_warmup): the streams then run apart
        # and the collaboration blocks receive no gradient.
        self.exchange_on = True

    def _static_memory(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode each frame's [H*W ; L] tokens -> memory (B*T, HW+L, d) and its mask.

        The grid encoding is added to the visual tokens before the encoder and again to the
        encoded visual memory the decoder reads (keys and values, as DETR re-injects positions
        at every attention), so the object query can read where it looks, not only what."""
        frames = batch["frame_feats"]
        b, t, h, w, _ = frames.shape
        visual = self.frame_proj(frames).reshape(b, t, h * w, -1)  # (B, T, HW, d)
        grid = grid_encoding(h, w, visual.shape[-1], visual.device)  # (HW, d)
        text = self.static_text_proj(batch["text_feats"])  # (B, L, d)
        length = text.shape[1]
        tokens = torch.cat([visual + grid, text[:, None].expand(b, t, length, -1)], dim=2)
        visual_mask = batch["text_mask"].new_ones(b, t, h * w)
        mask = torch.cat([visual_mask, batch["text_mask"][:, None].expand(b, t, length)], dim=2)
        # (B, T, HW+L, d) -> (B*T, HW+L, d): the static stream sees each frame alone
        tokens, mask = tokens.reshape(b * t, h * w + length, -1), mask.reshape(b * t, -1)
        memory = self.encoder(tokens, mask)
        positions = torch.cat([grid, grid.new_zeros(length, grid.shape[1])])  # (HW+L, d)
        return memory + positions, mask

    def _dynamic_input(self, batch: dict) -> torch.Tensor:
        """Projected clip features with time and space encodings -> (B, T, S, d)."""
        clips = batch["clip_feats"]
        b, t, h, w, _ = clips.shape
        dynamic = self.clip_proj(clips).reshape(b, t, h * w, -1)  # (B, T, HW, d)
        d = dynamic.shape[-1]
        time = sine_encoding(torch.arange(t, device=dynamic.device), d)  # (T, d)
        dynamic = dynamic + time[None, :, None, :]
        if not self.config.dynamic_spatial:
            return dynamic.mean(dim=2, keepdim=True)  # "w/o spatial": (B, T, 1, d)
        return dynamic + grid_encoding(h, w, d, dynamic.device)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        """-> boxes (B, T, 4) cxcywh in [0, 1], score_logits / proposal_mask (B, T, T),
        frame_logits (B, T), static_attention (N, B, T, H*W) per decoder layer, and
        d2s_attention (N, B, T, S) per layer when d2s runs."""
        frame_mask, text_mask = batch["frame_mask"], batch["text_mask"]
        b, t, h, w, _ = batch["frame_feats"].shape
        if batch["clip_feats"].shape[2:4] != (h, w):
            raise ValueError("frame_feats and clip_feats must share the H x W grid")
        memory, memory_mask = self._static_memory(batch)
        d = memory.shape[-1]
        time = sine_encoding(torch.arange(t, device=memory.device), d)  # (T, d)
        queries = (self.object_query[None, None, :] + time[None]).expand(b, t, d)
        dynamic = self._dynamic_input(batch)
        text = self.dynamic_text_proj(batch["text_feats"])
        attentions, d2s_attentions = [], []
        for decoder_layer, dynamic_layer, exchange in zip(
            self.decoder, self.dynamic_layers, self.collaboration, strict=True
        ):
            flat_queries, weights = decoder_layer(queries.reshape(b * t, 1, d), memory, memory_mask)
            queries = flat_queries.reshape(b, t, d)
            attention = weights[:, : h * w].reshape(b, t, h * w)  # A over the visual positions
            attentions.append(attention)
            dynamic, text = dynamic_layer(dynamic, text, frame_mask, text_mask)
            if dynamic.shape[2] == 1:  # "w/o spatial": the grid is pooled, so is A
                attention = attention.sum(dim=2, keepdim=True)
            if self.exchange_on:
                queries, dynamic, d2s_attention = exchange(queries, dynamic, attention, frame_mask)
                if d2s_attention is not None:
                    d2s_attentions.append(d2s_attention)
        outputs = self.temporal_head(dynamic, frame_mask)
        reference = None  # anchor "none": the paper's plain MLP head
        if self.config.anchor != "none":
            anchor = attentions[-1]
            if self.config.uses_d2s_anchor and d2s_attentions:
                anchor = joint_attention(anchor, d2s_attentions[-1])
            reference = attention_centre(anchor, h, w)  # (B, T, 2)
        outputs["boxes"] = self.spatial_head(queries, reference)
        outputs["static_attention"] = torch.stack(attentions)
        if d2s_attentions:
            outputs["d2s_attention"] = torch.stack(d2s_attentions)
        return outputs


def build_csdvl(config: CSDVLConfig, dims: FeatureDims) -> CSDVL:
    """The model for ``config`` on features of the given channel sizes."""
    return CSDVL(config, dims)
