"""Temporal prediction head (paper Sec. 3.4, after 2D-TAN): spatial mean-pool of the final
dynamic features -> FC to d_m -> 2D proposal map M[i, j] = mean(F[i..j]) for i <= j (zero
otherwise) -> 2D convs -> score map S[i, j] for the proposal covering frames i..j (inclusive)
of the frame axis. Proposals that reach a padded frame are masked (zeroed after every conv, as
2D-TAN does), so padding never changes the scores of real proposals. A per-frame score (for
the temporal attentive loss) is read off the same pooled features.
"""

from __future__ import annotations

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig


def proposal_mask(frame_mask: torch.Tensor) -> torch.Tensor:
    """frame_mask (B, T) -> (B, T, T): True where i <= j and frames i..j are all real."""
    t = frame_mask.shape[1]
    upper = torch.ones(t, t, dtype=torch.bool, device=frame_mask.device).triu()
    # Real frames form a prefix, so proposal (i, j) is real iff frame j is.
    return upper[None] & frame_mask[:, None, :]


def proposal_map(features: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """features (B, T, C) -> M (B, C, T, T) with M[:, :, i, j] = mean(features[i..j]) on real
    proposals and 0 elsewhere (cumulative sums: O(T^2 C))."""
    b, t, c = features.shape
    cumulative = torch.cat([features.new_zeros(b, 1, c), features.cumsum(dim=1)], dim=1)
    sums = cumulative[:, None, 1:, :] - cumulative[:, :-1, None, :]  # (B, T_i, T_j, C)
    index = torch.arange(t, device=features.device)
    lengths = (index[None, :] - index[:, None] + 1).clamp(min=1)  # (T_i, T_j)
    means = sums / lengths[None, :, :, None]
    means = means * proposal_mask(frame_mask)[..., None]
    return means.permute(0, 3, 1, 2)  # (B, C, T, T)


class TemporalHead(nn.Module):
    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.to_map = nn.Linear(config.d_model, config.d_m)
        self.convs = nn.ModuleList(
            nn.Conv2d(config.d_m, config.d_m, config.map_kernel, padding=config.map_kernel // 2)
            for _ in range(config.map_conv_layers)
        )
        self.score = nn.Conv2d(config.d_m, 1, 1)
        self.frame_score = nn.Linear(config.d_model, 1)

    def forward(self, dynamic: torch.Tensor, frame_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """dynamic (B, T, S, d) -> score_logits (B, T, T), proposal_mask (B, T, T),
        frame_logits (B, T)."""
        pooled = dynamic.mean(dim=2)  # (B, T, d)
        mask = proposal_mask(frame_mask)
        grid = proposal_map(self.to_map(pooled), frame_mask)  # (B, d_m, T, T)
        keep = mask[:, None].to(grid.dtype)
        for conv in self.convs:
            grid = torch.relu(conv(grid)) * keep
        return {
            "score_logits": self.score(grid)[:, 0],
            "proposal_mask": mask,
            "frame_logits": self.frame_score(pooled)[..., 0],
        }


def build_temporal_head(config: CSDVLConfig) -> TemporalHead:
    return TemporalHead(config)
