"""A sanity measure of cached region embeddings: does the sentence pick its object?

On every ground-truth frame of a query that has cached regions, the region most similar to the
sentence is a hit when its box overlaps the ground truth with IoU > ``iou``. Chance is the
expected hit rate of a uniformly random region of that frame; the oracle counts frames where
some region is a hit at all (the ceiling the boxes allow). Top-2 counts a hit among the two most
similar regions: on the synthetic benchmark every target has a same-looking twin, which
appearance alone cannot tell apart. This is per-frame spatial
selection only, not a grounding result: no temporal localization, no tube.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import pairwise_box_iou
from stvg.stvgdata.regions import read_query_embeddings, read_video_regions
from stvg.stvgdata.workspace import Workspace


@dataclass(frozen=True)
class ProbeRow:
    sentence_type: str  # all, declarative or interrogative
    queries: int
    frames: int  # GT frames with at least one cached region
    top1: float  # fraction of frames whose most similar region is the GT object
    top2: float  # fraction of frames with the GT object among the two most similar regions
    chance: float  # expected fraction for a uniformly random region of the frame
    oracle: float  # fraction of frames where some region is the GT object


@dataclass(frozen=True)
class _Scored:
    """One GT frame's outcome."""

    sentence_type: str
    query_id: str
    top1: bool
    top2: bool
    chance: float
    oracle: bool


def probe_regions(
    ws: Workspace, dataset: str, split: str = "test", boxes: str = "tubelets", iou: float = 0.5
) -> list[ProbeRow]:
    """Top-1 region selection by sentence similarity on GT frames, per sentence type."""
    gt = query(
        ws,
        "SELECT q.query_id, q.video_id, q.sentence_type, b.frame_idx, b.x1, b.y1, b.x2, b.y2 "
        "FROM queries q JOIN boxes b USING (dataset, query_id) "
        "WHERE q.dataset = ? AND q.split = ? ORDER BY q.video_id, q.query_id, b.frame_idx",
        [dataset, split],
    ).to_pylist()
    if not gt:
        raise BadInputError.for_field("split", f"{dataset}/{split}", "no queries with boxes")
    query_ids = sorted({row["query_id"] for row in gt})
    sentences = dict(zip(query_ids, read_query_embeddings(ws, dataset, query_ids), strict=True))
    scored: list[_Scored] = []
    video_id, regions = None, None
    for row in gt:
        if row["video_id"] != video_id:
            video_id = row["video_id"]
            regions = read_video_regions(ws, dataset, video_id, boxes)
        on_frame = np.flatnonzero(regions.region_frame == row["frame_idx"])
        if on_frame.size == 0:
            continue
        truth = np.array([[row["x1"], row["y1"], row["x2"], row["y2"]]], np.float32)
        good = pairwise_box_iou(regions.boxes[on_frame], truth)[:, 0] > iou  # (n,)
        ranked = np.argsort(-(regions.embeddings[on_frame] @ sentences[row["query_id"]]))
        scored.append(
            _Scored(
                row["sentence_type"],
                row["query_id"],
                top1=bool(good[ranked[0]]),
                top2=bool(good[ranked[:2]].any()),
                chance=float(good.mean()),
                oracle=bool(good.any()),
            )
        )
    return [
        _summarize(kind, [s for s in scored if kind in ("all", s.sentence_type)])
        for kind in ("all", "declarative", "interrogative")
    ]


def _summarize(kind: str, scored: list[_Scored]) -> ProbeRow:
    if not scored:
        return ProbeRow(kind, 0, 0, *[float("nan")] * 4)
    return ProbeRow(
        sentence_type=kind,
        queries=len({s.query_id for s in scored}),
        frames=len(scored),
        top1=float(np.mean([s.top1 for s in scored])),
        top2=float(np.mean([s.top2 for s in scored])),
        chance=float(np.mean([s.chance for s in scored])),
        oracle=float(np.mean([s.oracle for s in scored])),
    )
