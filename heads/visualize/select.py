"""Which predictions to draw: a run's (predicted now by its method) or a predictions file's
(any file ``stvg eval`` accepts; both read by ``heads.eval.predictions``), scored per query as
``stvg eval`` scores them; and which queries: named ones, or the N worst / best by vIoU,
optionally of one sentence type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stvg.heads.eval.evaluate import GroundTruth, load_ground_truth, score_all
from stvg.heads.eval.metrics import QueryScore
from stvg.heads.eval.predictions import QueryPrediction, read_file_predictions
from stvg.heads.eval.protocols import get_protocol
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace


@dataclass(frozen=True)
class ScoredPredictions:
    """A split's predictions from one source, with every query's score under ``protocol``."""

    dataset: str
    split: str
    source: str
    ground_truth: GroundTruth
    predictions: dict[str, QueryPrediction]
    scores: dict[str, QueryScore]


def query_split(ws: Workspace, dataset: str, query_id: str) -> str:
    """The split of ``query_id`` in ``dataset``; one-line error for an unknown query."""
    rows = query(
        ws, "SELECT split FROM queries WHERE dataset = ? AND query_id = ?", [dataset, query_id]
    ).to_pylist()
    if not rows:
        raise BadInputError("catalog", query_id, f"no such query in dataset {dataset}")
    return rows[0]["split"]


_RECORDED_SQL = """
SELECT p.query_id, p.pred_start_frame, p.pred_end_frame,
       list(b.frame_idx ORDER BY b.frame_idx) FILTER (WHERE b.frame_idx IS NOT NULL) AS frame_idx,
       list([b.x1, b.y1, b.x2, b.y2] ORDER BY b.frame_idx)
           FILTER (WHERE b.frame_idx IS NOT NULL) AS boxes
FROM predictions p
LEFT JOIN predicted_boxes b ON b.run_id = p.run_id AND b.query_id = p.query_id
WHERE p.run_id = ? AND p.protocol = ?
GROUP BY p.query_id, p.pred_start_frame, p.pred_end_frame
"""


def recorded_setting(ws: Workspace, run_id: str) -> tuple[str, str, str] | None:
    """(dataset, split, protocol) of a run ``stvg eval`` recorded with per-query predictions
    (E3M's grounding, a scored predictions file), or None."""
    rows = query(
        ws,
        "SELECT r.dataset, r.split, r.protocol FROM runs r WHERE r.run_id = ? AND EXISTS "
        "(SELECT 1 FROM predictions p WHERE p.run_id = r.run_id AND p.protocol = r.protocol)"
        " ORDER BY r.created_at DESC LIMIT 1",
        [run_id],
    ).to_pylist()
    return (rows[0]["dataset"], rows[0]["split"], rows[0]["protocol"]) if rows else None


def recorded_predictions(ws: Workspace, run_id: str, protocol: str) -> dict[str, QueryPrediction]:
    """The predictions ``stvg eval`` recorded for ``run_id`` (``predictions`` and
    ``predicted_boxes`` tables)."""
    rows = query(ws, _RECORDED_SQL, [run_id, protocol]).to_pylist()
    return {
        row["query_id"]: QueryPrediction(
            row["query_id"],
            row["pred_start_frame"],
            row["pred_end_frame"],
            np.asarray(row["frame_idx"] or [], dtype=np.int64),
            np.asarray(row["boxes"] or [], dtype=np.float64),
        )
        for row in rows
    }


def scored(
    ws: Workspace,
    dataset: str,
    split: str,
    source: str,
    predictions: dict[str, QueryPrediction],
    protocol: str,
    ground_truth: GroundTruth | None = None,
) -> ScoredPredictions:
    """Score ``predictions`` per query (nothing is recorded in the catalog)."""
    ground_truth = ground_truth or load_ground_truth(ws, dataset, split)
    scores = score_all(ground_truth, predictions, get_protocol(protocol))
    by_id = {score.query_id: score for score in scores}
    return ScoredPredictions(dataset, split, source, ground_truth, predictions, by_id)


def file_predictions(
    ws: Workspace,
    path: Path,
    dataset: str,
    split: str,
    fmt: str,
    annotations: Path | None,
    protocol: str,
) -> ScoredPredictions:
    """A predictions file's predictions for ``dataset``/``split``, scored."""
    ground_truth = load_ground_truth(ws, dataset, split)
    predictions = read_file_predictions(path, fmt, dataset, ground_truth.queries, annotations)
    return scored(ws, dataset, split, Path(path).name, predictions, protocol, ground_truth)


def pick_queries(
    scored_predictions: ScoredPredictions,
    worst: int | None = None,
    best: int | None = None,
    sentence_type: str | None = None,
) -> list[str]:
    """The ``worst`` lowest or ``best`` highest vIoU queries (ties by query id), among those of
    ``sentence_type`` when given."""
    if (worst is None) == (best is None):
        raise BadInputError.for_field("worst", worst, "give exactly one of `worst` or `best`")
    count = worst if worst is not None else best
    if count < 1:
        field = "worst" if worst is not None else "best"
        raise BadInputError.for_field(field, count, "must be 1 or more")
    by_query = scored_predictions.ground_truth.by_query
    candidates = [
        score
        for query_id, score in scored_predictions.scores.items()
        if sentence_type is None or by_query[query_id].sentence_type == sentence_type
    ]
    if not candidates:
        types = sorted({gt.sentence_type for gt in by_query.values()})
        raise BadInputError.for_field(
            "sentence_type", sentence_type, f"no such queries; types here: {', '.join(types)}"
        )
    sign = 1 if worst is not None else -1
    ordered = sorted(candidates, key=lambda s: (sign * s.viou, s.query_id))
    return [score.query_id for score in ordered[:count]]
