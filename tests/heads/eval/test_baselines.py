"""Trivial baselines scored on a split: the mean train box, the GT tube with it, a random tube."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.eval.baselines import (
    GT_TUBE_MEAN_BOX,
    MEAN_BOX,
    RANDOM_TUBE,
    frame_sizes,
    mean_box,
    score_baselines,
    video_of_query,
)
from stvg.heads.eval.evaluate import load_ground_truth
from tests.heads.cached_workspace import DATASET, build_cached_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_cached_workspace(tmp_path_factory.mktemp("baselines"))


def test_mean_box_is_the_mean_normalized_train_box(ws):
    truth = load_ground_truth(ws, DATASET, "train")
    sizes = frame_sizes(ws, DATASET)
    videos = video_of_query(truth)
    boxes = np.concatenate([gt.boxes / sizes[videos[q]] for q, gt in truth.by_query.items()])
    np.testing.assert_allclose(mean_box(ws, DATASET, "train"), boxes.mean(axis=0))
    assert (boxes >= 0).all() and (boxes <= 1).all()


def test_baselines_time_and_place_as_their_names_say(ws):
    summaries = score_baselines(ws, DATASET, "test", "all-frames")
    assert set(summaries) == {MEAN_BOX, GT_TUBE_MEAN_BOX, RANDOM_TUBE}
    assert summaries[GT_TUBE_MEAN_BOX].m_tiou == pytest.approx(1.0)  # the true timing
    assert summaries[MEAN_BOX].m_tiou < 1.0  # the whole clip
    assert summaries[GT_TUBE_MEAN_BOX].m_siou == pytest.approx(summaries[MEAN_BOX].m_siou)
    assert all(s.num_missing == 0 for s in summaries.values())
    assert score_baselines(ws, DATASET, "test", "all-frames") == summaries  # seeded
