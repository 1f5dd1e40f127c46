"""Is there a temporal signal to exploit? The ROC AUC, within each query's clip, of telling the
sampled frames inside the GT tube from the rest by a per-frame score.

E3M's temporal half (gamma, the events) can only beat "keep the whole clip" when its per-frame
scores rank tube frames above the others; this measures that directly for four scores: the
whole-frame similarity to the sentence, the best region's, the true target tubelet's (the
tubelet overlapping the GT boxes most; an upper bound for instance-level evidence) and E3M's
gamma. 0.5 is chance; the AUC is averaged over queries whose clip has frames of both kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.em import region_positions
from stvg.heads.e3m.predict import iter_groundings
from stvg.heads.eval.evaluate import load_ground_truth
from stvg.stvgdata.geometry import pairwise_box_iou
from stvg.stvgdata.regions import VideoRegions
from stvg.stvgdata.workspace import Workspace

SCORES = ("frame", "best-region", "target-tubelet", "gamma")
TARGET_IOU = 0.5  # a region is the GT object when it overlaps the GT box this much


@dataclass(frozen=True)
class TimingRow:
    score: str  # one of SCORES
    queries: int  # queries whose clip has sampled frames inside and outside the tube
    auc: float  # mean over those queries of the within-clip ROC AUC


def roc_auc(scores: np.ndarray, inside: np.ndarray) -> float:
    """P(score of a random inside frame > a random outside one), ties counting one half
    (Mann-Whitney); nan unless both kinds are present."""
    inside = np.asarray(inside, bool)
    positive, negative = scores[inside], scores[~inside]
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + ties / 2)


def per_frame(values: np.ndarray, positions: np.ndarray, num_frames: int) -> np.ndarray:
    """Max of ``values`` (N,) per frame position (T,); a frame without any value gets the
    lowest frame's score (no evidence ranks last, tied), or 0 when no frame has one."""
    out = np.full(num_frames, -np.inf)
    np.maximum.at(out, positions, values)
    missing = ~np.isfinite(out)
    out[missing] = out[~missing].min() if (~missing).any() else 0.0
    return out


def target_tubelet(regions: VideoRegions, gt_frames: np.ndarray, gt_boxes: np.ndarray) -> int:
    """The tubelet id that overlaps the GT box (IoU >= TARGET_IOU) on most GT frames, -1 if
    none does."""
    votes: dict[int, int] = {}
    for frame, box in zip(gt_frames, gt_boxes, strict=True):
        on_frame = np.flatnonzero((regions.region_frame == frame) & (regions.tubelet_id >= 0))
        if on_frame.size == 0:
            continue
        iou = pairwise_box_iou(regions.boxes[on_frame], box[None, :].astype(np.float32))[:, 0]
        if iou.max() >= TARGET_IOU:
            tubelet = int(regions.tubelet_id[on_frame[np.argmax(iou)]])
            votes[tubelet] = votes.get(tubelet, 0) + 1
    return max(votes, key=votes.get) if votes else -1


def frame_scores(
    regions: VideoRegions,
    sentence: np.ndarray,
    gamma: np.ndarray | None,
    target: int,
) -> dict[str, np.ndarray]:
    """Score name -> (T,) per sampled frame of the clip ``regions``."""
    positions = region_positions(regions)
    num_frames = len(regions.frame_idx)
    similarity = regions.embeddings @ sentence  # (N,)
    own = regions.tubelet_id == target
    scores = {
        "frame": regions.frame_embeddings @ sentence,
        "best-region": per_frame(similarity, positions, num_frames),
        "target-tubelet": per_frame(similarity[own], positions[own], num_frames),
    }
    if gamma is not None:
        scores["gamma"] = gamma
    return scores


def tube_timing_auc(
    ws: Workspace, dataset: str, split: str, config: E3MConfig = E3MConfig()
) -> list[TimingRow]:
    """Within-clip tube-vs-rest ROC AUC of each of ``SCORES`` over ``split``'s queries (gamma
    is E3M's with ``config``; a query without a target tubelet counts for the others)."""
    ground_truth = load_ground_truth(ws, dataset, split)
    aucs: dict[str, list[float]] = {name: [] for name in SCORES}
    for query_id, sentence, regions, grounding in iter_groundings(ws, dataset, split, config):
        gt = ground_truth.by_query[query_id]
        inside = (regions.frame_idx >= gt.tube[0]) & (regions.frame_idx < gt.tube[1])
        target = target_tubelet(regions, gt.frame_idx, gt.boxes)
        for name, scores in frame_scores(regions, sentence, grounding.gamma, target).items():
            if name == "target-tubelet" and target < 0:
                continue
            auc = roc_auc(np.asarray(scores, np.float64), inside)
            if not np.isnan(auc):
                aucs[name].append(auc)
    return [
        TimingRow(name, len(values), float(np.mean(values)) if values else float("nan"))
        for name, values in aucs.items()
    ]
