"""The tube-vs-rest AUC measure: the AUC itself, the per-frame reduction and finding the target
tubelet from GT boxes, on constructed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.e3m.timing import frame_scores, per_frame, roc_auc, target_tubelet
from tests.heads.e3m.e3m_fixtures import make_regions, still_boxes, unit


def test_roc_auc_orders_ties_and_degenerate_cases():
    inside = np.array([True, True, False, False])
    assert roc_auc(np.array([3.0, 4.0, 1.0, 2.0]), inside) == 1.0
    assert roc_auc(np.array([1.0, 2.0, 3.0, 4.0]), inside) == 0.0
    assert roc_auc(np.ones(4), inside) == 0.5
    assert roc_auc(np.array([3.0, 1.0, 2.0, 0.0]), inside) == 0.75
    assert np.isnan(roc_auc(np.ones(2), np.array([True, True])))


def test_per_frame_takes_the_best_and_ranks_empty_frames_last():
    values, positions = np.array([0.2, 0.9, 0.5]), np.array([0, 0, 2])
    assert per_frame(values, positions, 4).tolist() == [0.9, 0.5, 0.5, 0.5]
    assert per_frame(np.zeros(0), np.zeros(0, np.int64), 2).tolist() == [0.0, 0.0]


def test_target_tubelet_is_the_one_on_the_gt_boxes():
    frames = np.tile(unit(1.0), (4, 1))
    regions = make_regions(
        [(7, still_boxes(4, 0.0), frames), (9, still_boxes(4, 50.0), frames)], frames
    )
    gt_boxes = still_boxes(3, 51.0)
    assert target_tubelet(regions, np.array([0, 1, 2]), gt_boxes) == 9
    assert target_tubelet(regions, np.array([0]), still_boxes(1, 200.0)) == -1
    scores = frame_scores(regions, unit(1.0), None, 9)
    assert set(scores) == {"frame", "best-region", "target-tubelet"}
    assert scores["target-tubelet"] == pytest.approx(np.ones(4))
