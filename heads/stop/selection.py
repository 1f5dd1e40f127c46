"""Where STOP puts its prompts: the paper's selection rules as plain tensor functions.

- intra-frame: W = alpha * A + (1 - alpha) * M per patch, A the CLS attention, M the temporal
  dynamics map; the top-N_s patches of each frame are the discriminative regions r;
- inter-frame: W_t = 1 / (P * d) * sum_j (1 + beta * r_j) * sum_k h~_{j,k}^2 per frame gap, and
  N_t = ceil(eta * W_t) prompts go between the two frames.
"""

from __future__ import annotations

import torch


def combine_weights(attention: torch.Tensor, dynamics: torch.Tensor, alpha: float) -> torch.Tensor:
    """W = alpha * A + (1 - alpha) * M, both (..., P) over the patches of a frame."""
    return alpha * attention + (1 - alpha) * dynamics


def top_regions(weights: torch.Tensor, count: int) -> torch.Tensor:
    """Bool mask r (..., P): True at the ``count`` largest weights of each frame (ties by index)."""
    count = min(count, weights.shape[-1])
    chosen = weights.topk(count, dim=-1).indices
    return torch.zeros_like(weights, dtype=torch.bool).scatter(-1, chosen, True)


def temporal_weights(dynamics: torch.Tensor, regions: torch.Tensor, beta: float) -> torch.Tensor:
    """W_t (..., G) per frame gap from the 3D-conv output h~ (..., G, P, d) of frame differences
    and the regions r (..., G, P) of the later frame: discriminative patches weigh 1 + beta."""
    energy = dynamics.pow(2).mean(dim=-1)  # (..., G, P): (1 / d) * sum_k h~^2
    return ((1 + beta * regions.to(energy.dtype)) * energy).mean(dim=-1)


def temporal_counts(weights: torch.Tensor, eta: float, max_count: int) -> torch.Tensor:
    """N_t = ceil(eta * W_t), capped at ``max_count`` prompt slots (int64, same shape)."""
    return torch.ceil(eta * weights).clamp(0, max_count).to(torch.int64)
