"""``stvg synth``: options reach the generator, the summary prints, bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys


def test_synth_json_summary_matches_the_files(run_cli, tmp_path):
    out = tmp_path / "hc"
    result = run_cli(
        "synth", out, "--dataset", "hcstvg-v1", "--videos", "3", "--seed", "2",
        "--no-videos", "--fps", "5", "--objects", "6", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["config"]["fps"] == 5.0 and summary["config"]["objects_per_video"] == 6
    assert summary["splits"]["train"]["videos"] + summary["splits"]["test"]["videos"] == 3
    train = json.loads((out / "train.json").read_text())
    assert len(train) == summary["splits"]["train"]["videos"]
    assert all(record["img_num"] == 100 for record in train.values())
    assert not (out / "video").exists()


def test_the_demo_scene_options_reach_the_generator(run_cli, tmp_path):
    scene = ["--objects", "2", "--no-twins", "--object-scale", "2", "--json"]
    args = ["--dataset", "vidstg", "--videos", "3", "--no-videos", *scene]
    result = run_cli("synth", tmp_path / "v", *args)
    config = json.loads(result.stdout)["config"]
    assert (config["objects_per_video"], config["twins"], config["object_scale"]) == (2, False, 2)


def test_synth_prints_a_table_per_split(run_cli, tmp_path):
    result = run_cli(
        "synth", tmp_path / "v", "--dataset", "vidstg", "--videos", "3", "--no-videos",
        "--fps", "4", "--duration", "10", "--tube-seconds", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for word in ("train", "val", "test", "declarative", "box_rows"):
        assert word in result.stdout


def test_bad_input_is_one_line_and_exit_code_2(run_cli, tmp_path):
    result = run_cli(
        "synth", tmp_path / "x", "--dataset", "hcstvg-v2", "--videos", "2", "--duration", "5"
    )
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "--duration" in result.stderr and "20 s" in result.stderr
    assert not (tmp_path / "x").exists()


def test_synth_does_not_import_torch():
    code = (
        "import sys; from stvg.stvgdata.synth import generate; import stvg.cli.synth_cmd; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
