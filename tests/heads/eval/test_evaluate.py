"""Evaluation against a small catalog built here: per-sentence-type rows, missing predictions,
protocols, and the rows recorded in the runs / predictions / predicted_boxes tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from stvg.heads.eval.evaluate import (
    QueryGroundTruth,
    RunInfo,
    evaluate,
    load_ground_truth,
    score_one,
)
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import get_protocol
from stvg.schemas import empty_table
from stvg.stvgdata.catalog import query, replace_dataset
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

BOX = (10.0, 10.0, 50.0, 90.0)


@dataclass(frozen=True)
class CaseQuery:
    query_id: str
    video_id: str
    sentence_type: str
    tube: tuple[int, int]
    clip: tuple[int, int] = (0, 60)
    sentence: str = "the person walks"
    source_query_id: str | None = None
    split: str = "test"


VIDEOS = {"v30": 30.0, "v25": 25.0}


def build_catalog(ws: Workspace, dataset: str, queries: list[CaseQuery]) -> None:
    """A dataset of 60-frame videos whose GT box is BOX on every frame of each tube."""
    videos = pa.Table.from_pylist(
        [
            dict(dataset=dataset, video_id=vid, split="test", path=f"/videos/{vid}.mp4",
                 width=640, height=480, fps=fps, num_frames=60)
            for vid, fps in VIDEOS.items()
        ]
    )  # fmt: skip
    query_rows = [
        dict(
            dataset=dataset,
            query_id=q.query_id,
            video_id=q.video_id,
            split=q.split,
            sentence=q.sentence,
            sentence_type=q.sentence_type,
            tube_start_frame=q.tube[0],
            tube_end_frame=q.tube[1],
            segment_start_frame=q.clip[0],
            segment_end_frame=q.clip[1],
            target_id=None,
            target_category=None,
            source_query_id=q.source_query_id,
        )
        for q in queries
    ]
    box_rows = [
        dict(dataset=dataset, query_id=q.query_id, frame_idx=f, x1=BOX[0], y1=BOX[1], x2=BOX[2],
             y2=BOX[3])
        for q in queries
        for f in range(*q.tube)
    ]  # fmt: skip
    replace_dataset(
        ws,
        dataset,
        {
            "videos": videos,
            "queries": pa.Table.from_pylist(query_rows),
            "boxes": pa.Table.from_pylist(box_rows),
            "failures": empty_table("failures"),
        },
    )


def exact(query_id: str, tube: tuple[int, int], frames=None, box=BOX) -> QueryPrediction:
    """A prediction of ``tube`` with ``box`` on ``frames`` (default: every frame of 0..59)."""
    frames = np.arange(60) if frames is None else np.asarray(frames)
    return QueryPrediction(query_id, tube[0], tube[1], frames, np.tile(box, (len(frames), 1)))


VIDSTG_LIKE = [
    CaseQuery("d1", "v30", "declarative", (6, 30)),
    CaseQuery("d2", "v25", "declarative", (10, 20)),
    CaseQuery("i1", "v30", "interrogative", (12, 24)),
]
RUN = RunInfo(run_id="r1", method="test", config={"lr": 0.1})


@pytest.fixture
def ws(workspace) -> Workspace:
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", VIDSTG_LIKE)
    return ws


def test_ground_truth_groups_every_box_by_query(ws):
    gt = load_ground_truth(ws, "vidstg", "test")
    assert sorted(gt.by_query) == ["d1", "d2", "i1"]
    assert gt.by_query["d2"].frame_idx.tolist() == list(range(10, 20))
    assert gt.by_query["d2"].fps == 25.0
    assert gt.by_query["i1"].boxes.shape == (12, 4)
    assert gt.queries.num_rows == 3


def test_unknown_split_is_a_bad_input(ws):
    with pytest.raises(BadInputError, match="no queries"):
        load_ground_truth(ws, "vidstg", "val")


def test_reports_all_and_each_sentence_type(ws):
    predictions = {
        "d1": exact("d1", (6, 30)),
        "d2": exact("d2", (10, 20)),
        "i1": exact("i1", (36, 48)),  # no temporal overlap
    }
    report = evaluate(ws, "vidstg", "test", predictions, "all-frames", RUN)
    assert list(report.summaries) == ["all", "declarative", "interrogative"]
    assert report.summaries["declarative"].m_viou == 1.0
    assert report.summaries["interrogative"].m_viou == 0.0
    assert report.summaries["all"].m_viou == pytest.approx(2 / 3)
    assert report.summaries["all"].viou_05 == pytest.approx(2 / 3)
    assert report.protocol == "all-frames"


def test_missing_predictions_score_zero_and_are_counted(ws):
    report = evaluate(ws, "vidstg", "test", {"d1": exact("d1", (6, 30))}, "all-frames", RUN)
    overall = report.summaries["all"]
    assert (overall.num_queries, overall.num_missing) == (3, 2)
    assert overall.m_viou == pytest.approx(1 / 3)
    assert report.summaries["interrogative"].num_missing == 1


def test_predictions_for_unknown_queries_are_refused(ws):
    with pytest.raises(BadInputError, match="nope"):
        evaluate(ws, "vidstg", "test", {"nope": exact("nope", (0, 5))}, "all-frames", RUN)


def test_all_frames_fills_sparse_boxes_from_the_nearest_frame(ws):
    # Boxes on every 6th frame only: under all-frames every frame takes its nearest box.
    sparse = {q.query_id: exact(q.query_id, q.tube, frames=range(0, 60, 6)) for q in VIDSTG_LIKE}
    report = evaluate(ws, "vidstg", "test", sparse, "all-frames", RUN)
    assert report.summaries["all"].m_viou == 1.0


def test_protocols_score_different_frames(ws):
    # d1: GT [6, 30) at 30 fps, prediction [6, 36). All frames: 24 / 30. Sampled at 5 fps
    # (0, 6, ..., 54): GT frames 6..24 (4), Tu = frames 6..30 (5) -> 4 / 5.
    predictions = {"d1": exact("d1", (6, 36))}
    every = evaluate(ws, "vidstg", "test", predictions, "all-frames", RUN)
    sampled = evaluate(ws, "vidstg", "test", predictions, "sampled-5fps", RUN)
    assert every.scores[0].viou == pytest.approx(24 / 30)
    assert sampled.scores[0].viou == pytest.approx(4 / 5)
    assert every.scores[0].tiou == sampled.scores[0].tiou == pytest.approx(24 / 30)


def test_single_sentence_type_reports_all_only(workspace):
    ws = Workspace(workspace)
    build_catalog(ws, "hcstvg-v1", [CaseQuery("h1", "v25", "declarative", (5, 40))])
    report = evaluate(ws, "hcstvg-v1", "test", {"h1": exact("h1", (5, 40))}, "all-frames", RUN)
    assert list(report.summaries) == ["all"]


def test_run_rows_land_in_the_catalog(ws):
    predictions = {"d1": exact("d1", (6, 30), frames=[6, 7]), "i1": exact("i1", (12, 24))}
    evaluate(ws, "vidstg", "test", predictions, "sampled-5fps", RUN)
    runs = query(ws, "SELECT * FROM runs ORDER BY sentence_type").to_pylist()
    assert [r["sentence_type"] for r in runs] == ["all", "declarative", "interrogative"]
    assert {r["protocol"] for r in runs} == {"sampled-5fps"}
    assert runs[0]["num_missing"] == 1 and runs[0]["config"] == '{"lr": 0.1}'
    preds = query(ws, "SELECT query_id, pred_end_frame FROM predictions ORDER BY 1").to_pylist()
    assert preds == [
        {"query_id": "d1", "pred_end_frame": 30},
        {"query_id": "i1", "pred_end_frame": 24},
    ]
    boxes = query(ws, "SELECT query_id, count(*) AS n FROM predicted_boxes GROUP BY 1 ORDER BY 1")
    assert boxes.to_pylist() == [{"query_id": "d1", "n": 2}, {"query_id": "i1", "n": 60}]


def plain_iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def plain_scores(frames, tube, pred_tube, gt_boxes: dict, pred_boxes: dict):
    """The documented rules as plain loops: GT frames, union, nearest predicted box."""
    (gs, ge), (ps, pe) = tube, pred_tube
    union = [f for f in frames if min(gs, ps) <= f < max(ge, pe)]
    gt_frames = [f for f in frames if gs <= f < ge and f in gt_boxes]
    nearest = {f: min(pred_boxes, key=lambda p, f=f: (abs(p - f), p)) for f in gt_frames}
    ious = {f: plain_iou(pred_boxes[nearest[f]], gt_boxes[f]) for f in gt_frames}
    viou = sum(ious[f] for f in gt_frames if ps <= f < pe) / max(len(union), 1)
    siou = sum(ious.values()) / max(len(gt_frames), 1)
    return viou, siou


@pytest.mark.parametrize("protocol", ["sampled-5fps", "all-frames"])
def test_vectorized_scores_match_plain_loops_on_random_queries(protocol):
    chosen = get_protocol(protocol)
    rng = np.random.default_rng(7)
    for case in range(200):
        clip_start = int(rng.integers(0, 50))
        clip_end = clip_start + int(rng.integers(1, 400))
        tube_start = int(rng.integers(clip_start, clip_end))
        tube = (tube_start, int(rng.integers(tube_start + 1, clip_end + 1)))
        pred_start = int(rng.integers(clip_start, clip_end))
        pred_tube = (pred_start, int(rng.integers(pred_start + 1, clip_end + 20)))
        gt_frames = np.array([f for f in range(*tube) if rng.random() > 0.1], dtype=np.int64)
        pred_frames = np.unique(rng.integers(clip_start, clip_end, int(rng.integers(1, 30))))
        corner = rng.uniform(0, 100, (len(gt_frames) + len(pred_frames), 2))
        size = rng.uniform(1, 60, (len(corner), 2))
        boxes = np.concatenate([corner, corner + size], axis=1)
        gt = QueryGroundTruth(
            f"q{case}", "declarative", tube, (clip_start, clip_end), 29.97, gt_frames,
            boxes[: len(gt_frames)],
        )  # fmt: skip
        pred = QueryPrediction(
            f"q{case}", *pred_tube, pred_frames, boxes[len(gt_frames) :]
        )  # fmt: skip
        got = score_one(gt, pred, chosen)
        want_viou, want_siou = plain_scores(
            chosen.eval_frames(clip_start, clip_end, 29.97).tolist(),
            tube,
            pred_tube,
            dict(zip(gt_frames.tolist(), gt.boxes.tolist(), strict=True)),
            dict(zip(pred_frames.tolist(), pred.boxes.tolist(), strict=True)),
        )
        assert got.viou == pytest.approx(want_viou), case
        assert got.siou == pytest.approx(want_siou), case
