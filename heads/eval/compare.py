"""Is run group A better than run group B? A paired, per-query comparison on the same queries.

Two means over the same queries differ by chance more than their seed std suggests: a few hard
queries move both. The paired difference per query, and a bootstrap over queries of its mean,
say whether a gap would survive another draw of queries. Each side may hold several runs (the
seeds of one variant); a query's score on a side is its mean over them. Scores come from the
``predictions`` rows that ``stvg eval`` / ``stvg ablate`` wrote; a query a run did not predict
scores 0, as in the run's summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

METRICS = ("viou", "tiou", "siou")  # per-query columns of the predictions table


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of ``metric`` (fractions): A's mean, B's, their difference, its
    bootstrap interval at ``confidence``, and how many queries A scores higher / lower / equal."""

    metric: str
    dataset: str
    split: str
    protocol: str
    queries: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    confidence: float
    better: int
    worse: int
    ties: int


@dataclass(frozen=True)
class RunGroup:
    """The runs of one side, all on one dataset / split / protocol."""

    run_ids: tuple[str, ...]
    dataset: str
    split: str
    protocol: str

    @property
    def setting(self) -> tuple[str, str, str]:
        """(dataset, split, protocol): two groups are comparable when these match."""
        return self.dataset, self.split, self.protocol


def describe_runs(ws: Workspace, run_ids: Sequence[str]) -> RunGroup:
    """The runs' common dataset, split and protocol; unknown runs and mixed groups are errors."""
    rows = query(
        ws,
        "SELECT DISTINCT run_id, dataset, split, protocol FROM runs WHERE list_contains(?, run_id)",
        [list(run_ids)],
    ).to_pylist()
    missing = sorted(set(run_ids) - {row["run_id"] for row in rows})
    if missing:
        raise BadInputError("runs", missing[0], "no such run in the runs table")
    settings = {(row["dataset"], row["split"], row["protocol"]) for row in rows}
    if len(settings) > 1:
        raise BadInputError("runs", ",".join(run_ids), f"mixes dataset/split/protocol: {settings}")
    return RunGroup(tuple(run_ids), *settings.pop())


def split_query_ids(ws: Workspace, dataset: str, split: str) -> list[str]:
    """Every query of ``dataset``/``split``, sorted (the queries a run's summary averages)."""
    table = query(
        ws,
        "SELECT query_id FROM queries WHERE dataset = ? AND split = ? ORDER BY query_id",
        [dataset, split],
    )
    return table["query_id"].to_pylist()


def query_scores(ws: Workspace, group: RunGroup, metric: str, query_ids: list[str]) -> np.ndarray:
    """(Q,) per-query ``metric`` averaged over the group's runs; unpredicted queries score 0."""
    table = query(
        ws,
        f"SELECT run_id, query_id, {metric} AS score FROM predictions "
        "WHERE list_contains(?, run_id) AND protocol = ?",
        [list(group.run_ids), group.protocol],
    )
    without = sorted(set(group.run_ids) - set(table["run_id"].to_pylist()))
    if without:
        raise BadInputError("runs", without[0], "has no per-query predictions to compare")
    position = {query_id: i for i, query_id in enumerate(query_ids)}
    scores = np.zeros((len(group.run_ids), len(query_ids)))
    run_index = {run_id: i for i, run_id in enumerate(group.run_ids)}
    for run_id, query_id, score in zip(
        table["run_id"].to_pylist(),
        table["query_id"].to_pylist(),
        table["score"].to_pylist(),
        strict=True,
    ):
        scores[run_index[run_id], position[query_id]] = score
    return scores.mean(axis=0)


def bootstrap_interval(
    differences: np.ndarray, resamples: int, confidence: float, seed: int
) -> tuple[float, float]:
    """Percentile interval of the mean of ``differences`` (Q,) over ``resamples`` resamplings of
    the queries with replacement (seeded, so a report is reproducible)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[draws].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_query_scores(
    ws: Workspace, runs_a: Sequence[str], runs_b: Sequence[str], metric: str
) -> tuple[RunGroup, np.ndarray, np.ndarray]:
    """Group A's description and both groups' per-query ``metric`` (Q,) on the queries of their
    common split, in the same query order."""
    group_a, group_b = describe_runs(ws, runs_a), describe_runs(ws, runs_b)
    if group_a.setting != group_b.setting:
        raise BadInputError("runs", runs_b[0], "A and B are on different dataset/split/protocol")
    query_ids = split_query_ids(ws, group_a.dataset, group_a.split)
    score_a = query_scores(ws, group_a, metric, query_ids)
    return group_a, score_a, query_scores(ws, group_b, metric, query_ids)


def compare_runs(
    ws: Workspace,
    runs_a: Sequence[str],
    runs_b: Sequence[str],
    metric: str = "viou",
    resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare run group A with run group B on the queries of their common split."""
    if metric not in METRICS:
        raise BadInputError.for_field("metric", metric, f"must be one of {', '.join(METRICS)}")
    if not 0.0 < confidence < 1.0:
        raise BadInputError.for_field("confidence", confidence, "must be between 0 and 1")
    if resamples < 1:
        raise BadInputError.for_field("resamples", resamples, "must be at least 1")
    group_a, score_a, score_b = paired_query_scores(ws, runs_a, runs_b, metric)
    differences = score_a - score_b
    low, high = bootstrap_interval(differences, resamples, confidence, seed)
    return Comparison(
        metric=metric,
        dataset=group_a.dataset,
        split=group_a.split,
        protocol=group_a.protocol,
        queries=len(score_a),
        mean_a=float(score_a.mean()),
        mean_b=float(score_b.mean()),
        difference=float(differences.mean()),
        low=low,
        high=high,
        confidence=confidence,
        better=int((differences > 0).sum()),
        worse=int((differences < 0).sum()),
        ties=int((differences == 0).sum()),
    )
