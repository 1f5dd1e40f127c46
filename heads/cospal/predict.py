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

from pathlib import Path

import numpy as np
import torch

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import (
    VideoTubelets,
    WeakQuery,
    clip_present,
    collate_weak,
    feature_dims,
    load_data,
    on_device,
)
from stvg.heads.cospal.model import CospalModel, CospalScores, build_model
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.runs import load_checkpoint
from stvg.stvgdata.workspace import Workspace

EVAL_BATCH = 64


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


def _batch_predictions(
    scores: CospalScores, queries: list[WeakQuery], videos: dict, quantile: float
) -> list[QueryPrediction]:
    own = scores.own(scores.tubelet_scores()).masked_fill(~scores.tubelet_valid, -np.inf)
    frames = scores.frame_tpg if scores.frame_crg is None else scores.frame_tpg + scores.frame_crg
    predictions = []
    for i, query in enumerate(queries):
        video = videos[query.video_id]
        k = int(own[i, : len(video.tubelet_ids)].argmax())
        t = len(video.frame_idx)
        relevance = frames[i, k, :t].numpy()
        span = relevant_span(relevance, clip_present(video, query.segment)[k], quantile)
        predictions.append(tube_prediction(query, video, k, span))
    return predictions


@torch.no_grad()
def predict(
    model: CospalModel, queries: list[WeakQuery], videos: dict, config: CospalConfig
) -> dict[str, QueryPrediction]:
    """Tubes of ``queries``: the best tubelet of each and its relevant span."""
    model.eval()
    predictions = {}
    for start in range(0, len(queries), EVAL_BATCH):
        chunk = queries[start : start + EVAL_BATCH]
        scores = model(on_device(collate_weak(chunk, videos), config.device)).to("cpu")
        for pred in _batch_predictions(scores, chunk, videos, config.span_quantile):
            predictions[pred.query_id] = pred
    return predictions


def predict_checkpoint(
    ws: Workspace, dataset: str, split: str, checkpoint: Path
) -> dict[str, QueryPrediction]:
    """The predictions of a trained CoSPaL checkpoint on ``split``."""
    payload = load_checkpoint(checkpoint)
    config = CospalConfig(**payload["config"])
    data = load_data(ws, dataset, split, config.use_slowfast, with_train=False)
    model = build_model(*feature_dims(data), config)
    model.load_state_dict(payload["model"])
    return predict(model.to(config.device), data.eval, data.videos, config)
