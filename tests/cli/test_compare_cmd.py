"""``stvg compare``: a JSON record for scripts, a table for people, one-line errors."""

from __future__ import annotations

import json

import pytest

from stvg.heads.eval.evaluate import RunInfo, evaluate
from stvg.stvgdata.workspace import Workspace
from tests.heads.eval.test_evaluate import VIDSTG_LIKE, build_catalog, exact


def test_compare_prints_the_paired_difference_and_rejects_unknown_runs(run_cli, workspace):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", VIDSTG_LIKE)
    perfect = {q.query_id: exact(q.query_id, q.tube) for q in VIDSTG_LIKE}
    for run_id, predictions in (("a1", perfect), ("a2", perfect), ("b", {"d1": perfect["d1"]})):
        evaluate(ws, "vidstg", "test", predictions, "all-frames", RunInfo(run_id, method="t"))
    result = run_cli("compare", "a1,a2", "b", "--json", "--resamples", "500")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["difference"] == pytest.approx(record["mean_a"] - record["mean_b"])
    assert record["difference"] == pytest.approx(2 / 3)
    assert (record["better"], record["ties"], record["queries"]) == (2, 1, 3)
    table = run_cli("compare", "a1", "b", "--metric", "tiou")
    assert table.exit_code == 0 and "A - B" in table.stdout and "bootstrap interval" in table.stdout
    bad = run_cli("compare", "a1", "nope")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: runs: nope: no such run in the runs table"
