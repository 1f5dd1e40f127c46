"""STVG metrics (pure NumPy): per-query vIoU, tIoU and sIoU, and their summaries.

With Tu = union and Ti = intersection of the predicted and ground-truth frame ranges:
vIoU = (1/|Tu|) * sum over t in Ti of IoU(pred_t, gt_t), counting only the protocol's scored
frames; tIoU = |Ti| / |Tu| on the continuous frame intervals; sIoU = mean IoU over the scored
ground-truth frames (spatial quality given the true timing). vIoU@R counts vIoU > R, strictly.
docs/metrics.md lists every rule and its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.geometry import box_iou, temporal_iou

VIOU_THRESHOLDS = (0.3, 0.5)


@dataclass(frozen=True)
class QueryScore:
    """Scores of one query; ``predicted`` is False when the query had no prediction (all 0)."""

    query_id: str
    viou: float
    tiou: float
    siou: float
    predicted: bool = True


@dataclass(frozen=True)
class Summary:
    """Means over queries (fractions in [0, 1], not percent); NaN when there are no queries."""

    num_queries: int
    num_missing: int
    m_viou: float
    viou_03: float
    viou_05: float
    m_tiou: float
    m_siou: float


def frame_ious(pred_boxes: np.ndarray, pred_valid: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """IoU (G,) of predicted and GT pixel xyxy boxes (G, 4) on the GT frames; a frame without a
    predicted box (``pred_valid`` False) scores 0."""
    ious = np.zeros(len(gt_boxes), dtype=np.float64)
    pred_valid = np.asarray(pred_valid, dtype=bool)
    ious[pred_valid] = box_iou(pred_boxes[pred_valid], gt_boxes[pred_valid])
    return ious


def score_query(
    query_id: str,
    frame_idx: np.ndarray,
    gt_interval: tuple[int, int],
    pred_interval: tuple[int, int],
    gt_frame_idx: np.ndarray,
    ious: np.ndarray,
) -> QueryScore:
    """Score one query from the protocol's scored frames ``frame_idx`` (K,), the GT frames among
    them ``gt_frame_idx`` (G,) (inside the GT tube, with a GT box) and the IoU on each (G,).

    Intervals are half-open [start, end) in absolute frames.
    """
    (gt_start, gt_end), (pred_start, pred_end) = gt_interval, pred_interval
    frame_idx = np.asarray(frame_idx, dtype=np.int64)
    in_union = (frame_idx >= min(gt_start, pred_start)) & (frame_idx < max(gt_end, pred_end))
    in_pred = (gt_frame_idx >= pred_start) & (gt_frame_idx < pred_end)
    viou = float(ious[in_pred].sum()) / max(int(in_union.sum()), 1)
    siou = float(ious.sum()) / max(len(ious), 1)
    return QueryScore(query_id, viou, temporal_iou(pred_interval, gt_interval), siou)


def unpredicted(query_id: str) -> QueryScore:
    """The score of a query nobody predicted: zero on every metric, and flagged."""
    return QueryScore(query_id, 0.0, 0.0, 0.0, predicted=False)


def summarize(scores: Sequence[QueryScore]) -> Summary:
    """m_vIoU, vIoU@0.3, vIoU@0.5 (strictly greater), m_tIoU and m_sIoU over ``scores``."""
    viou = np.array([s.viou for s in scores], dtype=np.float64)
    tiou = np.array([s.tiou for s in scores], dtype=np.float64)
    siou = np.array([s.siou for s in scores], dtype=np.float64)
    num_missing = sum(not s.predicted for s in scores)
    if len(scores) == 0:
        nan = float("nan")
        return Summary(0, 0, nan, nan, nan, nan, nan)
    low, high = VIOU_THRESHOLDS
    return Summary(
        num_queries=len(scores),
        num_missing=num_missing,
        m_viou=float(viou.mean()),
        viou_03=float((viou > low).mean()),
        viou_05=float((viou > high).mean()),
        m_tiou=float(tiou.mean()),
        m_siou=float(siou.mean()),
    )
