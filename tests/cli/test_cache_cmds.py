"""``stvg extract`` and ``stvg verify`` from the command line (tiny networks, tiny videos)."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from stvg.stvgdata.sample_catalog import install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import TINY_EXTRACT_ARGS
from tests.stvgdata.regions_fixtures import tiny_substitute

TINY = list(TINY_EXTRACT_ARGS)


@pytest.fixture(autouse=True)
def _quiet_random_init():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture
def ws(workspace, tmp_path) -> Workspace:
    ws = Workspace(workspace)
    install_catalog(ws, make_videos(tmp_path / "videos", {"a": 12, "b": 8}), queries_per_video=2)
    return ws


def test_dry_run_then_extract_then_sql_then_verify(run_cli, ws: Workspace) -> None:
    plan = run_cli("extract", *TINY, "--dry-run", "--json")
    assert plan.exit_code == 0, plan.stderr
    planned = {m["model"]: m for m in json.loads(plan.stdout)["models"]}
    assert planned["resnet101"]["rows"] == 20 and planned["resnet101"]["bytes"] > 0
    assert not ws.features_dir.exists()
    table = run_cli("extract", *TINY, "--dry-run")
    assert table.exit_code == 0, table.stderr
    assert "KiB" in table.stdout  # sizes in human units

    done = run_cli("extract", *TINY)
    assert done.exit_code == 0, done.stderr
    assert "3 shards written, 0 failures" in done.stdout

    sql = run_cli(
        "sql",
        "SELECT model, count(*) AS n FROM features GROUP BY model ORDER BY model",
        "--format",
        "csv",
    )
    assert sql.stdout.splitlines() == ["model,n", "resnet101,2", "roberta,4", "slowfast,2"]
    configs = run_cli(
        "sql",
        "SELECT DISTINCT model, kind, config FROM features ORDER BY model",
        "--format",
        "json",
    )
    rows = json.loads(configs.stdout)
    assert [(row["model"], row["kind"]) for row in rows] == [
        ("resnet101", "frame-map"),
        ("roberta", "text-tokens"),
        ("slowfast", "frame-map"),
    ]
    resnet = json.loads(rows[0]["config"])  # the structured config: no description parsing
    assert (resnet["size"], resnet["fps"], resnet["tiny"], resnet["grid"]) == (
        [64, 64],
        10.0,
        True,
        [2, 2],
    )
    assert resnet["weights"] == "random-init:0" and resnet["dtype"] == "float32"

    verified = run_cli("verify", "--deep", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["rows_checked"] == 8

    again = run_cli("extract", *TINY, "--json")  # resume: nothing left to do
    assert [m["cached"] for m in json.loads(again.stdout)["models"]] == [2, 2, 4]


def test_verify_fails_on_a_damaged_shard(run_cli, ws: Workspace) -> None:
    assert run_cli("extract", *TINY, "--features", "resnet101").exit_code == 0
    shard = next(ws.features_dir.rglob("*.h5"))
    shard.write_bytes(shard.read_bytes()[:100])
    result = run_cli("verify")
    assert result.exit_code == 1 and "2 PROBLEMS" in result.stdout


def test_extract_vl_synth_features_needs_and_uses_a_trained_substitute(
    run_cli, ws: Workspace, tmp_path
) -> None:
    features = ["--features", "vl-synth-map,vl-synth-text"]
    missing = run_cli("extract", *TINY, *features)
    assert missing.exit_code == 2 and "train-vl-encoder" in missing.stderr
    assert missing.stderr.count("\n") == 1
    encoder = str(tiny_substitute(tmp_path / "encoder"))
    weights = ["--weights", f"vl-synth-map={encoder}", "--weights", f"vl-synth-text={encoder}"]
    done = run_cli("extract", *TINY, *features, *weights)
    assert done.exit_code == 0, done.stderr
    rows = run_cli(
        "sql", "SELECT model, count(*) AS n FROM features GROUP BY model ORDER BY model",
        "--format", "json",
    )  # fmt: skip
    counts = {r["model"]: r["n"] for r in json.loads(rows.stdout)}
    assert counts == {"vl-synth-map": 2, "vl-synth-text": 4}


def test_bad_options_and_wrong_weights_are_one_line_errors(run_cli, ws: Workspace, tmp_path):
    weights = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3, 3)}, weights)
    for args in (
        ["--size", "64"],
        ["--weights", "resnet101"],
        ["--features", "resnet101", "--weights", f"resnet101={weights}"],
        ["--num-shards", "2", "--shard-index", "2"],
    ):
        result = run_cli("extract", *TINY, *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "not a resnet" in result.stderr or "shard index" in result.stderr


def test_storage_settings_are_checked_by_the_config_and_named_as_flags(run_cli, ws: Workspace):
    for flag, value in (("--dtype", "f64"), ("--compression", "zip")):
        result = run_cli("extract", *TINY, flag, value)
        assert result.exit_code == 2 and result.stderr.startswith(f"error: {flag}: "), result.stderr


def test_default_weights_offline_with_an_empty_cache_refuse_in_one_line(
    run_cli, ws: Workspace, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    no_tiny = [arg for arg in TINY if arg not in ("--tiny", "--random-init")]
    result = run_cli("extract", *no_tiny, "--features", "resnet101")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "resnet101: weights IMAGENET1K_V2 are not in this cache" in result.stderr
    assert str(tmp_path / "torch") in result.stderr and "--random-init" in result.stderr
    assert not ws.features_dir.exists()


def test_weights_for_a_model_not_in_the_run_is_refused(run_cli, ws: Workspace) -> None:
    result = run_cli("extract", *TINY, "--features", "resnet101", "--weights", "resnet=r.pth")
    assert result.exit_code == 2 and "--weights: resnet: not a model of this run" in result.stderr


def test_random_init_is_visible_in_the_table_and_the_manifest(run_cli, ws: Workspace) -> None:
    done = run_cli("extract", *TINY, "--features", "resnet101,roberta")
    assert done.exit_code == 0, done.stderr
    assert "features: random-init backbones — numbers are not comparable to papers" in done.stdout
    rows = run_cli(
        "sql", "SELECT DISTINCT model, weights FROM features ORDER BY model", "--format", "csv"
    )
    assert rows.stdout.splitlines() == [
        "model,weights",
        "resnet101,random-init:0",
        "roberta,random-init:0",
    ]


def test_a_full_disk_is_one_line_and_exit_2(run_cli, ws: Workspace, monkeypatch) -> None:
    import shutil

    import stvg.stvgdata.cache.faults as faults

    full = shutil._ntuple_diskusage(1 << 20, 1 << 20, 0)
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda _: full)
    result = run_cli("extract", *TINY, "--features", "resnet101")
    assert result.exit_code == 2 and result.exception is None
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "No space left on device (ENOSPC)" in errors[0]
    assert errors[0].startswith("error: ") and "Traceback" not in result.stderr
    assert not list(ws.features_dir.rglob("*.h5*"))


def test_verify_names_each_stale_item_and_extract_says_what_it_recomputes(
    run_cli, ws: Workspace, tmp_path
) -> None:
    from stvg.stvgdata.sample_catalog import write_video

    assert run_cli("extract", *TINY, "--features", "resnet101").exit_code == 0
    write_video(tmp_path / "videos" / "b.mp4", 8, size=(32, 48))
    verified = run_cli("verify")
    assert verified.exit_code == 1
    assert "problem: vidstg/resnet101 b: stale: the video file" in verified.stdout
    redone = run_cli("extract", *TINY, "--features", "resnet101")
    assert "recomputed 1 cached items:\n  resnet101 b: the video file" in redone.stdout
    assert run_cli("verify").exit_code == 0


def test_verify_warns_about_shards_without_checksums(run_cli, ws: Workspace) -> None:
    assert run_cli("extract", *TINY, "--features", "resnet101", "--no-checksum").exit_code == 0
    result = run_cli("verify", "--deep")
    assert result.exit_code == 0 and "2 rows are stored without checksums" in result.stdout


def test_config_checks_are_named_as_flags(run_cli, ws: Workspace) -> None:
    for args, start in (
        (["--size", "16x64"], "error: --size: 16x64: frames must be at least 32x32"),
        (["--features", "nope"], "error: --features: nope: unknown model"),
    ):
        result = run_cli("extract", *TINY, *args)
        assert result.exit_code == 2 and result.stderr.startswith(start), result.stderr
