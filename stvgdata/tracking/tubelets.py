"""``track_dataset``: every video's detections of one (dataset, source) -> the ``tubelets`` table.

Tubelets are a keyed part per (dataset, source), like the detections they come from: tracking
again replaces them in one rename. ``tubelet_id`` numbers them over the dataset (videos in
video_id order, tubelets of a video in order of birth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from stvg.schemas import empty_table
from stvg.stvgdata.catalog import query, replace_part
from stvg.stvgdata.detections import dataset_videos
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.tracking.tracker import TrackerConfig, Tubelet, track_video
from stvg.stvgdata.workspace import Workspace


@dataclass(frozen=True)
class TrackSummary:
    dataset: str
    source: str
    videos: int
    detections: int
    tubelets: int
    rows: int
    predicted_rows: int
    """Rows where the filter bridged a missed detection."""
    seconds: float


def choose_source(ws: Workspace, dataset: str, source: str | None) -> str:
    """``source`` if the dataset has detections from it; the only source when None."""
    sql = "SELECT DISTINCT source FROM detections WHERE dataset = ? ORDER BY source"
    found = query(ws, sql, [dataset]).column("source").to_pylist()
    if not found:
        raise BadInputError(dataset, None, "no detections; run `stvg import-detections` first")
    if source is None and len(found) > 1:
        raise BadInputError(
            dataset,
            None,
            f"detections from several sources {found}; choose one with `source`",
        )
    if source is not None and source not in found:
        raise BadInputError(dataset, source, f"no detections from this source; have {found}")
    return source or found[0]


def read_detections(ws: Workspace, dataset: str, source: str) -> pa.Table:
    """The (dataset, source) detections, ordered by video and frame."""
    return query(
        ws,
        "SELECT video_id, frame_idx, x1, y1, x2, y2, score, label FROM detections "
        "WHERE dataset = ? AND source = ? ORDER BY video_id, frame_idx",
        [dataset, source],
    )


def tubelet_rows(
    dataset: str, source: str, video_id: str, first_id: int, tubelets: list[Tubelet]
) -> pa.Table:
    """The ``tubelets`` rows of one video's (non-empty list of) tubelets, numbered from
    ``first_id``."""
    lengths = [len(t.frame_idx) for t in tubelets]
    count = sum(lengths)
    boxes = np.concatenate([t.boxes for t in tubelets]).astype(np.float32)  # (count, 4)
    scores = np.concatenate([t.scores for t in tubelets]).astype(np.float32)
    return pa.table(
        {
            "dataset": pa.array([dataset] * count, pa.string()),
            "video_id": pa.array([video_id] * count, pa.string()),
            "tubelet_id": np.repeat(np.arange(first_id, first_id + len(tubelets)), lengths),
            "frame_idx": np.concatenate([t.frame_idx for t in tubelets]).astype(np.int32),
            "x1": boxes[:, 0],
            "y1": boxes[:, 1],
            "x2": boxes[:, 2],
            "y2": boxes[:, 3],
            "score": pa.array(scores, from_pandas=True),  # NaN (predicted) -> null
            "label": pa.array(np.repeat([t.label for t in tubelets], lengths).tolist()),
            "observed": ~np.isnan(scores),
            "source": pa.array([source] * count, pa.string()),
        }
    )


def track_dataset(
    ws: Workspace,
    dataset: str,
    source: str | None = None,
    config: TrackerConfig = TrackerConfig(),
    progress: ProgressFn | None = None,
) -> TrackSummary:
    """Track every video's detections of (dataset, ``source``) into tubelets and install them
    as that key's ``tubelets`` rows (replacing any earlier tracking)."""
    started = time.perf_counter()
    report = progress or no_progress
    source = choose_source(ws, dataset, source)
    videos = dataset_videos(ws, dataset)
    frame_size = {row["video_id"]: (row["width"], row["height"]) for row in videos.to_pylist()}
    detections = read_detections(ws, dataset, source)
    video_ids = detections.column("video_id").to_numpy(zero_copy_only=False)
    names, starts = np.unique(video_ids, return_index=True)  # rows are ordered by video_id
    ends = np.append(starts[1:], len(video_ids))
    frames = detections.column("frame_idx").to_numpy()
    boxes = np.stack([detections.column(c).to_numpy() for c in ("x1", "y1", "x2", "y2")], 1)
    scores = detections.column("score").to_numpy()
    labels = detections.column("label").to_pylist()
    parts: list[pa.Table] = []
    next_id = 0
    for done, (video_id, start, end) in enumerate(zip(names, starts, ends, strict=True), 1):
        tubelets = track_video(
            frames[start:end],
            boxes[start:end],
            scores[start:end],
            labels[start:end],
            frame_size[video_id],
            config,
        )
        if tubelets:
            parts.append(tubelet_rows(dataset, source, video_id, next_id, tubelets))
            next_id += len(tubelets)
        report("tracking", done, len(names))
    table = pa.concat_tables(parts) if parts else empty_table("tubelets")
    replace_part(ws, "tubelets", (dataset, source), table)
    return TrackSummary(
        dataset,
        source,
        len(names),
        detections.num_rows,
        next_id,
        table.num_rows,
        int(np.count_nonzero(~table.column("observed").to_numpy(zero_copy_only=False))),
        time.perf_counter() - started,
    )
