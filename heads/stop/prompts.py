"""STOP's two prompters over the cached tokens of a clip, (B, T, 1 + P, C) with CLS first.

Both use lightweight 3D convolutions over the (T, h, w) patch grid. Their selections (top-N_s
regions, ceil(eta * W_t) counts) are not differentiable, so each generated prompt is scaled by
its weight relative to the mean weight of its kind (about 1): the networks that score regions
and gaps then learn from the task loss too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stvg.heads.stop.selection import (
    combine_weights,
    temporal_counts,
    temporal_weights,
    top_regions,
)

PROMPT_MAP_CHANNELS = 4  # channels per patch of the temporal prompter's layout map


def token_volume(patches: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """(B, T, P, C) -> (B, C, T, h, w) for Conv3d."""
    b, t, _, c = patches.shape
    return patches.reshape(b, t, *grid, c).permute(0, 4, 1, 2, 3)


def volume_tokens(volume: torch.Tensor) -> torch.Tensor:
    """(B, C, T, h, w) -> (B, T, P, C)."""
    b, c, t, h, w = volume.shape
    return volume.permute(0, 2, 3, 4, 1).reshape(b, t, h * w, c)


def conv_net(in_channels: int, channels: int, out_channels: int | None = None) -> nn.Sequential:
    """A 1x1x1 reduction to ``channels`` then two 3x3x3 convolutions over (T, h, w): the
    lightweight 3D-conv networks of both prompters."""
    return nn.Sequential(
        nn.Conv3d(in_channels, channels, 1),
        nn.GELU(),
        nn.Conv3d(channels, channels, 3, padding=1),
        nn.GELU(),
        nn.Conv3d(channels, out_channels or channels, 3, padding=1),
    )


@dataclass
class SpatialOutput:
    patches: torch.Tensor  # (B, T, P, C) h^s = h + r * p^s
    regions: torch.Tensor  # (B, T, P) bool r
    weights: torch.Tensor  # (B, T, P) W


class SpatialPrompter(nn.Module):
    """Intra-frame prompts p^s_i = P^s(h_{i-1}, h_i, h_{i+1}) on the top-N_s patches of W."""

    def __init__(self, dim: int, channels: int, num_spatial: int, alpha: float) -> None:
        super().__init__()
        self.num_spatial, self.alpha = num_spatial, alpha
        self.dynamics = conv_net(dim, channels)  # N^s
        self.prompter = conv_net(dim, channels, dim)  # P^s: frames i-1, i, i+1 and neighbours
        nn.init.zeros_(self.prompter[-1].weight)  # start from the unprompted network
        nn.init.zeros_(self.prompter[-1].bias)

    def forward(
        self, patches: torch.Tensor, attention: torch.Tensor, grid: tuple[int, int]
    ) -> SpatialOutput:
        """``patches`` (B, T, P, C), ``attention`` A (B, T, P) from the CLS token."""
        volume = token_volume(patches, grid)
        energy = volume_tokens(self.dynamics(volume)).pow(2).mean(dim=-1)  # (B, T, P)
        dynamics = energy / energy.sum(dim=-1, keepdim=True).clamp_min(1e-12)  # M, sums to 1
        weights = combine_weights(attention, dynamics, self.alpha)
        regions = top_regions(weights, self.num_spatial)
        chosen = weights * regions
        scale = chosen / (chosen.sum(-1, keepdim=True) / regions.sum(-1, keepdim=True)).detach()
        prompts = volume_tokens(self.prompter(volume))  # (B, T, P, C)
        return SpatialOutput(patches + scale.unsqueeze(-1) * prompts, regions, weights)


@dataclass
class TemporalOutput:
    prompts: torch.Tensor  # (B, T, S, C) slots of the prompts in front of each frame
    valid: torch.Tensor  # (B, T, S) bool: slot s < N_t of the gap before the frame
    counts: torch.Tensor  # (B, T - 1) N_t per gap
    weights: torch.Tensor  # (B, T - 1) W_t per gap, before normalization


class TemporalPrompter(nn.Module):
    """Inter-frame prompts from frame differences: N_t = ceil(eta * W_t) of them are inserted
    between frames i-1 and i (they join frame i's token sequence; frame 0 gets none).

    W_t is divided by its mean over the clip's gaps before counting, so eta sets the average
    number of prompts per gap whatever the scale of the cached tokens."""

    def __init__(
        self,
        dim: int,
        channels: int,
        grid: tuple[int, int],
        max_temporal: int,
        beta: float,
        eta: float,
    ) -> None:
        super().__init__()
        self.max_temporal, self.beta, self.eta = max_temporal, beta, eta
        self.dynamics = conv_net(dim, channels)  # N^t
        # P^t: a conv map of the weighted differences read out with its layout (where things
        # change tells the direction of a motion): one vector per gap, spread over the slots
        self.prompt_map = conv_net(dim, channels, PROMPT_MAP_CHANNELS)
        self.prompt_out = nn.Linear(PROMPT_MAP_CHANNELS * grid[0] * grid[1], dim)
        self.slots = nn.Parameter(0.02 * torch.randn(max_temporal, dim))

    def forward(
        self, patches: torch.Tensor, regions: torch.Tensor, grid: tuple[int, int]
    ) -> TemporalOutput:
        """``patches`` h^s (B, T, P, C), ``regions`` r (B, T, P) of the spatial step."""
        b, t, _, c = patches.shape
        delta = patches[:, 1:] - patches[:, :-1]  # (B, T-1, P, C) Δh^s
        later = regions[:, 1:]
        dynamics = volume_tokens(self.dynamics(token_volume(delta, grid)))  # (B, T-1, P, d)
        weights = temporal_weights(dynamics, later, self.beta)  # (B, T-1)
        relative = weights / weights.mean(dim=-1, keepdim=True).clamp_min(1e-12)
        counts = temporal_counts(relative.detach(), self.eta, self.max_temporal)
        focus = 1 + self.beta * later.to(delta.dtype)  # (B, T-1, P)
        weighted = token_volume(focus.unsqueeze(-1) * delta, grid)
        layout = volume_tokens(self.prompt_map(weighted))  # (B, T-1, P, k)
        gap_prompts = relative.unsqueeze(-1) * self.prompt_out(layout.flatten(2))  # (B, T-1, C)
        slots = gap_prompts.unsqueeze(2) + self.slots  # (B, T-1, S, C)
        prompts = torch.cat([slots.new_zeros(b, 1, self.max_temporal, c), slots], dim=1)
        slot_index = torch.arange(self.max_temporal, device=patches.device)
        valid = slot_index < counts.unsqueeze(-1)  # (B, T-1, S)
        valid = torch.cat([valid.new_zeros(b, 1, self.max_temporal), valid], dim=1)
        return TemporalOutput(prompts, valid, counts, weights)
