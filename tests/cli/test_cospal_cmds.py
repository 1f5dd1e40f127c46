"""``stvg train --method cospal`` / ``stvg ablate --method cospal`` on a tiny workspace with a
region cache, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.heads.cospal.cospal_workspace import DATASET, TINY_SETS, build_cospal_workspace


@pytest.fixture(scope="module")
def cospal_ws(tmp_path_factory):
    return build_cospal_workspace(tmp_path_factory.mktemp("cospal-cli"), with_slowfast=True).root


def test_train_method_cospal_records_a_weak_run(run_cli, cospal_ws) -> None:
    result = run_cli(
        "train", "--dataset", DATASET, "--method", "cospal", "--epochs", "2", "--json",
        "--eval-split", "train", *TINY_SETS, workspace_path=cospal_ws,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["variant"] == "tpg+crg+sps" and summary["split"] == "train"
    assert summary["epochs"] == 2 and 0 <= summary["m_viou"] <= 1
    sql = (
        "SELECT method, variant, split FROM runs WHERE sentence_type = 'all'"
        f" AND run_id = '{summary['run_id']}'"
    )
    rows = run_cli("sql", sql, "--format", "json", workspace_path=cospal_ws)
    assert json.loads(rows.stdout) == [
        {"method": "cospal", "variant": "tpg+crg+sps", "split": "train"}
    ]
    record = json.loads((Path(cospal_ws) / "runs" / summary["run_id"] / "run.json").read_text())
    assert (record["method"], record["result"]["epochs"]) == ("cospal", 2)
    assert {f["model"] for f in record["features"]} == {"slowfast", "regions"}
    # the saved run predicts again, on another split, through `stvg eval --run`
    again = run_cli(
        "eval", "--dataset", DATASET, "--eval-split", "test", "--run", summary["run_id"], "--json",
        workspace_path=cospal_ws,
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    records = json.loads(again.stdout)
    assert {(r["method"], r["variant"], r["split"]) for r in records} == {
        ("cospal", "tpg+crg+sps", "test")
    }


def test_ablate_method_cospal_covers_random_tpg_crg_and_sps(run_cli, cospal_ws) -> None:
    result = run_cli(
        "ablate", "--dataset", DATASET, "--method", "cospal", "--epochs", "1", "--json",
        "--set", "use_slowfast=false", *TINY_SETS, workspace_path=cospal_ws,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    variants = json.loads(result.stdout)["variants"]
    names = [v["variant"] for v in variants]
    assert names == ["random-tubelet", "tpg", "tpg+crg", "tpg+crg+sps"]
    table = run_cli(
        "ablate", "--dataset", DATASET, "--method", "cospal", "--epochs", "1", *TINY_SETS,
        workspace_path=cospal_ws,
    )  # fmt: skip
    assert table.exit_code == 0, table.stderr
    assert "CoSPaL ablation" in table.stdout and "m_vIoU" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "dim=10", "--set", "heads=4"), "must be a multiple of heads"),
        (("--set", "span_quantile=2"), "span_quantile must be in [0, 1]"),
        (("--set", "crg=maybe"), "--set: crg=maybe: expected bool"),
    ],
)
def test_bad_settings_are_one_line_errors(run_cli, cospal_ws, args, message) -> None:
    result = run_cli(
        "train", "--dataset", DATASET, "--method", "cospal", *args, workspace_path=cospal_ws
    )
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_csdvl_train_refuses_eval_split(run_cli) -> None:
    result = run_cli("train", "--dataset", DATASET, "--eval-split", "val")
    assert result.exit_code == 2
    assert "--eval-split: val: csdvl scores runs with `stvg eval --run`" in result.stderr


@pytest.mark.slow  # trains a run
def test_show_draws_the_worst_query_of_a_cospal_run(run_cli, cospal_ws, tmp_path) -> None:
    trained = run_cli(
        "train", "--dataset", DATASET, "--method", "cospal", "--epochs", "1", "--json",
        "--eval-split", "train", *TINY_SETS, workspace_path=cospal_ws,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    run_id = json.loads(trained.stdout)["run_id"]
    result = run_cli(
        "show", "--worst", "1", "--run", run_id, "--out", tmp_path / "w.mp4", "--json",
        workspace_path=cospal_ws,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert Path(row["path"]).stat().st_size > 1000 and row["frames"] > 1
