"""``stvg show`` and ``stvg plot`` from the command line: outputs, and bad input as one line."""

from __future__ import annotations

import json

import pytest

from tests.heads.visualize.shown_workspace import DATASET, build_shown_workspace


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    return build_shown_workspace(tmp_path_factory.mktemp("shown-cli"))


def test_show_a_predictions_file_as_mp4(run_cli, shown, tmp_path):
    ws, predictions = shown
    out = tmp_path / "q.mp4"
    result = run_cli(
        "show", "t1-q0", "--predictions", predictions, "--dataset", DATASET, "--out", out,
        "--json", workspace_path=ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["path"] == str(out) and out.stat().st_size > 1000 and 0 < row["viou"] < 1


def test_show_worst_writes_one_file_per_query(run_cli, shown, tmp_path):
    ws, predictions = shown
    result = run_cli(
        "show", "--worst", "2", "--sentence-type", "declarative", "--predictions", predictions,
        "--dataset", DATASET, "--out", tmp_path / "w.gif", "--frames", "2", "--json",
        workspace_path=ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["query_id"] for r in rows] == ["t1-q0", "t0-q0"]
    assert all((tmp_path / f"w-0{i}-{r['query_id']}.gif").is_file() for i, r in enumerate(rows, 1))


@pytest.mark.parametrize(
    "args, message",
    [
        (("show", "t0-q0", "--run", "no-such-run", "--out", "{tmp}/q.png"), "no run"),
        (("show", "nope", "--predictions", "{pred}", "--dataset", DATASET, "--out", "{tmp}/q.png"),
         "no such query"),
        (("show", "t0-q0", "--predictions", "{pred}", "--dataset", DATASET,
          "--out", "{pred}/q.png"), "cannot write"),
        (("show", "t0-q0", "--predictions", "{pred}", "--out", "{tmp}/q.png"), "--dataset"),
        (("show", "--best", "0", "--predictions", "{pred}", "--dataset", DATASET,
          "--out", "{tmp}/q.png"), "--best"),
        (("plot", "training", "no-such-run", "--out", "{tmp}/c.png"), "no run"),
        (("plot", "ablation", "--dataset", DATASET, "--out", "{tmp}/a.png"), "no runs recorded"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(run_cli, shown, tmp_path, args, message):
    ws, predictions = shown
    filled = [a.format(tmp=tmp_path, pred=predictions) for a in args]
    result = run_cli(*filled, workspace_path=ws.root)
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
