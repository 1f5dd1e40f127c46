"""Evaluation against the catalog's ground truth: score predictions under a protocol, summarize
per sentence type, and record the run (``runs``, ``predictions``, ``predicted_boxes`` tables).

Queries without a prediction are scored 0 and counted (``num_missing``), never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stvg.heads.distributed import is_rank_zero
from stvg.heads.eval.metrics import (
    QueryScore,
    Summary,
    frame_ious,
    score_query,
    summarize,
    unpredicted,
)
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import (
    EvalProtocol,
    boxes_from_nearest,
    boxes_on_frames,
    get_protocol,
)
from stvg.stvgdata.catalog import append_rows, connect
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

ALL = "all"

BOX_COLUMNS = ("x1", "y1", "x2", "y2")

# One statement for the whole split: each query with its video's fps and all its GT boxes as
# lists ordered by frame (boxes aggregated only for the split's queries).
_GROUND_TRUTH_SQL = """
WITH split_queries AS (
    SELECT * FROM queries WHERE dataset = $dataset AND split = $split
), tubes AS (
    SELECT b.query_id,
           list(b.frame_idx ORDER BY b.frame_idx) AS frame_idx,
           list(b.x1 ORDER BY b.frame_idx) AS x1, list(b.y1 ORDER BY b.frame_idx) AS y1,
           list(b.x2 ORDER BY b.frame_idx) AS x2, list(b.y2 ORDER BY b.frame_idx) AS y2
    FROM boxes b SEMI JOIN split_queries q ON q.query_id = b.query_id
    WHERE b.dataset = $dataset
    GROUP BY b.query_id
)
SELECT q.query_id, q.video_id, q.sentence, q.sentence_type, q.tube_start_frame,
       q.tube_end_frame, q.segment_start_frame, q.segment_end_frame, q.source_query_id,
       v.fps, t.frame_idx, t.x1, t.y1, t.x2, t.y2
FROM split_queries q
LEFT JOIN videos v ON v.dataset = q.dataset AND v.video_id = q.video_id
LEFT JOIN tubes t ON t.query_id = q.query_id
ORDER BY q.query_id
"""


@dataclass(frozen=True)
class RunInfo:
    """What the ``runs`` table records beside the metrics."""

    run_id: str
    method: str
    variant: str = "full"
    seed: int | None = None
    config: dict = field(default_factory=dict)
    checkpoint: str | None = None
    features: list[dict] = field(default_factory=list)  # (model, fingerprint, weights) read


@dataclass(frozen=True, eq=False)
class QueryGroundTruth:
    """One query's target: tube [tube_start, tube_end), clip [clip_start, clip_end) and GT boxes
    ``boxes`` (N, 4) pixel xyxy on absolute frames ``frame_idx`` (N,) int64, increasing."""

    query_id: str
    sentence_type: str
    tube: tuple[int, int]
    clip: tuple[int, int]
    fps: float
    frame_idx: np.ndarray
    boxes: np.ndarray


@dataclass(frozen=True)
class GroundTruth:
    """A split's ground truth: per-query targets, and the catalog ``queries`` rows they came
    from (TubeDETR files resolve their ids against those)."""

    queries: pa.Table
    by_query: dict[str, QueryGroundTruth]


@dataclass(frozen=True)
class EvalReport:
    """Summaries per sentence type (``all`` first) and every query's scores, under one protocol."""

    run: RunInfo
    dataset: str
    split: str
    protocol: str
    summaries: dict[str, Summary]
    scores: list[QueryScore]


def load_ground_truth(ws: Workspace, dataset: str, split: str) -> GroundTruth:
    """Every query of ``dataset``/``split`` with its GT boxes, read in one SQL statement."""
    con = connect(ws)
    try:
        params = {"dataset": dataset, "split": split}
        table = con.sql(_GROUND_TRUTH_SQL, params=params).to_arrow_table()
    finally:
        con.close()
    if table.num_rows == 0:
        raise BadInputError("catalog", f"{dataset}/{split}", "no queries: import the dataset first")
    no_video = table.filter(pc.is_null(table["fps"]))
    if no_video.num_rows:
        row = no_video.slice(0, 1).to_pylist()[0]
        raise BadInputError("catalog", row["query_id"], f"video {row['video_id']} is not cataloged")
    frame_idx, boxes = _tube_arrays(table)
    queries = table.drop_columns(["fps", "frame_idx", *BOX_COLUMNS])
    by_query = {
        row["query_id"]: QueryGroundTruth(
            query_id=row["query_id"],
            sentence_type=row["sentence_type"],
            tube=(row["tube_start_frame"], row["tube_end_frame"]),
            clip=(row["segment_start_frame"], row["segment_end_frame"]),
            fps=fps,
            frame_idx=frames,
            boxes=xyxy,
        )
        for row, fps, frames, xyxy in zip(
            queries.to_pylist(), table["fps"].to_pylist(), frame_idx, boxes, strict=True
        )
    }
    return GroundTruth(queries=queries, by_query=by_query)


