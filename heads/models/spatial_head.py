"""Spatial prediction head (paper Sec. 3.4): a 3-layer MLP on each frame's final object query
-> box (cx, cy, w, h) normalized to [0, 1] by the frame size."""

from __future__ import annotations

import torch
from torch import nn

from heads.config import CSDVLConfig


class SpatialHead(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(d_model, d_model),
            nn.ReLU(),
            nn.Linear(d_model, d_model),
            nn.ReLU(),
            nn.Linear(d_model, 4),
        )

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """queries (B, T, d) -> boxes (B, T, 4) normalized cxcywh."""
        return self.mlp(queries).sigmoid()


def build_spatial_head(config: CSDVLConfig) -> SpatialHead:
    return SpatialHead(config.d_model)
