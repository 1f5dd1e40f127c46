"""Trivial predictors scored on a split, so a table shows whether a trained head learned
anything: a head that does not beat the mean box has learned nothing about *where*, one that
does not beat the GT tube with the mean box nothing that timing alone would not give.

- ``mean box``: the mean train box (normalized by each video's frame size) on every frame of
  the whole clip: no timing, no localization.
- ``GT tube + mean box``: the true tube with the mean train box: perfect timing, no
  localization (the ceiling of a head that only learns *when*).
- ``random tube``: a random span of the clip with a random box (seeded per query).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from stvg.heads.eval.evaluate import GroundTruth, QueryGroundTruth, load_ground_truth, score_all
from stvg.heads.eval.metrics import Summary, summarize
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import get_protocol
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

MEAN_BOX, GT_TUBE_MEAN_BOX, RANDOM_TUBE = "mean box", "GT tube + mean box", "random tube"
BASELINES = (MEAN_BOX, GT_TUBE_MEAN_BOX, RANDOM_TUBE)
# (query's ground truth, its frame size (w, h), mean normalized xyxy box, rng) -> prediction
Predictor = Callable[
    [QueryGroundTruth, np.ndarray, np.ndarray, np.random.Generator], QueryPrediction
]


def frame_sizes(ws: Workspace, dataset: str) -> dict[str, np.ndarray]:
    """video_id -> (w, h, w, h), to scale xyxy boxes to and from [0, 1]."""
    table = query(
        ws, "SELECT video_id, width, height FROM videos WHERE dataset = ?", [dataset]
    ).to_pylist()
    return {
        row["video_id"]: np.array([row["width"], row["height"]] * 2, dtype=np.float64)
        for row in table
    }


def video_of_query(ground_truth: GroundTruth) -> dict[str, str]:
    queries = ground_truth.queries
    return dict(zip(queries["query_id"].to_pylist(), queries["video_id"].to_pylist(), strict=True))


def mean_box(ws: Workspace, dataset: str, split: str) -> np.ndarray:
    """Mean normalized xyxy GT box (4,) over every box row of ``split``."""
    ground_truth = load_ground_truth(ws, dataset, split)
    sizes = frame_sizes(ws, dataset)
    video_of = video_of_query(ground_truth)
    boxes = [
        gt.boxes / sizes[video_of[query_id]]
        for query_id, gt in ground_truth.by_query.items()
        if len(gt.boxes)
    ]
    if not boxes:
        raise BadInputError("catalog", f"{dataset}/{split}", "no GT boxes to average")
    return np.concatenate(boxes).mean(axis=0)


def _constant(query_id: str, span: tuple[int, int], box: np.ndarray) -> QueryPrediction:
    return QueryPrediction(query_id, span[0], span[1], np.array([span[0]]), box[None])


def _mean_box(
    gt: QueryGroundTruth, size: np.ndarray, box: np.ndarray, rng: np.random.Generator
) -> QueryPrediction:
    return _constant(gt.query_id, gt.clip, box * size)


def _gt_tube_mean_box(
    gt: QueryGroundTruth, size: np.ndarray, box: np.ndarray, rng: np.random.Generator
) -> QueryPrediction:
    return _constant(gt.query_id, gt.tube, box * size)


def _random_tube(
    gt: QueryGroundTruth, size: np.ndarray, box: np.ndarray, rng: np.random.Generator
) -> QueryPrediction:
    start, end = np.sort(rng.integers(gt.clip[0], gt.clip[1] + 1, size=2))
    corners = np.sort(rng.uniform(0, 1, size=(2, 2)), axis=0)  # rows: (x1, y1), (x2, y2)
    return _constant(gt.query_id, (int(start), int(max(end, start + 1))), corners.ravel() * size)


PREDICTORS: dict[str, Predictor] = {
    MEAN_BOX: _mean_box,
    GT_TUBE_MEAN_BOX: _gt_tube_mean_box,
    RANDOM_TUBE: _random_tube,
}


def score_baselines(
    ws: Workspace,
    dataset: str,
    split: str,
    protocol: str,
    train_split: str = "train",
    seed: int = 0,
) -> dict[str, Summary]:
    """Each baseline's summary on ``split`` (nothing is written to the catalog); the mean box
    comes from ``train_split``."""
    box = mean_box(ws, dataset, train_split)
    ground_truth = load_ground_truth(ws, dataset, split)
    sizes = frame_sizes(ws, dataset)
    video_of = video_of_query(ground_truth)
    chosen = get_protocol(protocol)
    summaries = {}
    for name, predict in PREDICTORS.items():
        predictions = {
            query_id: predict(gt, sizes[video_of[query_id]], box, _query_rng(seed, query_id))
            for query_id, gt in ground_truth.by_query.items()
        }
        summaries[name] = summarize(score_all(ground_truth, predictions, chosen))
    return summaries


def _query_rng(seed: int, query_id: str) -> np.random.Generator:
    """A query's own stream: its random tube does not depend on which other queries exist."""
    return np.random.default_rng([seed, zlib.crc32(query_id.encode())])
