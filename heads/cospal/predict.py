"""From scores to tubes: the chosen tubelet, and a temporal span from per-frame relevance.

The span: the chosen tubelet's per-frame relevance inside the clip (the sentence-vs-appearance
logit, plus the context-vs-dynamics logit with CRG) less its ``span_quantile`` over the clip's
present frames; the contiguous run with the largest sum is the span [first, next sampled frame
after the last). Frames above the quantile lengthen a run and frames below shorten it, so the
span covers where the tubelet is consistently relevant, not just its single peak frame (a
min-max threshold with the longest run scored below the whole tubelet on val). Boxes are the
tubelet's boxes on its present sampled frames in the clip.
"""

from __future__ import annotations

import numpy as np

from heads.cospal.data import VideoTubelets, WeakQuery, clip_present
from heads.eval.predictions import QueryPrediction


def max_sum_run(values: np.ndarray) -> tuple[int, int]:
    """[start, end) of the contiguous run with the largest sum (Kadane; first one on ties)."""
    best, best_run = -np.inf, (0, 0)
    total, start = 0.0, 0
    for position, value in enumerate(values.tolist()):
        if total <= 0:
            total, start = value, position
        else:
            total += value
        if total > best:
            best, best_run = total, (start, position + 1)
    return best_run


def relevant_span(relevance: np.ndarray, present: np.ndarray, quantile: float) -> np.ndarray:
    """(T,) bool: the run of present frames whose relevance, less its ``quantile`` over the
    present frames, has the largest sum (the run spans gaps between present frames)."""
    positions = np.flatnonzero(present)
    if len(positions) == 0:
        return present
    values = relevance[positions]
    start, end = max_sum_run(values - np.quantile(values, quantile))
    keep = np.zeros_like(present)
    keep[positions[start] : positions[end - 1] + 1] = True
    return keep & present


def tube_prediction(
    query: WeakQuery, video: VideoTubelets, tubelet: int, frames: np.ndarray
) -> QueryPrediction:
    """The tube of ``tubelet`` (row index) on the sampled ``frames`` (T,) bool it keeps."""
    present = clip_present(video, query.segment)[tubelet]
    keep = frames & present
    positions = np.flatnonzero(keep)
    if len(positions) == 0:  # a tubelet outside the clip: predict the clip, no boxes
        return QueryPrediction(query.query_id, *query.segment, np.zeros(0), np.zeros((0, 4)))
    last = positions[-1]
    end = (
        video.frame_idx[last + 1] if last + 1 < len(video.frame_idx) else video.frame_idx[last] + 1
    )
    end = min(int(end), query.segment[1])
    boxes_at = np.flatnonzero(present)
    return QueryPrediction(
        query.query_id,
        int(video.frame_idx[positions[0]]),
        end,
        video.frame_idx[boxes_at],
        video.boxes[tubelet, boxes_at],
    )


def random_tubelet_prediction(
    query: WeakQuery, video: VideoTubelets, rng: np.random.Generator
) -> QueryPrediction:
    """Baseline: a tubelet drawn uniformly among those in the clip, over its whole extent."""
    present = clip_present(video, query.segment)
    candidates = np.flatnonzero(present.any(axis=1))
    if len(candidates) == 0:
        return QueryPrediction(query.query_id, *query.segment, np.zeros(0), np.zeros((0, 4)))
    tubelet = int(rng.choice(candidates))
    return tube_prediction(query, video, tubelet, present[tubelet])
