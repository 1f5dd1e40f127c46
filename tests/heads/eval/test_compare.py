"""Paired comparison of run groups: per-query differences, seed averaging, unpredicted queries
scoring 0, the bootstrap interval, and one-line errors for runs that cannot be compared."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.heads.eval.compare import bootstrap_interval, compare_runs
from stvg.heads.eval.evaluate import RunInfo, evaluate
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace
from tests.heads.eval.test_evaluate import VIDSTG_LIKE, CaseQuery, build_catalog, exact

PERFECT = {q.query_id: exact(q.query_id, q.tube) for q in VIDSTG_LIKE}


@pytest.fixture
def ws(workspace) -> Workspace:
    ws = Workspace(workspace)
    queries = [*VIDSTG_LIKE, CaseQuery("v1", "v25", "declarative", (10, 20), split="val")]
    build_catalog(ws, "vidstg", queries)
    return ws


def record(ws: Workspace, run_id: str, predictions: dict, split: str = "test") -> str:
    evaluate(ws, "vidstg", split, predictions, "all-frames", RunInfo(run_id, method="test"))
    return run_id


def test_paired_difference_counts_an_unpredicted_query_as_zero(ws):
    a = record(ws, "a", PERFECT)
    b = record(ws, "b", {k: v for k, v in PERFECT.items() if k != "i1"})
    result = compare_runs(ws, [a], [b], resamples=2000)
    assert (result.queries, result.mean_a, result.mean_b) == (3, 1.0, pytest.approx(2 / 3))
    assert result.difference == pytest.approx(1 / 3)
    assert (result.better, result.worse, result.ties) == (1, 0, 2)
    assert result.low <= result.difference <= result.high
    assert result.low >= 0.0  # every resample's mean difference is 0, 1/3, 2/3 or 1


def test_a_side_of_several_runs_is_their_mean_per_query(ws):
    a1, a2 = record(ws, "a1", PERFECT), record(ws, "a2", {"d1": PERFECT["d1"]})
    b = record(ws, "b", PERFECT)
    result = compare_runs(ws, [a1, a2], [b], resamples=100)
    assert result.mean_a == pytest.approx((1 + 1 / 3) / 2)
    assert (result.better, result.worse, result.ties) == (0, 2, 1)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    differences = np.r_[np.ones(30), np.zeros(70)]
    low, high = bootstrap_interval(differences, 4000, 0.95, seed=0)
    assert (low, high) == bootstrap_interval(differences, 4000, 0.95, seed=0)
    assert low < 0.3 < high and high - low < 0.25
    assert bootstrap_interval(np.zeros(5), 100, 0.9, seed=1) == (0.0, 0.0)


def test_runs_that_cannot_be_compared_are_bad_input(ws):
    a = record(ws, "a", PERFECT)
    other_split = record(ws, "v", {"v1": exact("v1", (10, 20))}, split="val")
    with pytest.raises(BadInputError, match="nope: no such run"):
        compare_runs(ws, [a], ["nope"])
    with pytest.raises(BadInputError, match="different dataset/split/protocol"):
        compare_runs(ws, [a], [other_split])
    with pytest.raises(BadInputError, match="mixes"):
        compare_runs(ws, [a, other_split], [a])
    with pytest.raises(BadInputError, match="must be one of"):
        compare_runs(ws, [a], [a], metric="m_viou")
    with pytest.raises(BadInputError, match="confidence: 1.5: must be between 0 and 1"):
        compare_runs(ws, [a], [a], confidence=1.5)
    with pytest.raises(BadInputError, match="resamples: 0: must be at least 1"):
        compare_runs(ws, [a], [a], resamples=0)
    with pytest.raises(BadInputError, match="empty: has no per-query predictions"):
        compare_runs(ws, [a], [record(ws, "empty", {})])