def _tube_arrays(table: pa.Table) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-row list columns -> per query frame_idx (N,) int64 and boxes (N, 4) float64 (views
    into one flat array per column, so a million boxes cost a few copies, not a million)."""
    lengths = pc.fill_null(pc.list_value_length(table["frame_idx"]), 0).to_numpy()
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    flat_frames = pc.list_flatten(table["frame_idx"]).to_numpy().astype(np.int64)
    flat_boxes = np.stack(
        [pc.list_flatten(table[c]).to_numpy().astype(np.float64) for c in BOX_COLUMNS], axis=1
    )
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    return [flat_frames[s:e] for s, e in spans], [flat_boxes[s:e] for s, e in spans]


def score_one(
    gt: QueryGroundTruth, pred: QueryPrediction | None, protocol: EvalProtocol
) -> QueryScore:
    """Score one query under ``protocol`` (an unpredicted query scores 0 and is flagged)."""
    if pred is None:
        return unpredicted(gt.query_id)
    frame_idx = protocol.eval_frames(gt.clip[0], gt.clip[1], gt.fps)
    in_tube = frame_idx[(frame_idx >= gt.tube[0]) & (frame_idx < gt.tube[1])]
    gt_boxes, has_gt = boxes_on_frames(in_tube, gt.frame_idx, gt.boxes)  # GT is never filled
    gt_frame_idx = in_tube[has_gt]
    pred_boxes, has_pred = boxes_from_nearest(gt_frame_idx, pred.frame_idx, pred.boxes)
    ious = frame_ious(pred_boxes, has_pred, gt_boxes[has_gt])
    pred_interval = (pred.start_frame, pred.end_frame)
    return score_query(gt.query_id, frame_idx, gt.tube, pred_interval, gt_frame_idx, ious)


def score_all(
    ground_truth: GroundTruth,
    predictions: Mapping[str, QueryPrediction],
    protocol: EvalProtocol,
    progress: ProgressFn = no_progress,
) -> list[QueryScore]:
    """Scores of every GT query, in query order; predictions for other queries are an error."""
    unknown = sorted(set(predictions) - set(ground_truth.by_query))
    if unknown:
        raise BadInputError(
            "predictions", unknown[0], f"not a query of this split ({len(unknown)} unknown ids)"
        )
    total = len(ground_truth.by_query)
    scores = []
    for done, (query_id, gt) in enumerate(ground_truth.by_query.items(), start=1):
        scores.append(score_one(gt, predictions.get(query_id), protocol))
        if done % 1000 == 0 or done == total:
            progress("evaluate", done, total)
    return scores


def summaries_by_sentence_type(
    ground_truth: GroundTruth, scores: list[QueryScore]
) -> dict[str, Summary]:
    """``all``, plus one summary per sentence type when the split mixes several (VidSTG)."""
    types = [ground_truth.by_query[s.query_id].sentence_type for s in scores]
    summaries = {ALL: summarize(scores)}
    if len(set(types)) > 1:
        for sentence_type in sorted(set(types)):
            group = [s for s, t in zip(scores, types, strict=True) if t == sentence_type]
            summaries[sentence_type] = summarize(group)
    return summaries


def evaluate(
    ws: Workspace,
    dataset: str,
    split: str,
    predictions: Mapping[str, QueryPrediction],
    protocol: str,
    run: RunInfo,
    progress: ProgressFn = no_progress,
    ground_truth: GroundTruth | None = None,
) -> EvalReport:
    """Score ``predictions`` against the catalog and append the run's rows to the catalog.

    ``ground_truth`` may be passed when the caller loaded it already (to resolve file ids).
    """
    chosen = get_protocol(protocol)
    ground_truth = ground_truth or load_ground_truth(ws, dataset, split)
    scores = score_all(ground_truth, predictions, chosen, progress)
    report = EvalReport(
        run=run,
        dataset=dataset,
        split=split,
        protocol=chosen.name,
        summaries=summaries_by_sentence_type(ground_truth, scores),
        scores=scores,
    )
    write_report(ws, report, predictions)
    return report


def runs_rows(report: EvalReport, created_at: datetime) -> pa.Table:
    """The report's rows of the ``runs`` table: one per sentence type."""
    run = report.run
    rows = [
        {
            "run_id": run.run_id,
            "dataset": report.dataset,
            "method": run.method,
            "variant": run.variant,
            "split": report.split,
            "protocol": report.protocol,
            "sentence_type": sentence_type,
            "seed": run.seed,
            "num_queries": summary.num_queries,
            "num_missing": summary.num_missing,
            "m_viou": summary.m_viou,
            "viou_03": summary.viou_03,
            "viou_05": summary.viou_05,
            "m_tiou": summary.m_tiou,
            "m_siou": summary.m_siou,
            "config": json.dumps(run.config, sort_keys=True, default=str),
            "checkpoint": run.checkpoint,
            "features": run.features,
            "created_at": created_at,
        }
        for sentence_type, summary in report.summaries.items()
    ]
    return pa.Table.from_pylist(rows)


