"""Spatial prediction head (paper Sec. 3.4): a 3-layer MLP on each frame's final object query
-> box (cx, cy, w, h) normalized to [0, 1] by the frame size.

The centre is predicted relative to a reference point: the centre of mass of the static
decoder's last cross-attention over the H x W grid (as Conditional / Deformable DETR anchor
boxes on where a query looks). The MLP adds its output to the reference in logit space. Without
the anchor, a from-scratch head (the paper starts from MDETR weights, which we cannot) sees no
gradient tying *where it attends* to *where the box is*, attention stays uniform and every box
collapses onto the mean box; with it, the box loss trains the attention directly.

The anchor is ``CSDVLConfig.anchor``: "none" is the paper's plain MLP (no reference),
"static" the above, and with "static+d2s" the anchor reads the static attention re-weighted by
d2s's attention over the same grid (``joint_attention``): where the static stream cannot tell
two look-alikes apart, the dynamic stream's view of who moves as the sentence says picks one,
and the box loss reaches d2s's attention as directly.
"""

from __future__ import annotations

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig


def grid_centres(height: int, width: int, device: torch.device) -> torch.Tensor:
    """Normalized (cx, cy) of each cell of an H x W grid, row-major -> (H*W, 2)."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)


def attention_centre(attention: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """attention (B, T, H*W) over the grid (any mass, e.g. the visual share of the weights)
    -> its centre of mass (B, T, 2) normalized (cx, cy)."""
    weights = attention / attention.sum(dim=-1, keepdim=True).clamp(min=1e-6)
    return weights @ grid_centres(height, width, attention.device)


def joint_attention(static: torch.Tensor, d2s: torch.Tensor) -> torch.Tensor:
    """static (B, T, H*W) and d2s (B, T, H*W, or B, T, 1 when the dynamic stream is pooled)
    attention -> their normalized product (B, T, H*W), computed in log space so two peaked
    maps that barely overlap do not underflow."""
    logits = static.clamp(min=1e-12).log() + d2s.clamp(min=1e-12).log()
    return logits.softmax(dim=-1)


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

    def forward(self, queries: torch.Tensor, reference: torch.Tensor | None) -> torch.Tensor:
        """queries (B, T, d), reference centres (B, T, 2) in (0, 1) or None (no anchor) ->
        boxes (B, T, 4) normalized cxcywh."""
        offsets = self.mlp(queries)
        if reference is None:
            return offsets.sigmoid()
        centre = offsets[..., :2] + torch.logit(reference.clamp(1e-4, 1 - 1e-4))
        return torch.cat([centre, offsets[..., 2:]], dim=-1).sigmoid()


def build_spatial_head(config: CSDVLConfig) -> SpatialHead:
    return SpatialHead(config.d_model)
