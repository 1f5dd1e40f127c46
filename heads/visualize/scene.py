"""What one picture of a query shows: the query's sentence and ids, its video, the GT tube and
the prediction, the frames to draw, and the per-frame IoU on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stvg.heads.eval.evaluate import GroundTruth, QueryGroundTruth
from stvg.heads.eval.metrics import QueryScore
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import boxes_on_frames, sample_frames
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import box_iou
from stvg.stvgdata.workspace import Workspace

SHOW_FPS = 5.0  # frames shown per second of video when the prediction names no frames
MAX_SHOWN = 200

_VIDEOS_SQL = """
SELECT q.query_id, q.video_id, q.sentence, v.path, v.width, v.height
FROM queries q JOIN videos v ON v.dataset = q.dataset AND v.video_id = q.video_id
WHERE q.dataset = ? AND q.split = ?
"""


@dataclass(frozen=True, eq=False)
class QueryScene:
    """One query to draw. ``frame_idx`` (K,) absolute frames shown, increasing; ``gt_boxes`` /
    ``pred_boxes`` (K, 4) pixel xyxy on them with masks ``has_gt`` / ``has_pred`` (K,);
    ``ious`` (K,) IoU where both exist inside both spans, NaN elsewhere."""

    query_id: str
    video_id: str
    sentence: str
    sentence_type: str
    source: str  # the run id or predictions file the prediction came from
    video_path: Path
    size: tuple[int, int]  # (width, height) in pixels
    fps: float
    clip: tuple[int, int]  # absolute [start, end)
    tube: tuple[int, int]  # GT [start, end)
    pred_span: tuple[int, int] | None  # predicted [start, end), None when unpredicted
    viou: float
    frame_idx: np.ndarray
    gt_boxes: np.ndarray
    has_gt: np.ndarray
    pred_boxes: np.ndarray
    has_pred: np.ndarray
    ious: np.ndarray

    @property
    def shown_fps(self) -> float:
        """Frames per second of video between the shown frames (the MP4's rate)."""
        if len(self.frame_idx) < 2:
            return self.fps
        return float(self.fps / np.median(np.diff(self.frame_idx)))


def shown_frames(gt: QueryGroundTruth, pred: QueryPrediction | None) -> np.ndarray:
    """The prediction's own frames inside the clip (the frames the method sampled), else the
    clip sampled at ``SHOW_FPS``."""
    if pred is not None and len(pred.frame_idx):
        inside = pred.frame_idx[(pred.frame_idx >= gt.clip[0]) & (pred.frame_idx < gt.clip[1])]
        if len(inside):
            return inside
    return sample_frames(gt.clip[0], gt.clip[1], gt.fps, SHOW_FPS, MAX_SHOWN)


def _frame_ious(
    frame_idx: np.ndarray,
    gt_boxes: np.ndarray,
    has_gt: np.ndarray,
    pred_boxes: np.ndarray,
    has_pred: np.ndarray,
    tube: tuple[int, int],
    pred_span: tuple[int, int] | None,
) -> np.ndarray:
    """(K,) IoU on frames inside both the GT tube and the predicted span with both boxes."""
    ious = np.full(len(frame_idx), np.nan)
    if pred_span is None:
        return ious
    both = (
        has_gt
        & has_pred
        & (frame_idx >= tube[0])
        & (frame_idx < tube[1])
        & (frame_idx >= pred_span[0])
        & (frame_idx < pred_span[1])
    )
    if both.any():
        ious[both] = box_iou(pred_boxes[both], gt_boxes[both])
    return ious


def build_scenes(
    ws: Workspace,
    dataset: str,
    split: str,
    ground_truth: GroundTruth,
    predictions: Mapping[str, QueryPrediction],
    scores: Mapping[str, QueryScore],
    query_ids: list[str],
    source: str,
) -> list[QueryScene]:
    """A scene for each of ``query_ids`` (queries of ``dataset``/``split``)."""
    videos = {row["query_id"]: row for row in query(ws, _VIDEOS_SQL, [dataset, split]).to_pylist()}
    scenes = []
    for query_id in query_ids:
        gt = ground_truth.by_query.get(query_id)
        if gt is None or query_id not in videos:
            raise BadInputError("catalog", query_id, f"no such query in {dataset}/{split}")
        video, pred = videos[query_id], predictions.get(query_id)
        frame_idx = shown_frames(gt, pred)
        gt_boxes, has_gt = boxes_on_frames(frame_idx, gt.frame_idx, gt.boxes)
        if pred is None:
            pred_boxes, has_pred = boxes_on_frames(frame_idx, np.zeros(0, np.int64), None)
        else:
            pred_boxes, has_pred = boxes_on_frames(frame_idx, pred.frame_idx, pred.boxes)
        pred_span = None if pred is None else (pred.start_frame, pred.end_frame)
        scenes.append(
            QueryScene(
                query_id=query_id,
                video_id=video["video_id"],
                sentence=video["sentence"],
                sentence_type=gt.sentence_type,
                source=source,
                video_path=Path(video["path"]),
                size=(video["width"], video["height"]),
                fps=gt.fps,
                clip=gt.clip,
                tube=gt.tube,
                pred_span=pred_span,
                viou=scores[query_id].viou,
                frame_idx=frame_idx,
                gt_boxes=gt_boxes,
                has_gt=has_gt,
                pred_boxes=pred_boxes,
                has_pred=has_pred,
                ious=_frame_ious(
                    frame_idx, gt_boxes, has_gt, pred_boxes, has_pred, gt.tube, pred_span
                ),
            )
        )
    return scenes
