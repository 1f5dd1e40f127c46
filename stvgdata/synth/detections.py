"""SIMULATED detector output for the synthetic videos: no detector runs, the boxes are derived
from the ground truth (``Scene.boxes``) so that detections -> tubelets -> E3M runs offline.

Per object and frame: the true box, its centre shifted by Gaussian noise (a fraction of the
box's size) and its size scaled by a log-normal factor, clipped to the frame; dropped with
probability ``miss_rate``; score uniform in ``true_score``; label = the object's category. Per
frame, a Poisson number of false positives: random boxes with a random label of the video's
objects and a low score (``false_score``). Deterministic for the seed (the plan's own stream).

Written to ``<root>/detections.parquet`` in the Parquet format ``stvg import-detections`` reads
(columns video_id, frame_idx, x1, y1, x2, y2, score, label; metadata ``stvg:source`` =
``synthetic-simulated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stvg.stvgdata.detections import SOURCE_METADATA_KEY
from stvg.stvgdata.geometry import clip_boxes, cxcywh_norm_to_xyxy, xyxy_to_cxcywh_norm
from stvg.stvgdata.synth import hcstvg_layout, vidstg_layout
from stvg.stvgdata.synth.plan import VideoPlan
from stvg.stvgdata.synth.scene import SceneObject

FILE_NAME = "detections.parquet"
SOURCE = "synthetic-simulated"
ROWS_PER_GROUP = 1 << 20
SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("frame_idx", pa.int32()),
        ("x1", pa.float32()),
        ("y1", pa.float32()),
        ("x2", pa.float32()),
        ("y2", pa.float32()),
        ("score", pa.float32()),
        ("label", pa.string()),
    ],
    metadata={SOURCE_METADATA_KEY: SOURCE.encode()},
)


@dataclass(frozen=True)
class DetectorNoise:
    """How far the simulated detector departs from the truth."""

    centre_std: float = 0.05
    """Std of the centre shift, as a fraction of the box's width (x) or height (y)."""
    size_std: float = 0.05
    """Std of the log of the width and height scale factors."""
    miss_rate: float = 0.1
    """Probability that a true box is not detected on a frame."""
    false_positives_per_frame: float = 0.3
    """Mean (Poisson) number of false positives per frame."""
    false_positive_size: tuple[float, float] = (0.15, 0.4)
    """Height of a false positive as a fraction of the frame height (uniform); the width is
    0.5-1.5 times that height."""
    true_score: tuple[float, float] = (0.5, 1.0)
    false_score: tuple[float, float] = (0.05, 0.4)


def video_id(dataset: str, index: int) -> str:
    """The catalog's video_id of synthetic video ``index`` (what the importers derive)."""
    if dataset == "vidstg":
        return vidstg_layout.vidor_ids(index)[1]
    return Path(hcstvg_layout.video_name(index)).stem


def label(dataset: str, obj: SceneObject) -> str:
    """The object's category as the dataset's catalog names it (VidOR: adult; HC-STVG: person)."""
    if dataset == "vidstg":
        return vidstg_layout.object_category(obj)
    return "person"


def simulate(plan: VideoPlan, dataset: str, noise: DetectorNoise = DetectorNoise()) -> pa.Table:
    """The simulated detections of one video, ordered by frame (``SCHEMA`` rows)."""
    scene = plan.scene
    rng = np.random.default_rng(plan.detector_seed)
    count, frames = scene.boxes.shape[:2]
    cx, cy, w, h = np.moveaxis(xyxy_to_cxcywh_norm(scene.boxes, 1.0, 1.0), -1, 0)  # (K, T) px
    cx = cx + rng.normal(0.0, noise.centre_std, (count, frames)) * w
    cy = cy + rng.normal(0.0, noise.centre_std, (count, frames)) * h
    w = w * np.exp(rng.normal(0.0, noise.size_std, (count, frames)))
    h = h * np.exp(rng.normal(0.0, noise.size_std, (count, frames)))
    jittered = cxcywh_norm_to_xyxy(np.stack([cx, cy, w, h], -1), 1.0, 1.0)  # (K, T, 4)
    kept = rng.random((count, frames)) >= noise.miss_rate  # (K, T)
    true_scores = rng.uniform(*noise.true_score, (count, frames))
    names = [label(dataset, obj) for obj in scene.objects]

    per_frame = rng.poisson(noise.false_positives_per_frame, frames)  # (T,)
    fp_count = int(per_frame.sum())
    fp_h = rng.uniform(*noise.false_positive_size, fp_count) * scene.height
    fp_w = np.minimum(fp_h * rng.uniform(0.5, 1.5, fp_count), scene.width)
    fp_x = rng.uniform(0, 1, fp_count) * (scene.width - fp_w)
    fp_y = rng.uniform(0, 1, fp_count) * (scene.height - fp_h)
    fp_labels = rng.integers(0, count, fp_count)
    fp_scores = rng.uniform(*noise.false_score, fp_count)

    object_idx, frame_idx = np.nonzero(kept)
    frame_all = np.concatenate([frame_idx, np.repeat(np.arange(frames), per_frame)])
    boxes = np.concatenate(
        [jittered[object_idx, frame_idx], np.stack([fp_x, fp_y, fp_x + fp_w, fp_y + fp_h], 1)]
    )
    boxes = clip_boxes(boxes, scene.width, scene.height)
    scores = np.concatenate([true_scores[object_idx, frame_idx], fp_scores])
    labels = np.concatenate([object_idx, fp_labels])
    order = np.argsort(frame_all, kind="stable")
    columns = {
        "video_id": [video_id(dataset, plan.index)] * len(order),
        "frame_idx": frame_all[order],
        **{name: boxes[order, i] for i, name in enumerate(("x1", "y1", "x2", "y2"))},
        "score": scores[order],
        "label": [names[k] for k in labels[order].tolist()],
    }
    return pa.Table.from_pydict(columns, schema=SCHEMA)


class DetectionsWriter:
    """Streams every video's simulated detections into ``<root>/detections.parquet``."""

    def __init__(self, root: Path, dataset: str, noise: DetectorNoise = DetectorNoise()) -> None:
        self.dataset = dataset
        self.noise = noise
        self.pending: list[pa.Table] = []
        self.writer = pq.ParquetWriter(root / FILE_NAME, SCHEMA, compression="zstd")

    def add(self, plan: VideoPlan) -> None:
        self.pending.append(simulate(plan, self.dataset, self.noise))
        if sum(table.num_rows for table in self.pending) >= ROWS_PER_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending), ROWS_PER_GROUP)
            self.pending = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
