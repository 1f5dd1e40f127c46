"""CSDVL losses on hand-made inputs, and the torch box ops they rest on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.losses import (
    box_losses,
    csdvl_losses,
    proposal_iou,
    scaled_iou,
    temporal_attentive_loss,
    temporal_grounding_loss,
)
from stvg.heads.csdvl.model.temporal_head import proposal_mask
from stvg.heads.eval.box_ops import box_iou, cxcywh_to_xyxy, generalized_box_iou, xyxy_to_cxcywh
from stvg.stvgdata import geometry


def test_box_ops_agree_with_numpy_geometry():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 50, (8, 2)), rng.uniform(60, 100, (8, 2))], axis=1)
    b = np.concatenate([rng.uniform(0, 70, (8, 2)), rng.uniform(70, 120, (8, 2))], axis=1)
    expected = geometry.box_iou(a, b)
    got = box_iou(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    cxcywh = torch.tensor([[0.5, 0.5, 0.2, 0.4]])
    torch.testing.assert_close(xyxy_to_cxcywh(cxcywh_to_xyxy(cxcywh)), cxcywh)


def test_giou_is_negative_for_far_apart_boxes_and_one_for_equal():
    a = torch.tensor([0.0, 0.0, 1.0, 1.0])
    far = torch.tensor([2.0, 0.0, 3.0, 1.0])
    assert generalized_box_iou(a, a) == pytest.approx(1.0)
    assert generalized_box_iou(a, far) == pytest.approx(0 - (3 - 2) / 3)


def test_perfect_boxes_cost_nothing_and_only_gt_frames_count():
    target = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.3, 0.3, 0.1, 0.1]]])
    pred = target.clone()
    pred[0, 1] = torch.tensor([0.9, 0.9, 0.1, 0.1])  # wrong, but on a frame without GT
    mask = torch.tensor([[True, False]])
    l1, giou = box_losses(pred, target, mask)
    assert l1 == 0 and giou.abs() < 1e-6
    shifted = target + torch.tensor([0.1, 0.0, 0.0, 0.0])
    l1, giou = box_losses(shifted, target, mask)
    assert l1 == pytest.approx(0.1, abs=1e-6) and giou > 0


def test_proposal_iou_and_its_2dtan_scaling():
    iou = proposal_iou(torch.tensor([[1, 3]]), num_frames=4)[0]  # GT covers frames 1, 2
    assert iou[1, 2] == 1  # proposal frames 1..2 = [1, 3)
    assert iou[0, 2] == pytest.approx(2 / 3)
    assert iou[3, 3] == 0
    scaled = scaled_iou(torch.tensor([0.2, 0.5, 0.75, 1.0]), 0.5, 1.0)
    torch.testing.assert_close(scaled, torch.tensor([0.0, 0.0, 0.5, 1.0]))


def test_temporal_grounding_loss_prefers_the_right_proposal_and_skips_masked_ones():
    tube = torch.tensor([[1, 3]])
    mask = proposal_mask(torch.tensor([[True, True, True, False]]))
    target = scaled_iou(proposal_iou(tube, 4), 0.5, 1.0)
    good = (target * 20 - 10).float()
    bad = -good
    assert temporal_grounding_loss(good, mask, tube, 0.5, 1.0) < temporal_grounding_loss(
        bad, mask, tube, 0.5, 1.0
    )
    noisy = good.clone()
    noisy[0, 3, 3] = 1e4  # a padded proposal: must not count
    assert temporal_grounding_loss(noisy, mask, tube, 0.5, 1.0) == temporal_grounding_loss(
        good, mask, tube, 0.5, 1.0
    )


def test_temporal_attentive_loss_rewards_high_scores_inside_the_tube():
    tube = torch.tensor([[1, 3]])
    frame_mask = torch.tensor([[True, True, True, True, False]])
    inside = torch.tensor([[-9.0, 9.0, 9.0, -9.0, 50.0]])  # padded frame is ignored
    assert temporal_attentive_loss(inside, frame_mask, tube) < 1e-3
    assert temporal_attentive_loss(-inside, frame_mask, tube) > 5


def test_total_is_the_lambda_weighted_sum():
    config = CSDVLConfig()
    batch = {
        "boxes": torch.tensor([[[0.5, 0.5, 0.2, 0.2]] * 3]),
        "box_mask": torch.tensor([[False, True, True]]),
        "tube": torch.tensor([[1, 3]]),
        "frame_mask": torch.ones(1, 3, dtype=torch.bool),
    }
    outputs = {
        "boxes": torch.tensor([[[0.4, 0.5, 0.2, 0.3]] * 3]),
        "score_logits": torch.zeros(1, 3, 3),
        "proposal_mask": proposal_mask(batch["frame_mask"]),
        "frame_logits": torch.zeros(1, 3),
    }
    terms = csdvl_losses(outputs, batch, config)
    expected = 5 * terms["l1"] + 2 * terms["giou"] + 5 * terms["tg"] + 1 * terms["ta"]
    torch.testing.assert_close(terms["total"], expected)
    assert terms["tg"] == pytest.approx(np.log(2), abs=1e-6)
