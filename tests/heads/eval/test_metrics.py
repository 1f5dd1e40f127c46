"""Hand-computed STVG metric cases (every frame scored unless a case says otherwise)."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.eval.metrics import QueryScore, frame_ious, score_query, summarize, unpredicted

BOX = [0.0, 0.0, 10.0, 10.0]
HALF_IOU_BOX = [0.0, 0.0, 10.0, 20.0]  # area 200, overlaps BOX by 100: IoU 0.5


def score(gt, pred, frames=range(10), pred_box=BOX, missing_pred=(), missing_gt=()):
    """Score GT tube ``gt`` with boxes BOX against tube ``pred`` with ``pred_box`` everywhere."""
    frame_idx = np.asarray(list(frames))
    in_tube = frame_idx[(frame_idx >= gt[0]) & (frame_idx < gt[1])]
    gt_frame_idx = in_tube[~np.isin(in_tube, list(missing_gt))]
    g = len(gt_frame_idx)
    has_pred = ~np.isin(gt_frame_idx, list(missing_pred))
    ious = frame_ious(np.tile(pred_box, (g, 1)), has_pred, np.tile(BOX, (g, 1)))
    return score_query("q", frame_idx, gt, pred, gt_frame_idx, ious)


def test_perfect_prediction_scores_one():
    result = score((2, 6), (2, 6))
    assert (result.viou, result.tiou, result.siou) == (1.0, 1.0, 1.0)


def test_partial_temporal_overlap():
    # GT [0, 4), prediction [2, 6): Ti = {2, 3}, Tu = [0, 6) -> 2/6.
    result = score((0, 4), (2, 6))
    assert result.viou == pytest.approx(2 / 6)
    assert result.tiou == pytest.approx(2 / 6)
    assert result.siou == 1.0  # the boxes are right on every GT frame


def test_partial_overlap_with_half_iou_boxes():
    # Ti = {2, 3} with IoU 0.5 each, Tu has 6 frames -> (0.5 + 0.5) / 6.
    result = score((0, 4), (2, 6), pred_box=HALF_IOU_BOX)
    assert result.viou == pytest.approx(1 / 6)
    assert result.siou == pytest.approx(0.5)


def test_no_temporal_overlap_scores_zero_viou_but_keeps_siou():
    result = score((0, 3), (5, 8))
    assert (result.viou, result.tiou) == (0.0, 0.0)
    assert result.siou == 1.0  # sIoU judges boxes given the true timing


def test_missing_predicted_boxes_count_zero():
    # GT = prediction = [0, 4); no box on frame 1 -> 3 of 4 frames with IoU 1.
    result = score((0, 4), (0, 4), missing_pred=[1])
    assert result.viou == pytest.approx(3 / 4)
    assert result.siou == pytest.approx(3 / 4)
    assert result.tiou == 1.0


def test_frames_without_gt_box_are_not_gt_frames():
    # GT box missing on frame 1 of the tube [0, 4): it leaves sIoU's denominator, stays in Tu.
    result = score((0, 4), (0, 4), missing_gt=[1])
    assert result.siou == 1.0
    assert result.viou == pytest.approx(3 / 4)


def test_one_frame_tubes():
    assert score((5, 6), (5, 6)).viou == 1.0
    stretched = score((5, 6), (5, 7))
    assert stretched.viou == pytest.approx(1 / 2)
    assert stretched.tiou == pytest.approx(1 / 2)
    assert score((5, 6), (6, 7)).viou == 0.0


def test_only_scored_frames_count():
    # Scored frames 0, 3, 6, 9; GT [0, 5) holds 0 and 3, prediction [3, 9) holds 3 and 6;
    # Tu = [0, 9) holds 0, 3, 6 -> vIoU 1/3, while tIoU stays on continuous frames: 2/9.
    result = score((0, 5), (3, 9), frames=[0, 3, 6, 9])
    assert result.viou == pytest.approx(1 / 3)
    assert result.tiou == pytest.approx(2 / 9)


def test_no_scored_gt_frame_scores_zero():
    result = score((1, 2), (1, 2), frames=[0, 3, 6])
    assert (result.viou, result.siou) == (0.0, 0.0)
    assert result.tiou == 1.0


def test_viou_at_r_is_strictly_greater():
    exactly_half = score((0, 2), (0, 4))  # 2 / 4: exactly 0.5
    assert exactly_half.viou == 0.5
    scores = [
        exactly_half,
        QueryScore("a", 0.3, 0.0, 0.0),
        QueryScore("b", 0.5000001, 0.0, 0.0),
        QueryScore("c", 0.1, 0.0, 0.0),
    ]
    summary = summarize(scores)
    assert summary.viou_03 == pytest.approx(2 / 4)
    assert summary.viou_05 == pytest.approx(1 / 4)


def test_summary_means_and_missing_queries():
    scores = [QueryScore("a", 0.8, 0.6, 0.9), QueryScore("b", 0.4, 0.2, 0.5), unpredicted("c")]
    summary = summarize(scores)
    assert summary.num_queries == 3
    assert summary.num_missing == 1
    assert summary.m_viou == pytest.approx(1.2 / 3)
    assert summary.m_tiou == pytest.approx(0.8 / 3)
    assert summary.m_siou == pytest.approx(1.4 / 3)
    assert summary.viou_03 == pytest.approx(2 / 3)
    assert summary.viou_05 == pytest.approx(1 / 3)


def test_summary_of_nothing_is_nan():
    summary = summarize([])
    assert summary.num_queries == 0
    assert np.isnan(summary.m_viou)
