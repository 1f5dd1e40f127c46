"""Context-based visual modulation: each instance's embedding is enriched with the embeddings of
its context on neighbouring frames, found by propagating its box with the Kalman filter.

Only boxes that were cached have embeddings, so the propagated box is not cropped again: on each
neighbouring frame the cached region overlapping it best (IoU >= ``context_min_iou``) stands in
for its crop. The context regions are aggregated adaptively, weighted by a softmax of their
similarity to the instance, so an occluder or a mismatched box counts little.
"""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.vectors import l2_normalize, softmax
from stvg.stvgdata.geometry import box_iou
from stvg.stvgdata.regions import VideoRegions
from stvg.stvgdata.tracking import propagate


def instance_track(
    regions: VideoRegions, index: int, config: E3MConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Observed (frame_idx (K,), boxes (K, 4)) of region ``index``'s instance up to its frame:
    its tubelet's boxes within ``context_frames`` sampled frames before it, else its own box
    (a raw detection has no identity, so it is propagated as a constant box)."""
    frame = regions.region_frame[index]
    tubelet = regions.tubelet_id[index]
    if tubelet < 0:
        return regions.region_frame[index : index + 1], regions.boxes[index : index + 1]
    position = np.searchsorted(regions.frame_idx, frame)
    first = regions.frame_idx[max(0, position - config.context_frames)]
    own = (
        (regions.tubelet_id == tubelet)
        & (regions.region_frame >= first)
        & (regions.region_frame <= frame)
    )
    return regions.region_frame[own], regions.boxes[own]


def context_regions(regions: VideoRegions, index: int, config: E3MConfig) -> np.ndarray:
    """Indices of the regions best overlapping region ``index``'s propagated box on each of the
    ``context_frames`` sampled frames either side (frames without a match are skipped)."""
    position = int(np.searchsorted(regions.frame_idx, regions.region_frame[index]))
    lo, hi = max(0, position - config.context_frames), position + config.context_frames + 1
    neighbours = np.delete(regions.frame_idx[lo:hi], position - lo)
    if len(neighbours) == 0:
        return np.zeros(0, np.int64)
    frames, boxes = instance_track(regions, index, config)
    propagated = propagate(frames, boxes, neighbours)
    chosen = []
    for frame, box in zip(neighbours.tolist(), propagated, strict=True):
        candidates = np.flatnonzero(regions.region_frame == frame)
        if len(candidates) == 0:
            continue
        ious = box_iou(regions.boxes[candidates], box[None, :])
        best = int(np.argmax(ious))
        if ious[best] >= config.context_min_iou:
            chosen.append(candidates[best])
    return np.array(chosen, np.int64)


def modulate_regions(regions: VideoRegions, config: E3MConfig) -> np.ndarray:
    """Context-modulated region embeddings (N, D), unit length: v* = v + w * sum_k a_k c_k with
    a = softmax(cos(v, c_k) / temperature) over the instance's context regions c_k."""
    embeddings = np.asarray(regions.embeddings, np.float64)
    modulated = embeddings.copy()
    for index in range(len(embeddings)):
        context = context_regions(regions, index, config)
        if len(context) == 0:
            continue
        neighbours = embeddings[context]
        weights = softmax(neighbours @ embeddings[index], config.context_temperature)
        modulated[index] += config.context_weight * (weights @ neighbours)
    return l2_normalize(modulated)
