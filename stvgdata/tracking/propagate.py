"""Propagate an instance's box to neighbouring frames with the Kalman filter.

E3M's context-based visual modulation crops an instance's region on the frames around the one it
was detected on; this supplies those boxes. Frames after the first observation get the forward
filter's estimate (observations up to that frame); frames before it get the same filter run
backwards in time, so one observed box yields a constant box and a short track yields its motion.
"""

from __future__ import annotations

import numpy as np

from stvg.stvgdata.geometry import clip_boxes
from stvg.stvgdata.tracking.kalman import BoxKalman, KalmanConfig


def _filtered(
    obs_frames: np.ndarray, obs_boxes: np.ndarray, query: np.ndarray, config: KalmanConfig
) -> dict[int, np.ndarray]:
    """Causal estimate (4,) at each ``query`` frame (all >= obs_frames[0]; obs_frames sorted):
    the filter steps through observations and queries in time order."""
    kalman = BoxKalman(obs_boxes[0], config)
    now = int(obs_frames[0])
    observed = dict(zip(obs_frames.tolist()[1:], obs_boxes[1:], strict=True))
    estimates = {}
    for frame in sorted({*observed, *query.tolist()}):
        kalman.predict(frame - now)
        now = frame
        if frame in observed:
            kalman.update(observed[frame])
        estimates[frame] = kalman.box
    return estimates


def propagate(
    frame_idx: np.ndarray,
    boxes: np.ndarray,
    frames: np.ndarray,
    frame_size: tuple[int, int] | None = None,
    config: KalmanConfig = KalmanConfig(),
) -> np.ndarray:
    """Boxes (M, 4) pixel xyxy of an instance on ``frames`` (M,) absolute frame indices, from
    its observed boxes (N, 4) on ``frame_idx`` (N,), N >= 1; clipped to ``frame_size`` (width,
    height) when given."""
    order = np.argsort(frame_idx, kind="stable")
    obs_frames = np.asarray(frame_idx)[order]
    obs_boxes = np.asarray(boxes, dtype=np.float64)[order]
    frames = np.asarray(frames)
    first = obs_frames[0]
    forward = _filtered(obs_frames, obs_boxes, frames[frames >= first], config)
    # Backwards in time: frame f becomes -f, so the same causal filter runs from the first box.
    backward = _filtered(-obs_frames[::-1], obs_boxes[::-1], -frames[frames < first], config)
    out = np.array([forward[f] if f >= first else backward[-f] for f in frames.tolist()])
    out = out.reshape(-1, 4)
    return out if frame_size is None else clip_boxes(out, *frame_size)
