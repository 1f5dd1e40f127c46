"""The one home of box and interval geometry (NumPy): conversions, IoU, temporal IoU.

Boxes are arrays whose last axis holds 4 numbers. Formats:
- ``xyxy``: pixel corners x1, y1, x2, y2 (the catalog's format);
- ``xywh``: top-left corner plus width and height (TubeDETR, HC-STVG files);
- ``cxcywh``: centre and size, normalized by the frame size (what heads predict).
Intervals are half-open frame ranges [start, end).
Differentiable versions for losses live in ``heads.eval.box_ops`` and follow the same conventions.
"""

from __future__ import annotations

import numpy as np


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    x, y, w, h = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    return np.stack([x, y, x + w, y + h], axis=-1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """Pixel corners -> top-left corner plus width and height."""
    x1, y1, x2, y2 = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)


def xyxy_to_cxcywh_norm(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixel corners -> (cx, cy, w, h) normalized by the frame size."""
    x1, y1, x2, y2 = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    return np.stack(
        [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height],
        axis=-1,
    )


def cxcywh_norm_to_xyxy(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Normalized (cx, cy, w, h) -> pixel corners."""
    cx, cy, w, h = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    return np.stack(
        [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height],
        axis=-1,
    )


XYXY_TO_CXCYWH = np.array(
    [[0.5, 0.0, 0.5, 0.0], [0.0, 0.5, 0.0, 0.5], [-1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]]
)
"""Pixel corners -> pixel (cx, cy, w, h) as a linear map: ``XYXY_TO_CXCYWH @ box`` (4,); cheap
for the one-box-at-a-time conversions of a Kalman filter."""
CXCYWH_TO_XYXY = np.linalg.inv(XYXY_TO_CXCYWH)
"""The inverse map: pixel (cx, cy, w, h) -> pixel corners."""


def clip_boxes(boxes: np.ndarray, width: float, height: float, min_size: float = 1.0) -> np.ndarray:
    """xyxy boxes clipped to the frame [0, width] x [0, height], each at least ``min_size``
    pixels wide and high (a box that drifted out of the frame keeps a sliver at the border)."""
    x1, y1, x2, y2 = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    x1 = np.clip(x1, 0, width - min_size)
    y1 = np.clip(y1, 0, height - min_size)
    x2 = np.clip(x2, x1 + min_size, width)
    y2 = np.clip(y2, y1 + min_size, height)
    return np.stack([x1, y1, x2, y2], axis=-1)


def box_area(boxes: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = np.moveaxis(np.asarray(boxes, dtype=np.float64), -1, 0)
    return np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of two broadcastable arrays of xyxy boxes (0 where the union is empty)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ix1 = np.maximum(a[..., 0], b[..., 0])
    iy1 = np.maximum(a[..., 1], b[..., 1])
    ix2 = np.minimum(a[..., 2], b[..., 2])
    iy2 = np.minimum(a[..., 3], b[..., 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    union = box_area(a) + box_area(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def pairwise_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (N, M) between N and M xyxy boxes."""
    return box_iou(np.asarray(a)[:, None, :], np.asarray(b)[None, :, :])


def interval_intersection(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Length of the overlap of two half-open intervals."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def interval_union_span(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Length of [min start, max end): the temporal union as STVG metrics define it."""
    return max(a[1], b[1]) - min(a[0], b[0])


def temporal_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """tIoU of two half-open intervals (0 when both are empty)."""
    union = interval_union_span(a, b)
    return interval_intersection(a, b) / union if union > 0 else 0.0
