"""``stvg train --method stop`` / ``stvg ablate --method stop`` on a tiny cached workspace, and
the one-line errors of the --method / --set dispatch."""

from __future__ import annotations

import json

import pytest

from tests.heads.stop.stop_workspace import DATASET, TINY_SETS, build_stop_workspace
from tests.helpers import quiet_random_init

pytestmark = pytest.mark.usefixtures("quiet_random_init")


@pytest.fixture(scope="module")
def stop_ws(tmp_path_factory):
    with quiet_random_init():
        return build_stop_workspace(tmp_path_factory.mktemp("stop-cli")).root


def test_train_method_stop_prints_retrieval_metrics_and_records_a_run(run_cli, stop_ws) -> None:
    result = run_cli(
        "train", "--dataset", DATASET, "--method", "stop", "--epochs", "1", "--json",
        *TINY_SETS, workspace_path=stop_ws,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["variant"] == "spatial+temporal" and summary["split"] == "test"
    assert 0 <= summary["r_at_1"] <= 1 and summary["median_rank"] >= 1
    sql = f"SELECT method, m_viou FROM runs WHERE run_id = '{summary['run_id']}'"
    rows = run_cli("sql", sql, "--format", "json", workspace_path=stop_ws)
    assert json.loads(rows.stdout) == [{"method": "stop", "m_viou": None}]


def test_synthetic_motion_labels_on_sentences_without_them_fail_in_one_line(run_cli, stop_ws):
    result = run_cli(
        "train", "--dataset", DATASET, "--method", "stop", "--epochs", "1", *TINY_SETS,
        "--set", "labels=synthetic-motion", workspace_path=stop_ws,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no labels for classification" in result.stderr and result.stderr.count("\n") == 1


def test_ablate_method_stop_sweeps_the_four_prompt_variants(run_cli, stop_ws) -> None:
    result = run_cli(
        "ablate", "--dataset", DATASET, "--method", "stop", "--seeds", "1", "--epochs", "1",
        "--json", *TINY_SETS, workspace_path=stop_ws,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    variants = json.loads(result.stdout)["variants"]
    assert [v["variant"] for v in variants] == ["none", "spatial", "temporal", "spatial+temporal"]
    assert all(len(v["run_ids"]) == 1 and v["r_at_1_std"] is None for v in variants)
    assert all(v["accuracy_mean"] is None for v in variants)  # no labels: null, not NaN
    json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    table = run_cli(
        "ablate", "--dataset", DATASET, "--method", "stop", "--epochs", "1", *TINY_SETS,
        workspace_path=stop_ws,
    )  # fmt: skip
    assert table.exit_code == 0, table.stderr
    assert "R@1" in table.stdout and "MdR" in table.stdout and "spatial+temporal" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("train", "--method", "nope"), "--method: nope: unknown"),
        (("train", "--method", "stop", "--no-s2d"), "--no-s2d: stop has no such setting"),
        (("ablate", "--method", "stop", "--fusion", "sum"), "--fusion: sum: stop has no such"),
        (("ablate", "--method", "e3m", "--epochs", "5"), "--epochs: 5: e3m has no such setting"),
        (("train", "--method", "cospal", "--layers", "2"), "--layers: 2: cospal has no such"),
        (("train", "--method", "stop", "--text-features", "x"), "--text-features: x: stop has"),
        (("train", "--method", "stop", "--preset", "paper"), "--preset: paper: stop has no"),
        (("train", "--method", "stop", "--set", "warp=9"), "--set: warp: unknown setting"),
        (("train", "--method", "stop", "--set", "eta=lots"), "--set: eta=lots: expected float"),
        (("ablate", "--method", "stop", "--set", "eta"), "--set: eta: expected KEY=VALUE"),
        (("ablate", "--set", "eta=1"), "--set: eta: unknown setting of Preset"),
    ],
)
def test_dispatch_mistakes_are_one_line_errors(run_cli, args, message) -> None:
    result = run_cli(*args, "--dataset", DATASET)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_cache_of_another_network_is_refused_in_one_line(run_cli, stop_ws) -> None:
    result = run_cli(
        "train", "--dataset", DATASET, "--method", "stop", *TINY_SETS, "--set", "vit_seed=5",
        workspace_path=stop_ws,
    )  # fmt: skip
    assert result.exit_code == 2 and "not cut from this network" in result.stderr
