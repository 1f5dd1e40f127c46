"""From CoSPaL's scores to tubes, the SPS curriculum and the subject / context split."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.curriculum import curriculum, sps_fraction
from stvg.heads.cospal.data import VideoTubelets, WeakQuery
from stvg.heads.cospal.phrases import split_sentence
from stvg.heads.cospal.predict import (
    max_sum_run,
    random_tubelet_prediction,
    relevant_span,
    tube_prediction,
)


def _video() -> VideoTubelets:
    """Two tubelets on sampled frames 0, 2, ..., 18; tubelet 1 only on frames 4..10."""
    frames = np.arange(0, 20, 2)
    present = np.ones((2, 10), bool)
    present[1] = (frames >= 4) & (frames <= 10)
    boxes = np.zeros((2, 10, 4), np.float32)
    boxes[..., 2:] = 10
    boxes[1, :, 0] = frames  # tubelet 1's x1 tells the frame
    return VideoTubelets("v", frames, np.array([3, 7]), np.zeros((2, 10, 1)), boxes, present,
                         np.zeros((2, 10, 7)))  # fmt: skip


def _query(segment: tuple[int, int] = (0, 20)) -> WeakQuery:
    return WeakQuery("q", "v", segment, np.zeros((1, 1)), np.zeros((1, 1)))


def test_max_sum_run_bridges_a_dip_worth_crossing():
    assert max_sum_run(np.array([-1.0, 2.0, 2.0, -1.0, 3.0, -5.0])) == (1, 5)
    assert max_sum_run(np.array([-1.0, 2.0, 2.0, -5.0, 3.0])) == (1, 3)
    assert max_sum_run(np.array([-2.0, -1.0, -3.0])) == (1, 2)  # all negative: the best frame


def test_relevant_span_keeps_consistently_relevant_present_frames():
    relevance = np.array([100.0, 0.0, 0.1, 0.9, 1.0, 0.8, 0.1, 0.0])
    present = np.array([False, True, True, True, True, True, True, True])
    span = relevant_span(relevance, present, quantile=0.5)
    assert np.flatnonzero(span).tolist() == [3, 4, 5]  # frame 0's 100 is outside the clip
    gap = present.copy()
    gap[4] = False  # a missed detection inside the run: the span spans it, boxes skip it
    assert np.flatnonzero(relevant_span(relevance, gap, 0.5)).tolist() == [3, 5]
    assert relevant_span(relevance, np.zeros(8, bool), 0.5).sum() == 0


def test_tube_prediction_ends_at_the_next_sampled_frame_inside_the_clip():
    video, span = _video(), np.zeros(10, bool)
    span[3:5] = True  # sampled frames 6 and 8
    prediction = tube_prediction(_query(), video, 1, span)
    assert (prediction.start_frame, prediction.end_frame) == (6, 10)
    # boxes on every present frame of the tubelet in the clip, not just the span
    assert prediction.frame_idx.tolist() == [4, 6, 8, 10]
    assert prediction.boxes[:, 0].tolist() == [4, 6, 8, 10]
    clipped = tube_prediction(_query((0, 9)), video, 1, span)
    assert clipped.end_frame == 9


def test_a_tubelet_outside_the_clip_predicts_the_clip_without_boxes():
    prediction = tube_prediction(_query((12, 20)), _video(), 1, np.ones(10, bool))
    assert (prediction.start_frame, prediction.end_frame) == (12, 20)
    assert len(prediction.frame_idx) == 0


def test_random_tubelet_baseline_draws_among_tubelets_in_the_clip():
    rng = np.random.default_rng(0)
    drawn = {
        random_tubelet_prediction(_query((12, 20)), _video(), rng).frame_idx.tolist()[0]
        for _ in range(10)
    }
    assert drawn == {12}  # only tubelet 0 is in the clip; its whole extent there


def test_sps_widens_from_the_easiest_queries_to_all():
    config = CospalConfig(epochs=10, sps_start=0.4, sps_full_at=0.5)
    assert [round(sps_fraction(e, config), 2) for e in (0, 1, 5, 9)] == [0.4, 0.52, 1.0, 1.0]
    difficulty = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    assert curriculum(difficulty, 0, config).tolist() == [1, 3]
    assert curriculum(difficulty, 9, config).tolist() == [0, 1, 2, 3, 4]
    no_sps = CospalConfig(sps=False)
    assert sps_fraction(0, no_sps) == 1.0


@pytest.mark.parametrize(
    ("sentence", "subject", "context"),
    [
        ("The red square moves up and then stops.", "the red square", "moves up and then stops"),
        ("what is the white thing that stays still?", "the white thing", "stays still"),
        ("which triangle is moving in a circle?", "triangle", "moving in a circle"),
        ("what is moving left next to a blue circle?", "", "moving left next to a blue circle"),
        ("a man in a red shirt rides a bike", "a man in a red shirt", "rides a bike"),
    ],
)
def test_sentences_split_into_subject_and_context(sentence, subject, context):
    phrases = split_sentence(sentence)
    assert (phrases.subject, phrases.context) == (subject, context)


def test_config_rejects_impossible_settings():
    with pytest.raises(ValueError, match="multiple of heads"):
        CospalConfig(dim=10, heads=4)
    with pytest.raises(ValueError, match="sps_start"):
        CospalConfig(sps_start=0.0)
