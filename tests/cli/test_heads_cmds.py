"""``stvg train``, ``stvg ablate`` and ``stvg show`` end to end on a tiny cached workspace,
through the real loader, evaluator and catalog."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from stvg.stvgdata.catalog import query
from tests.heads.cached_workspace import DATASET, build_cached_workspace


@pytest.fixture(scope="module")
def cached_ws(tmp_path_factory):
    return build_cached_workspace(tmp_path_factory.mktemp("cached"))


@pytest.fixture(scope="module")
def trained_run(cached_ws):
    from typer.testing import CliRunner

    from stvg.cli.main import app

    args = ["--workspace", str(cached_ws.root), "train", "--dataset", DATASET]
    result = CliRunner().invoke(app, [*args, "--epochs", "1", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_train_writes_a_checkpointed_run_and_resumes_it(run_cli, cached_ws, trained_run):
    assert trained_run["epochs"] == 1 and trained_run["variant"] == "s2d+d2s"
    run_dir = cached_ws.runs_dir / trained_run["run_id"]
    assert (run_dir / "run.json").is_file() and (run_dir / "checkpoint-last.pt").is_file()
    record = json.loads((run_dir / "run.json").read_text())
    assert (record["method"], record["seed"], record["result"]["epochs"]) == ("csdvl", 0, 1)
    assert record["config"]["model"]["anchor"] == "static"
    assert {f["model"] for f in record["features"]} == {"resnet101", "slowfast", "roberta"}
    resumed = run_cli(
        "train", "--dataset", DATASET, "--resume", trained_run["run_id"], "--epochs", "2", "--json",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["epochs"] == 2


def test_eval_scores_a_trained_run(run_cli, cached_ws, trained_run):
    result = run_cli(
        "eval", "--dataset", DATASET, "--eval-split", "test", "--run", trained_run["run_id"],
        "--json",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    records = {r["sentence_type"]: r for r in json.loads(result.stdout)}
    record = records["all"]
    assert record["num_queries"] == 2 and record["num_missing"] == 0
    assert record["variant"] == trained_run["variant"]  # the run's, not --variant's default


def test_ablate_no_s2d_runs_full_and_the_d2s_model_and_writes_runs_rows(run_cli, cached_ws):
    result = run_cli(
        "ablate", "--dataset", DATASET, "--no-s2d", "--epochs", "1", "--json",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "test"
    assert [v["variant"] for v in report["variants"]] == ["s2d+d2s", "d2s"]  # the model's name
    assert all(0 <= v["m_viou_mean"] <= 1 and v["m_viou_std"] is None for v in report["variants"])
    rows = run_cli(
        "sql", "SELECT variant, seed FROM runs WHERE method = 'csdvl' ORDER BY variant",
        "--format", "json", workspace_path=cached_ws.root,
    )  # fmt: skip
    variants = {(r["variant"], r["seed"]) for r in json.loads(rows.stdout)}
    assert {("s2d+d2s", 0), ("d2s", 0)} <= variants


def test_ablate_selects_on_val_scores_on_test_and_pairs_each_variant_with_the_baseline(
    run_cli, cached_ws
):
    result = run_cli(
        "ablate", "--dataset", DATASET, "--no-s2d", "--epochs", "2", "--seeds", "2",
        "--val-split", "train", "--patience", "1", "--json", workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "test" and report["baseline"] == "s2d+d2s"  # no "none" here
    assert "preset small" in report["setting"] and "best on train" in report["setting"]
    paired = report["paired"]["d2s"]
    assert paired["low"] <= paired["difference"] <= paired["high"] and paired["queries"] == 2
    assert all(v["m_viou_std"] is not None for v in report["variants"])  # 2 seeds: sample std
    run_ids = [run_id for v in report["variants"] for run_id in v["run_ids"]]
    rows = query(
        cached_ws,
        "SELECT DISTINCT json_extract_string(config, '$.checkpoint_rule') AS rule, checkpoint "
        "FROM runs WHERE list_contains(?, run_id)",
        [run_ids],
    ).to_pylist()
    assert {row["rule"] for row in rows} == {"best on train, patience 1"}
    assert all("best" in row["checkpoint"] for row in rows)


def test_ablate_refuses_to_select_on_the_split_it_scores(run_cli, cached_ws):
    result = run_cli(
        "ablate", "--dataset", DATASET, "--val-split", "test", "--epochs", "1",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 2 and "--val-split" in result.stderr
    assert "evaluation split" in result.stderr


@pytest.mark.parametrize(
    "switches, message",
    [
        (["--fusion", "sum", "--fusion", "sum"], "--fusion: sum: trains the same model"),
        (["--set", "dynamic_spatial=false", "--no-spatial"], "--no-spatial: trains the same model"),
    ],
)
def test_ablate_refuses_two_switches_that_make_the_same_model(
    run_cli, cached_ws, switches, message
):
    result = run_cli(
        "ablate", "--dataset", DATASET, *switches, "--epochs", "1", workspace_path=cached_ws.root
    )
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {message}")
    assert result.stderr.strip().count("\n") == 0


def test_ablate_table_shows_each_variant(run_cli, cached_ws):
    result = run_cli(
        "ablate", "--dataset", DATASET, "--fusion", "sum", "--epochs", "1",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "fusion=sum" in result.stdout and "m_vIoU" in result.stdout
    assert "preset small" in result.stdout and "paired per-query vIoU" in result.stdout


def test_show_draws_a_run_with_its_proposal_map_and_attention(
    run_cli, cached_ws, trained_run, tmp_path
):
    out = tmp_path / "pics" / "q.gif"
    result = run_cli(
        "show", "t-q0", "--run", trained_run["run_id"], "--out", str(out), "--frames", "4",
        "--internals", "--json",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames == 4
    paths = [row["path"] for row in json.loads(result.stdout)]
    assert [p.rsplit("-", 1)[-1] for p in paths[1:]] == ["proposals.png", "attention.png"]
    for path in paths[1:]:
        with Image.open(path) as picture:
            assert picture.size[0] > 300 and picture.size[1] > 200


def test_plot_training_draws_the_logged_history(run_cli, cached_ws, trained_run, tmp_path):
    record = json.loads((cached_ws.runs_dir / trained_run["run_id"] / "run.json").read_text())
    assert "total" in record["result"]["history"][0]  # training logs its curves
    out = tmp_path / "curves.svg"
    result = run_cli(
        "plot", "training", trained_run["run_id"], "--out", str(out),
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()


def test_train_on_chosen_features_stores_them_for_eval(run_cli, cached_ws):
    result = run_cli(
        "train", "--dataset", DATASET, "--epochs", "1", "--json", "--seed", "3",
        "--frame-features", "vl-synth-map", "--clip-features", "vl-synth-map",
        "--text-features", "vl-synth-text", "--anchor", "static+d2s",
        "--set", "train.weight_decay=0.5", "--set", "ffn_dim=64",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    config = json.loads((cached_ws.runs_dir / run_id / "run.json").read_text())["config"]
    assert config["model"]["anchor"] == "static+d2s"
    assert json.loads(result.stdout)["variant"] == "s2d+d2s[anchor=static+d2s]"
    assert (config["train"]["weight_decay"], config["model"]["ffn_dim"]) == (0.5, 64)  # --set
    features = config["train"]["features"]
    assert features == {"frame": "vl-synth-map", "clip": "vl-synth-map", "text": "vl-synth-text"}
    scored = run_cli(
        "eval", "--dataset", DATASET, "--eval-split", "test", "--run", run_id, "--json",
        workspace_path=cached_ws.root,
    )  # fmt: skip
    assert scored.exit_code == 0, scored.stderr  # the model's input dims match: same features
    assert {r["seed"] for r in json.loads(scored.stdout)} == {3}  # the run's seed, for runs
    recorded = query(cached_ws, "SELECT config FROM runs WHERE run_id = ?", [run_id])
    configs = [json.loads(c) for c in recorded["config"].to_pylist()]
    assert {c["train"]["features"]["clip"] for c in configs} == {"vl-synth-map"}  # SQL parts them


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "--dataset", DATASET, "--frame-features", "roberta"), "choose from"),
        (("train", "--dataset", DATASET, "--text-features", "nope"), "choose from"),
        (("ablate", "--dataset", DATASET, "--frame-features", "vit"), "choose from"),
        (("ablate", "--dataset", DATASET, "--clip-features", "roberta"), "choose from"),
        (
            ("train", "--dataset", DATASET, "--resume", "r", "--text-features", "roberta"),
            "trained on",
        ),
        (("train", "--dataset", "nowhere"), "no queries with cached features"),
        (("train", "--dataset", DATASET, "--resume", "no-such-run"), "no run"),
        (("show", "t-q0", "--run", "no-such-run", "--out", "x.png"), "checkpoint"),
        (("ablate", "--dataset", DATASET, "--seeds", "0"), "at least 1"),
        (("train", "--dataset", DATASET, "--epochs", "2", "--collab-warmup", "2"), "none of the"),
        (("ablate", "--dataset", DATASET, "--collab-warmup", "-1"), "0 or more"),
        (("train", "--dataset", DATASET, "--method", "stop", "--collab-warmup", "1"), "stop has"),
        (("ablate", "--dataset", DATASET, "--method", "e3m", "--anchor", "none"), "e3m has no"),
        (("train", "--dataset", DATASET, "--set", "nope=1"), "--set: nope: unknown setting"),
        (("train", "--dataset", DATASET, "--set", "d_model=30"), "not divisible"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, cached_ws, args, message):
    result = run_cli(*args, workspace_path=cached_ws.root)
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_ablation_table_shows_the_paired_difference_and_the_baselines(monkeypatch):
    import io

    from rich.console import Console

    from stvg.cli import heads_cmds
    from stvg.heads.eval.ablation import AblationResult, VariantResult
    from stvg.heads.eval.compare import Comparison
    from stvg.heads.eval.metrics import Summary

    out = Console(width=80, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(heads_cmds, "console", out)
    variants = [VariantResult(name, [0, 1]) for name in ("none", "s2d+d2s")]
    for variant, m_viou in zip(variants, (0.10, 0.20), strict=True):
        for seed in (0, 1):
            summary = Summary(9, 0, m_viou, 0.2, 0, 0.4, 0.5)
            variant.add_summary(f"{variant.variant}-{seed}", summary)
    diff = Comparison("viou", "vidstg", "test", "all-frames", 9, 0.2, 0.1, 0.1, 0.05, 0.15,
                      0.95, 6, 2, 1)  # fmt: skip
    result = AblationResult("vidstg", "test", "all-frames", variants, "preset small", "none",
                            {"s2d+d2s": diff})  # fmt: skip
    result.add_baselines({"mean box": Summary(9, 0, 0.05, 0.0, 0.0, 0.3, 0.2)})
    heads_cmds.render_ablation(result)
    text = out.file.getvalue()
    assert max(map(len, text.splitlines())) <= 80 and "preset small" in text
    assert "+10.0" in text and "[+5.0, +15.0]" in text and "6 / 2 / 1" in text
    assert "mean box" in text
    assert "20.0 ± 0.0" in text and "mean ± sample std" in text
    assert result.to_dict()["baselines"][0]["m_viou_mean"] == 0.05
