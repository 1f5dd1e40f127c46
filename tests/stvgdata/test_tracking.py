"""The Kalman filter, the IoU tracker and box propagation on constructed tracks."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.stvgdata.geometry import box_iou
from stvg.stvgdata.tracking import BoxKalman, TrackerConfig, propagate, track_video
from stvg.stvgdata.tracking.tracker import match_by_iou

FRAME = (640, 360)


def moving_box(frames: np.ndarray, start=(20.0, 100.0), velocity=(6.0, 2.0), size=(40.0, 60.0)):
    """(T, 4) xyxy boxes of a box moving at constant ``velocity`` px/frame."""
    x = start[0] + velocity[0] * frames
    y = start[1] + velocity[1] * frames
    return np.stack([x, y, x + size[0], y + size[1]], axis=1)


def detections_of(tracks: list[np.ndarray], frames: np.ndarray, label="person"):
    """Flat detector output (frame_idx, boxes, scores, labels) of true tracks on ``frames``."""
    frame_idx = np.concatenate([frames for _ in tracks])
    boxes = np.concatenate([track[frames] for track in tracks])
    return frame_idx, boxes, np.full(len(frame_idx), 0.9), [label] * len(frame_idx)


def test_kalman_prediction_error_is_small_after_a_few_updates_on_constant_velocity():
    frames = np.arange(12)
    truth = moving_box(frames)
    rng = np.random.default_rng(0)
    kalman = BoxKalman(truth[0])
    for box in truth[1:8] + rng.normal(0, 1.0, (7, 4)):
        kalman.predict()
        kalman.update(box)
    errors = [np.abs(kalman.predict() - truth[f]).max() for f in range(8, 12)]
    assert max(errors) < 3.0  # 4 frames ahead, ~6 px/frame motion, 1 px noise
    still = BoxKalman(truth[0])
    assert np.abs(still.predict() - truth[1]).max() == pytest.approx(6.0)  # no velocity yet


def test_kalman_runs_backwards_in_time_with_negative_dt():
    truth = moving_box(np.arange(20))
    kalman = BoxKalman(truth[19])
    for f in range(18, 9, -1):
        kalman.predict(-1)
        kalman.update(truth[f])
    assert np.abs(kalman.predict(-3) - truth[7]).max() < 2.0


def test_matching_is_one_to_one_highest_iou_first_and_label_aware():
    predicted = np.array([[0, 0, 10, 10], [2, 0, 12, 10]], float)
    detected = np.array([[1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 10, 10]], float)
    assert sorted(match_by_iou(predicted, ["a", "a"], detected, ["a", "a", "a"], 0.3)) == [
        (0, 2),
        (1, 0),
    ]
    assert match_by_iou(predicted, ["a", "a"], detected, ["b", "b", "b"], 0.3) == []


def test_two_objects_crossing_paths_keep_their_identities():
    frames = np.arange(40)
    left_to_right = moving_box(frames, start=(20.0, 100.0), velocity=(8.0, 0.0))
    right_to_left = moving_box(frames, start=(340.0, 110.0), velocity=(-8.0, 0.0))
    tubelets = track_video(*detections_of([left_to_right, right_to_left], frames), FRAME)
    assert len(tubelets) == 2
    for tubelet, truth in zip(tubelets, [left_to_right, right_to_left], strict=True):
        assert tubelet.frame_idx.tolist() == frames.tolist()
        assert box_iou(tubelet.boxes, truth).min() > 0.8


def test_missed_detections_for_a_few_frames_are_bridged_by_the_filter():
    frames = np.arange(30)
    truth = moving_box(frames)
    seen = np.setdiff1d(frames, [10, 11, 12, 13])
    other = moving_box(frames, start=(300.0, 200.0), velocity=(0.0, 0.0))  # keeps frames alive
    frame_idx, boxes, scores, labels = detections_of([truth], seen)
    frame_idx = np.concatenate([frame_idx, frames])
    boxes = np.concatenate([boxes, other])
    scores = np.concatenate([scores, np.full(30, 0.8)])
    tubelets = track_video(frame_idx, boxes, scores, labels + ["car"] * 30, FRAME)
    (person,) = [t for t in tubelets if t.label == "person"]
    assert person.frame_idx.tolist() == frames.tolist()
    assert person.observed[10:14].tolist() == [False] * 4 and person.observed[14:].all()
    assert np.isnan(person.scores[10:14]).all()
    assert box_iou(person.boxes[10:14], truth[10:14]).min() > 0.7


def test_a_track_ends_after_max_age_missed_frames():
    frames = np.arange(30)
    truth = moving_box(frames)
    other = moving_box(frames, start=(300.0, 200.0), velocity=(0.0, 0.0))
    seen = np.setdiff1d(frames, np.arange(10, 16))  # a gap of 6 frames
    frame_idx = np.concatenate([seen, frames])
    boxes = np.concatenate([truth[seen], other])
    labels = ["person"] * len(seen) + ["car"] * 30
    scores = np.full(len(frame_idx), 0.9)
    people = [
        t
        for t in track_video(frame_idx, boxes, scores, labels, FRAME, TrackerConfig(max_age=5))
        if t.label == "person"
    ]
    assert [t.frame_idx.tolist() for t in people] == [list(range(10)), list(range(16, 30))]


def test_false_positives_do_not_become_tubelets():
    rng = np.random.default_rng(1)
    frames = np.arange(50)
    truth = moving_box(frames)
    corners = rng.uniform(0, 500, (50, 2))  # one random box per frame, never twice in a row
    noise = np.concatenate([corners, corners + 30], axis=1)
    frame_idx = np.concatenate([frames, frames])
    boxes = np.concatenate([truth, noise])
    scores = np.concatenate([np.full(50, 0.9), np.full(50, 0.2)])
    tubelets = track_video(frame_idx, boxes, scores, ["person"] * 100, FRAME)
    assert len(tubelets) == 1
    assert box_iou(tubelets[0].boxes, truth).min() > 0.9
    every_box = track_video(frame_idx, boxes, scores, ["person"] * 100, FRAME,
                            TrackerConfig(min_hits=1))  # fmt: skip
    assert len(every_box) > 40


def test_strided_detections_predict_over_the_gap():
    frames = np.arange(0, 60, 5)  # a detector run every 5th frame
    truth = moving_box(np.arange(60), velocity=(3.0, 0.0))
    (tubelet,) = track_video(*detections_of([truth], frames), FRAME)
    assert tubelet.frame_idx.tolist() == frames.tolist() and tubelet.observed.all()


def test_tubelet_boxes_stay_inside_the_frame():
    frames = np.arange(20)
    truth = moving_box(frames, start=(500.0, 100.0), velocity=(7.0, 0.0))
    truth = np.minimum(truth, [FRAME[0], FRAME[1], FRAME[0], FRAME[1]])
    (tubelet,) = track_video(*detections_of([truth], frames), FRAME)
    assert (tubelet.boxes[:, 2] <= FRAME[0]).all() and (tubelet.boxes[:, 0] >= 0).all()
    assert (tubelet.boxes[:, 2] > tubelet.boxes[:, 0]).all()


def test_propagate_extends_a_track_forwards_and_backwards():
    truth = moving_box(np.arange(40))
    observed = np.arange(15, 25)
    wanted = np.array([30, 10, 20, 12])  # unordered, both sides, one observed
    boxes = propagate(observed, truth[observed], wanted)
    assert boxes.shape == (4, 4)
    assert box_iou(boxes, truth[wanted]).min() > 0.85


def test_propagate_of_one_box_keeps_it_and_clips_to_the_frame():
    box = np.array([[600.0, 10.0, 640.0, 50.0]])
    boxes = propagate(np.array([7]), box, np.array([5, 7, 9]), frame_size=FRAME)
    np.testing.assert_allclose(boxes, np.repeat(box, 3, axis=0))
