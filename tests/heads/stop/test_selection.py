"""STOP's selection rules: W = alpha*A + (1-alpha)*M, top-N_s regions, W_t and ceil(eta*W_t)."""

from __future__ import annotations

import math

import torch

from stvg.heads.stop.selection import (
    combine_weights,
    temporal_counts,
    temporal_weights,
    top_regions,
)


def test_weights_mix_attention_and_dynamics_by_alpha() -> None:
    attention = torch.tensor([[0.7, 0.2, 0.1]])
    dynamics = torch.tensor([[0.0, 0.0, 1.0]])
    mixed = combine_weights(attention, dynamics, alpha=0.25)
    assert torch.allclose(mixed, torch.tensor([[0.175, 0.05, 0.775]]))
    assert torch.equal(combine_weights(attention, dynamics, 1.0), attention)
    assert torch.equal(combine_weights(attention, dynamics, 0.0), dynamics)


def test_top_regions_marks_exactly_the_n_largest_per_frame() -> None:
    weights = torch.tensor([[[0.1, 0.9, 0.3, 0.5], [0.8, 0.1, 0.7, 0.0]]])  # (B=1, T=2, P=4)
    regions = top_regions(weights, 2)
    assert regions.dtype == torch.bool and regions.shape == weights.shape
    assert regions.tolist() == [[[False, True, False, True], [True, False, True, False]]]
    assert top_regions(weights, 10).all()  # N_s beyond P selects every patch


def test_temporal_weights_follow_the_formula_with_beta_on_regions() -> None:
    dynamics = torch.tensor([[[[1.0, 1.0], [2.0, 0.0]]]])  # (B=1, G=1, P=2, d=2)
    regions = torch.tensor([[[False, True]]])
    # (1 / (P * d)) * sum_j (1 + beta * r_j) * sum_k h~^2 = (2 + (1 + 0.5) * 4) / 4
    expected = (2.0 + 1.5 * 4.0) / 4
    assert torch.allclose(temporal_weights(dynamics, regions, beta=0.5), torch.tensor([[expected]]))


def test_temporal_counts_are_ceil_of_eta_times_weight_capped() -> None:
    weights = torch.tensor([0.0, 0.2, 0.5, 1.01, 7.0])
    counts = temporal_counts(weights, eta=2.0, max_count=4)
    assert counts.tolist() == [0, 1, 1, 3, 4]
    assert counts.tolist()[:4] == [math.ceil(2.0 * w) for w in weights.tolist()[:4]]
    assert counts.dtype == torch.int64
