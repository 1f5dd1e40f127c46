"""Grounding one query in one video: the E3M EM loop, and the per-frame baseline.

Both work on one video's cached regions (``VideoRegions``) and one sentence embedding and return
a ``Grounding``: the selected interval and one box per sampled frame that has a region (boxes
on every frame, so sIoU measures the spatial part whatever the timing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.estep import e_step, posterior_weights
from stvg.heads.e3m.model.spatial import NONE, best_per_frame, m_step
from stvg.heads.e3m.model.vectors import l2_normalize
from stvg.heads.eval.predictions import QueryPrediction
from stvg.stvgdata.regions import VideoRegions


@dataclass(frozen=True)
class Grounding:
    """Positions among the video's sampled frames: interval [start, end) and the region chosen
    on each frame (T,) (NONE where the frame has no region); gamma (T,) when EM ran."""

    start: int
    end: int
    chosen: np.ndarray
    gamma: np.ndarray | None = None


def region_positions(regions: VideoRegions) -> np.ndarray:
    """Position (N,) of each region's frame among the sampled frames ``frame_idx``."""
    return np.searchsorted(regions.frame_idx, regions.region_frame).astype(np.int64)


def ground_baseline(regions: VideoRegions, query: np.ndarray) -> Grounding:
    """Per frame the region most similar to the sentence, no modulation, no EM; the interval is
    every frame from the first to the last that has a region (no temporal reasoning at all)."""
    positions = region_positions(regions)
    chosen = best_per_frame(positions, regions.embeddings @ query, len(regions.frame_idx))
    has = np.flatnonzero(chosen != NONE)
    return Grounding(int(has[0]), int(has[-1]) + 1, chosen) if len(has) else Grounding(0, 0, chosen)


def ground_e3m(
    regions: VideoRegions, query: np.ndarray, modulated: np.ndarray, config: E3MConfig
) -> Grounding:
    """``config.iterations`` rounds of M-step (spatial) then E-step (gamma, event) over region
    embeddings ``modulated`` (N, D) (the context-modulated ones, or the cached ones without
    visual modulation); each M-step is weighted by the previous E-step's posterior (gamma,
    damped off the selected event); the last round's boxes and event are the answer."""
    positions = region_positions(regions)
    num_frames = len(regions.frame_idx)
    if len(positions) == 0:  # nothing detected in the clip: nothing to ground
        return Grounding(0, 0, np.full(num_frames, NONE, np.int64))
    frames = np.asarray(regions.frame_embeddings, np.float64)
    query = l2_normalize(query)
    weights = None  # no E-step yet: every frame counts alike
    for _ in range(config.iterations):
        chosen, sentence = m_step(
            modulated, positions, regions.tubelet_id, query, weights, num_frames, config
        )
        gamma, event = e_step(modulated, chosen, frames, sentence, config)
        weights = posterior_weights(gamma, event, config.outside_event_weight)
    return Grounding(*event, chosen, gamma)


def to_prediction(query_id: str, regions: VideoRegions, grounding: Grounding) -> QueryPrediction:
    """A ``QueryPrediction``: absolute half-open interval (the end is the next sampled frame, or
    the last one plus the sampling stride) and the chosen boxes on their absolute frames."""
    frame_idx = regions.frame_idx.astype(np.int64)
    stride = int(np.median(np.diff(frame_idx))) if len(frame_idx) > 1 else 1
    ends = np.r_[frame_idx[1:], frame_idx[-1] + stride] if len(frame_idx) else frame_idx
    has = grounding.chosen != NONE
    start = int(frame_idx[grounding.start]) if grounding.end > grounding.start else 0
    end = int(ends[grounding.end - 1]) if grounding.end > grounding.start else 0
    return QueryPrediction(
        query_id=query_id,
        start_frame=start,
        end_frame=end,
        frame_idx=frame_idx[has],
        boxes=regions.boxes[grounding.chosen[has]],
    )
