"""STOP as a head on cached tokens: prompts -> frozen ViT top -> per-frame CLS -> mean over
frames (CLIP4Clip's mean pooling) -> joint space; a small text head over cached RoBERTa tokens;
a linear motion classifier on the video embedding. Only prompts and heads train."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.frozen import FrozenTop
from stvg.heads.stop.prompts import SpatialPrompter, TemporalPrompter

MAX_TEXT_TOKENS = 128


@dataclass(frozen=True)
class StopDims:
    vit_dim: int  # C of the cached tokens
    grid: tuple[int, int]  # (h, w) patch grid of a frame, P = h * w
    text_dim: int  # C of the cached text tokens
    num_classes: int


class TextHead(nn.Module):
    """Cached token features (B, L, C) -> sentence embedding (B, D): projection, learned
    positions, a small transformer, masked mean."""

    def __init__(self, text_dim: int, embed_dim: int, layers: int) -> None:
        super().__init__()
        self.project = nn.Linear(text_dim, embed_dim)
        self.positions = nn.Parameter(0.02 * torch.randn(MAX_TEXT_TOKENS, embed_dim))
        layer = nn.TransformerEncoderLayer(
            embed_dim, 4, 2 * embed_dim, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(embed_dim, embed_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        length = tokens.shape[1]
        hidden = self.project(tokens) + self.positions[:length]
        hidden = self.encoder(hidden, src_key_padding_mask=~mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return self.out((hidden * weights).sum(1) / weights.sum(1).clamp_min(1))


class StopModel(nn.Module):
    def __init__(self, config: StopConfig, dims: StopDims, frozen: FrozenTop) -> None:
        super().__init__()
        self.config, self.dims, self.frozen = config, dims, frozen
        c = dims.vit_dim
        self.spatial = (
            SpatialPrompter(c, config.conv_channels, config.num_spatial, config.alpha)
            if config.spatial
            else None
        )
        self.temporal = (
            TemporalPrompter(
                c, config.conv_channels, dims.grid, config.max_temporal, config.beta, config.eta
            )
            if config.temporal
            else None
        )
        self.video_proj = nn.Linear(c, config.embed_dim)
        self.text_head = TextHead(dims.text_dim, config.embed_dim, config.text_layers)
        self.classifier = nn.Linear(config.embed_dim, dims.num_classes)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def frame_sequences(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Cached (B, T, 1 + P, C) -> the frozen top's input (B, T, S, C) and its valid mask
        (B, T, S) (None without temporal prompts): [CLS, prompted patches, temporal slots]."""
        b, t, n, c = tokens.shape
        cls, patches = tokens[:, :, :1], tokens[:, :, 1:]
        regions = torch.zeros(b, t, n - 1, dtype=torch.bool, device=tokens.device)
        if self.spatial is not None:
            attention = self.frozen.cls_attention(tokens.reshape(b * t, n, c)).view(b, t, -1)
            out = self.spatial(patches, attention, self.dims.grid)
            patches, regions = out.patches, out.regions
        sequence = torch.cat([cls, patches], dim=2)
        if self.temporal is None:
            return sequence, None
        out = self.temporal(patches, regions, self.dims.grid)
        sequence = torch.cat([sequence, out.prompts], dim=2)
        valid = torch.cat(
            [torch.ones(b, t, n, dtype=torch.bool, device=tokens.device), out.valid], 2
        )
        return sequence, valid

    def encode_video(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, 1 + P, C) cached tokens -> unit video embeddings (B, D)."""
        b, t = tokens.shape[:2]
        sequence, valid = self.frame_sequences(tokens)
        flat_valid = None if valid is None else valid.flatten(0, 1)
        cls = self.frozen(sequence.flatten(0, 1), flat_valid)  # (B*T, C)
        frames = self.video_proj(cls).view(b, t, -1)
        return F.normalize(frames.mean(dim=1), dim=-1)

    def encode_text(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, L, C) cached text tokens, (B, L) bool mask -> unit sentence embeddings (B, D)."""
        return F.normalize(self.text_head(tokens, mask), dim=-1)

    def classify(self, video: torch.Tensor) -> torch.Tensor:
        """(B, D) video embeddings -> motion-class logits (B, K)."""
        return self.classifier(video)


def build_stop(config: StopConfig, dims: StopDims, frozen: FrozenTop) -> StopModel:
    """Prompters as the config switches them, the frozen top, and the small heads."""
    return StopModel(config, dims, frozen)
