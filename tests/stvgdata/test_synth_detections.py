"""The SIMULATED detector: deterministic, close to the true boxes, misses and false positives at
the configured rates, labels = the objects' categories."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from stvg.stvgdata.detections import SOURCE_METADATA_KEY
from stvg.stvgdata.geometry import pairwise_box_iou
from stvg.stvgdata.synth import default_config, generate, with_overrides
from stvg.stvgdata.synth.detections import DetectorNoise, simulate
from stvg.stvgdata.synth.plan import plan_video
from stvg.stvgdata.synth.vidstg_layout import object_category

CONFIG = with_overrides(
    "vidstg", default_config("vidstg"), fps=10.0, video_seconds=12.0, tube_seconds=3.0
)
MATCH_IOU = 0.3


def plans(count=4, seed=0):
    return [plan_video("vidstg", CONFIG, seed, index, "train") for index in range(count)]


def boxes_of(table) -> np.ndarray:
    return np.stack([table.column(c).to_numpy() for c in ("x1", "y1", "x2", "y2")], axis=1)


def test_same_seed_same_detections_other_seed_other_detections():
    (a,), (b,), (c,) = plans(1), plans(1), plans(1, seed=1)
    assert simulate(a, "vidstg").equals(simulate(b, "vidstg"))
    assert not simulate(a, "vidstg").equals(simulate(c, "vidstg"))


def test_detections_are_close_to_the_truth_with_the_configured_miss_and_false_positive_rates():
    noise = DetectorNoise()
    ious, found, false_positives, frames = [], [], 0, 0
    for plan in plans():
        table = simulate(plan, "vidstg", noise)
        detected = boxes_of(table)
        frame_idx = table.column("frame_idx").to_numpy()
        labels = np.array(table.column("label").to_pylist())
        truth = plan.scene.boxes  # (K, T, 4)
        for t in range(truth.shape[1]):
            on_frame = frame_idx == t
            iou = pairwise_box_iou(truth[:, t], detected[on_frame])  # (K, D)
            names = [object_category(obj) for obj in plan.scene.objects]
            iou[np.array(names)[:, None] != labels[on_frame][None, :]] = 0.0
            best = iou.max(axis=1) if on_frame.any() else np.zeros(len(truth))
            found += (best >= MATCH_IOU).tolist()
            ious += best[best >= MATCH_IOU].tolist()
            false_positives += int(((iou >= MATCH_IOU).sum(axis=0) == 0).sum())
        frames += truth.shape[1]
    assert np.mean(ious) > 0.8
    assert abs((1 - np.mean(found)) - noise.miss_rate) < 0.03
    assert abs(false_positives / frames - noise.false_positives_per_frame) < 0.1


def test_scores_separate_true_from_false_detections_and_boxes_are_inside_the_frame():
    (plan,) = plans(1)
    table = simulate(plan, "vidstg")
    boxes = boxes_of(table)
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= CONFIG.width).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    scores = table.column("score").to_numpy()
    assert ((scores >= 0.05) & (scores <= 1.0)).all()
    assert set(table.column("video_id").to_pylist()) == {"0000000000"}


def test_generate_writes_the_parquet_file_beside_the_annotations_unless_told_not_to(tmp_path):
    summary = generate(tmp_path / "on", "vidstg", 3, 0, False, CONFIG)
    table = pq.read_table(summary.detections_file)
    assert table.schema.metadata[SOURCE_METADATA_KEY] == b"synthetic-simulated"
    assert set(table.column("video_id").to_pylist()) == {"0000000000", "0000000001", "0000000002"}
    off = generate(tmp_path / "off", "vidstg", 3, 0, False, CONFIG, detections=False)
    assert off.detections_file is None and not (tmp_path / "off" / "detections.parquet").exists()
    on_files = {p.relative_to(tmp_path / "on") for p in (tmp_path / "on").rglob("*.json")}
    off_files = {p.relative_to(tmp_path / "off") for p in (tmp_path / "off").rglob("*.json")}
    assert on_files == off_files
    for name in on_files:  # the annotations do not change with the detector
        assert (tmp_path / "on" / name).read_bytes() == (tmp_path / "off" / name).read_bytes()
