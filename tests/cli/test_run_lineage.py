"""Runs carry their lineage: run.json and every ``runs`` row name the (model, fingerprint,
weights) of each feature set read; eval refuses a run whose features changed since training;
tables of runs on random-init features say so in one visible line."""

from __future__ import annotations

import json

import pytest

from stvg.cli.console import RANDOM_INIT_LINE
from stvg.stvgdata.catalog import query
from tests.heads.cached_workspace import DATASET, build_cached_workspace

WEIGHTS = "random-init:0"


@pytest.fixture(scope="module")
def lineage_ws(tmp_path_factory):
    return build_cached_workspace(tmp_path_factory.mktemp("lineage"), weights=WEIGHTS)


@pytest.fixture(scope="module")
def trained(lineage_ws):
    from typer.testing import CliRunner

    from stvg.cli.main import app

    args = ["--workspace", str(lineage_ws.root), "train", "--dataset", DATASET, "--epochs", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = next(lineage_ws.runs_dir.iterdir())
    return result, json.loads((run_dir / "run.json").read_text())


def test_train_records_weights_and_prints_the_random_init_line(trained):
    result, record = trained
    assert record["features"] == [
        {"model": model, "fingerprint": f"test-{model}", "weights": WEIGHTS}
        for model in ("resnet101", "roberta", "slowfast")
    ]
    assert RANDOM_INIT_LINE in result.stdout


def test_eval_rows_carry_the_runs_features(run_cli, lineage_ws, trained):
    _, record = trained
    result = run_cli(
        "eval", "--dataset", DATASET, "--eval-split", "test", "--run", record["run_id"], "--json",
        workspace_path=lineage_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # the line goes to stderr: stdout stays JSON
    assert RANDOM_INIT_LINE in result.stderr
    rows = query(
        lineage_ws, "SELECT DISTINCT features FROM runs WHERE run_id = ?", [record["run_id"]]
    )
    assert rows["features"].to_pylist() == [record["features"]]


@pytest.mark.parametrize(
    "command",
    [
        ("eval", "--dataset", DATASET, "--eval-split", "test"),
        ("show", "--worst", "1", "--out", "unwritten.png"),
    ],
)
def test_eval_and_show_refuse_features_whose_fingerprint_changed(
    run_cli, lineage_ws, trained, command
):
    _, record = trained
    changed = {**record, "run_id": "changed-run"}
    changed["features"] = [{"model": "resnet101", "fingerprint": "0ld", "weights": "IMAGENET1K_V2"}]
    run_dir = lineage_ws.runs_dir / "changed-run"
    run_dir.mkdir(exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps(changed))
    result = run_cli(*command, "--run", "changed-run", workspace_path=lineage_ws.root)
    assert result.exit_code == 2 and result.exception is None
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "resnet101" in message and "0ld (IMAGENET1K_V2)" in message
    assert f"test-resnet101 ({WEIGHTS})" in message


def test_ablate_prints_the_random_init_line_under_its_table(run_cli, lineage_ws):
    result = run_cli(
        "ablate", "--dataset", DATASET, "--epochs", "1", "--fusion", "sum",
        workspace_path=lineage_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(RANDOM_INIT_LINE)
