"""Which frames each protocol scores, and which box stands for a frame."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.eval.protocols import (
    PROTOCOLS,
    boxes_from_nearest,
    boxes_on_frames,
    get_protocol,
    sample_frames,
)
from stvg.stvgdata.errors import BadInputError

SAMPLED = get_protocol("sampled-5fps")
ALL_FRAMES = get_protocol("all-frames")


def reference_rule(start: int, end: int, src_fps: float) -> list[int]:
    """The sampling rule written out plainly: keep a frame when floor(f * 5 / fps) goes up."""
    rate = 5 / src_fps
    kept = [start]
    for frame in range(start, end):
        if int(frame * rate) > int(kept[-1] * rate):
            kept.append(frame)
    return kept


def test_registry_names_both_protocols():
    assert set(PROTOCOLS) == {"sampled-5fps", "all-frames"}
    with pytest.raises(BadInputError, match="unknown protocol"):
        get_protocol("every-other-frame")


def test_5fps_from_30fps_keeps_every_sixth_frame_and_drops_the_last_clip_frame():
    # Clip [0, 31): TubeDETR samples range(0, 30), so frame 30 is not scored.
    assert SAMPLED.eval_frames(0, 31, 30.0).tolist() == [0, 6, 12, 18, 24]
    assert SAMPLED.eval_frames(0, 32, 30.0).tolist() == [0, 6, 12, 18, 24, 30]


def test_5fps_from_25fps_keeps_every_fifth_frame():
    assert SAMPLED.eval_frames(0, 26, 25.0).tolist() == [0, 5, 10, 15, 20]


def test_sampling_keeps_a_mid_bucket_clip_start():
    # VidSTG clips start anywhere: frame 7 is kept, then the next 1/5-second bucket starts at 12.
    assert SAMPLED.eval_frames(7, 30, 30.0).tolist() == [7, 12, 18, 24]


@pytest.mark.parametrize("fps", [29.97, 23.976, 30.0, 25.0, 15.0, 59.94])
def test_sampling_matches_the_rule_at_odd_rates(fps):
    assert sample_frames(3, 900, fps, 5.0, 10_000).tolist() == reference_rule(3, 900, fps)


def test_sources_slower_than_5fps_keep_every_frame():
    assert SAMPLED.eval_frames(0, 6, 4.0).tolist() == [0, 1, 2, 3, 4]


def test_at_most_200_frames_taken_uniformly():
    # 30 fps over range(0, 1500): 250 sampled frames 0, 6, ..., 1494; keep index j * 250 // 200.
    frames = SAMPLED.eval_frames(0, 1501, 30.0)
    assert len(frames) == 200
    assert frames[:6].tolist() == [0, 6, 12, 18, 30, 36]  # index 4 -> 1000 // 200 = 5 -> 30
    assert frames[-1] == 6 * (199 * 250 // 200)


def test_one_frame_clip_scores_its_frame():
    assert SAMPLED.eval_frames(4, 5, 30.0).tolist() == [4]
    assert ALL_FRAMES.eval_frames(4, 5, 30.0).tolist() == [4]


def test_all_frames_scores_every_frame_of_the_clip():
    assert ALL_FRAMES.eval_frames(3, 7, 30.0).tolist() == [3, 4, 5, 6]


def test_exact_lookup_marks_frames_without_a_box():
    src_frames = np.array([0, 6, 12])
    src_boxes = np.array([[0, 0, 1, 1], [6, 6, 7, 7], [12, 12, 13, 13]], dtype=float)
    boxes, found = boxes_on_frames(np.array([0, 3, 12, 20]), src_frames, src_boxes)
    assert found.tolist() == [True, False, True, False]
    assert boxes[2].tolist() == [12, 12, 13, 13]
    assert boxes[1].tolist() == [0, 0, 0, 0]


def test_nearest_fill_takes_the_closest_predicted_frame_earlier_on_ties():
    src_frames = np.array([0, 6, 12])
    src_boxes = np.array([[0, 0, 1, 1], [6, 6, 7, 7], [12, 12, 13, 13]], dtype=float)
    frames = np.array([0, 2, 3, 4, 9, 10, 30])
    boxes, found = boxes_from_nearest(frames, src_frames, src_boxes)
    assert found.all()
    assert boxes[:, 0].tolist() == [0, 0, 0, 6, 6, 12, 12]


def test_nearest_fill_from_a_single_box_and_from_none():
    boxes, found = boxes_from_nearest(np.array([0, 50]), np.array([7]), np.array([[1, 2, 3, 4.0]]))
    assert found.all() and boxes.tolist() == [[1, 2, 3, 4], [1, 2, 3, 4]]
    _, found = boxes_from_nearest(np.array([0, 1]), np.zeros(0, np.int64), np.zeros((0, 4)))
    assert not found.any()
