"""The spatial head's anchor (box centre relative to where the static decoder looks) and the
input projections' normalization."""

from __future__ import annotations

import pytest
import torch

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model.csdvl import feature_projection
from stvg.heads.csdvl.model.spatial_head import (
    SpatialHead,
    attention_centre,
    grid_centres,
    joint_attention,
)


def test_grid_centres_are_row_major_cell_centres():
    centres = grid_centres(2, 4, torch.device("cpu"))
    assert centres.shape == (8, 2)
    torch.testing.assert_close(centres[0], torch.tensor([0.125, 0.25]))
    torch.testing.assert_close(centres[6], torch.tensor([0.625, 0.75]))  # row 1, column 2


def test_attention_centre_is_the_centre_of_mass_whatever_the_total():
    attention = torch.zeros(1, 2, 6)  # grid 2 x 3
    attention[0, 0, 5] = 0.3  # all of frame 0's (partial) mass on the bottom-right cell
    attention[0, 1, [0, 2]] = 0.5  # frame 1 split between the top corners
    centre = attention_centre(attention, 2, 3)
    torch.testing.assert_close(centre[0, 0], torch.tensor([5 / 6, 0.75]))
    torch.testing.assert_close(centre[0, 1], torch.tensor([0.5, 0.25]))


def test_with_zero_offsets_the_box_sits_on_the_reference():
    head = SpatialHead(8)
    torch.nn.init.zeros_(head.mlp[-1].weight)
    torch.nn.init.zeros_(head.mlp[-1].bias)
    reference = torch.tensor([[[0.2, 0.7], [0.9, 0.1]]])
    boxes = head(torch.randn(1, 2, 8), reference)
    torch.testing.assert_close(boxes[..., :2], reference)
    torch.testing.assert_close(boxes[..., 2:], torch.full((1, 2, 2), 0.5))


def test_the_box_loss_reaches_the_attention_through_the_reference():
    head = SpatialHead(8)
    logits = torch.zeros(1, 1, 6, requires_grad=True)
    boxes = head(torch.randn(1, 1, 8), attention_centre(logits.softmax(-1), 2, 3))
    boxes[..., 0].sum().backward()  # moving the centre right must favour right-hand cells
    assert logits.grad[0, 0, 2] > logits.grad[0, 0, 0]


def test_feature_projection_normalizes_any_input_scale():
    projection = feature_projection(5, CSDVLConfig(d_model=16, num_heads=4, dropout=0.0))
    out = projection(1000.0 * torch.randn(3, 5) + 50.0)
    torch.testing.assert_close(out.mean(-1), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std(-1, unbiased=False), torch.ones(3), atol=1e-2, rtol=0)


def test_joint_attention_picks_the_look_alike_the_dynamic_stream_points_at():
    static = torch.tensor([[[0.45, 0.05, 0.05, 0.45]]])  # (B, T, H*W): two look-alikes
    d2s = torch.tensor([[[0.05, 0.05, 0.05, 0.85]]])  # the dynamic stream prefers the second
    centre = attention_centre(joint_attention(static, d2s), 2, 2)
    assert centre[0, 0].tolist() == pytest.approx([0.75, 0.75], abs=0.05)  # near cell 3
    uniform = torch.full_like(d2s, 0.25)
    torch.testing.assert_close(joint_attention(static, uniform), static)
    pooled = torch.ones(1, 1, 1)  # "w/o spatial": one dynamic position
    torch.testing.assert_close(joint_attention(static, pooled), static)
    apart = joint_attention(torch.tensor([[[1.0, 0, 0, 0]]]), torch.tensor([[[0, 0, 0, 1.0]]]))
    assert torch.isfinite(apart).all() and apart.sum().item() == pytest.approx(1.0)