def prediction_rows(report: EvalReport, predictions: Mapping[str, QueryPrediction]) -> pa.Table:
    """One ``predictions`` row per predicted query, with its scores."""
    rows = [
        {
            "run_id": report.run.run_id,
            "dataset": report.dataset,
            "query_id": score.query_id,
            "pred_start_frame": predictions[score.query_id].start_frame,
            "pred_end_frame": predictions[score.query_id].end_frame,
            "viou": score.viou,
            "tiou": score.tiou,
            "siou": score.siou,
            "protocol": report.protocol,
        }
        for score in report.scores
        if score.predicted
    ]
    return pa.Table.from_pylist(rows)


def predicted_box_rows(report: EvalReport, predictions: Mapping[str, QueryPrediction]) -> pa.Table:
    """Every predicted box as given (not filled), one ``predicted_boxes`` row per frame."""
    preds = [predictions[s.query_id] for s in report.scores if s.predicted]
    owner = np.repeat(np.arange(len(preds)), [len(p.frame_idx) for p in preds])  # row -> query
    boxes = np.concatenate([p.boxes for p in preds]) if preds else np.zeros((0, 4))
    columns = {
        "run_id": pa.array([report.run.run_id], pa.string()).take(np.zeros_like(owner)),
        "dataset": pa.array([report.dataset], pa.string()).take(np.zeros_like(owner)),
        "query_id": pa.array([p.query_id for p in preds], pa.string()).take(owner),
        "frame_idx": np.concatenate([p.frame_idx for p in preds] or [np.zeros(0, np.int64)]),
    }
    columns.update({name: boxes[:, i] for i, name in enumerate(BOX_COLUMNS)})
    return pa.table(columns)


def write_report(
    ws: Workspace, report: EvalReport, predictions: Mapping[str, QueryPrediction]
) -> None:
    """Append the run's rows to ``predicted_boxes``, ``predictions``, then ``runs``: each part
    file appears whole, and a visible ``runs`` row implies its per-query rows are there. Under
    torchrun only rank 0 writes (every rank may score the same run)."""
    if not is_rank_zero():
        return
    append_rows(ws, "predicted_boxes", predicted_box_rows(report, predictions))
    append_rows(ws, "predictions", prediction_rows(report, predictions))
    append_rows(ws, "runs", runs_rows(report, datetime.now(UTC)))


def default_eval_split(ws: Workspace, dataset: str) -> str:
    """``test`` when the dataset has test queries, else ``val`` (HC-STVG v2 reports val)."""
    con = connect(ws)
    try:
        (count,) = con.execute(
            "SELECT count(*) FROM queries WHERE dataset = ? AND split = 'test'", [dataset]
        ).fetchone()
    finally:
        con.close()
    return "test" if count else "val"
