"""``stvg eval`` end to end: a TubeDETR-style result file scored into the runs table."""

from __future__ import annotations

import json
import sys
import types

from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig, config_to_dict
from stvg.heads.eval.predictions import QueryPrediction, write_stvg_predictions
from stvg.heads.registry import Method
from stvg.heads.runs import Run
from stvg.schemas import FeatureSet
from stvg.stvgdata.catalog import query
from stvg.stvgdata.workspace import Workspace
from tests.heads.eval.test_evaluate import BOX, CaseQuery, build_catalog

QUERIES = [
    CaseQuery("vidstg/d1", "v30", "declarative", (6, 30), source_query_id="0"),
    CaseQuery("vidstg/i1", "v30", "interrogative", (12, 24), source_query_id="1"),
]


def tubedetr_file(path, steds: dict[str, list[float]]):
    """A TubeDETR evaluator dump: sted per sentence, the GT box on every 6th frame."""
    document = {
        "video_predictions": {vid: {"sted": sted, "qtype": "x"} for vid, sted in steds.items()},
        "predictions": {
            f"{vid}_{frame}": {"boxes": [list(BOX)]} for vid in steds for frame in range(0, 60, 6)
        },
    }
    path.write_text(json.dumps(document))
    return path


def test_tubedetr_file_scored_into_the_runs_table(run_cli, workspace, tmp_path):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", QUERIES)
    preds = tubedetr_file(tmp_path / "res.json", {"0": [6.0, 30.0], "1": [36.0, 48.0]})
    result = run_cli(
        "eval", "--dataset", "vidstg", "--eval-split", "test", "--predictions", preds,
        "--protocol", "sampled-5fps", "--method", "tubedetr",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "sampled-5fps" in result.stdout and "declarative" in result.stdout
    runs = query(ws, "SELECT * FROM runs ORDER BY sentence_type").to_pylist()
    assert [(r["sentence_type"], r["m_viou"]) for r in runs] == [
        ("all", 0.5),
        ("declarative", 1.0),
        ("interrogative", 0.0),
    ]
    assert {(r["method"], r["protocol"], r["num_missing"]) for r in runs} == {
        ("tubedetr", "sampled-5fps", 0)
    }


def test_json_output_and_stvg_format(run_cli, workspace, tmp_path):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", QUERIES)
    path = tmp_path / "preds.json"
    write_stvg_predictions(path, [QueryPrediction("vidstg/d1", 6, 30, [10], [BOX])])
    result = run_cli(
        "eval", "--dataset", "vidstg", "--eval-split", "test", "--predictions", path, "--json"
    )
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["sentence_type"] for r in records] == ["all", "declarative", "interrogative"]
    assert records[0]["protocol"] == "all-frames"
    assert (records[0]["num_queries"], records[0]["num_missing"]) == (2, 1)
    assert records[1]["m_viou"] == 1.0  # one box filled onto every frame of the tube


def test_bad_inputs_exit_2_with_one_line(run_cli, workspace, tmp_path):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", QUERIES)
    unknown = tubedetr_file(tmp_path / "other.json", {"99": [0.0, 6.0]})
    args = ("eval", "--dataset", "vidstg", "--eval-split", "test")
    result = run_cli(*args, "--predictions", unknown)
    assert result.exit_code == 2
    assert "other.json: video_predictions['99']: unknown id" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    neither = run_cli("eval", "--dataset", "vidstg", "--eval-split", "test")
    assert neither.exit_code == 2 and "exactly one of --predictions or --run" in neither.stderr
    assert query(ws, "SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 0}]


def test_run_predictions_come_from_the_training_run(run_cli, workspace, monkeypatch):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", QUERIES)
    calls = []

    def predict(ws_arg, run, dataset, split, progress):
        calls.append((ws_arg.root, run.run_id, dataset, split))
        return {"vidstg/i1": QueryPrediction("vidstg/i1", 12, 24, [12], [BOX])}

    # A stand-in method registered as csdvl, so the test needs neither torch nor a trained run.
    stand_in = Method("csdvl", "CSDVL", dict, (), ablate=None, predict=predict)
    monkeypatch.setitem(
        sys.modules, "stvg.heads.csdvl.method", types.SimpleNamespace(METHOD=stand_in)
    )
    config = config_to_dict(
        CSDVLConfig(s2d=False), TrainConfig(seed=2, features=FeatureSet(clip="vl-synth-map"))
    )
    Run("csdvl-full-1", ws.runs_dir / "csdvl-full-1", "csdvl", "vidstg", "d2s", 2, config).save()
    result = run_cli("eval", "--dataset", "vidstg", "--eval-split", "test", "--run", "csdvl-full-1")
    assert result.exit_code == 0, result.stderr
    assert calls == [(ws.root, "csdvl-full-1", "vidstg", "test")]
    runs = query(
        ws, "SELECT run_id, method, variant, seed, sentence_type, m_viou FROM runs ORDER BY 5"
    )
    assert runs.to_pylist()[2] == {
        "run_id": "csdvl-full-1",
        "method": "csdvl",
        "variant": "d2s",
        "seed": 2,
        "sentence_type": "interrogative",
        "m_viou": 1.0,
    }
    config = json.loads(query(ws, "SELECT config FROM runs LIMIT 1")["config"][0].as_py())
    assert config["run"] == "csdvl-full-1"
    assert config["train"]["features"]["clip"] == "vl-synth-map"  # the run's whole config
    assert config["model"]["s2d"] is False


def test_tubedetr_hcstvg_results_are_scored_in_tubedetrs_frame_pairing(
    run_cli, workspace, tmp_path
):
    """TubeDETR's HC-STVG frames are one later than the catalog's: a result that is perfect for
    TubeDETR's evaluator (its frame f holds bbox[f - st_frame]) is perfect here too."""
    from tests.stvgdata.dataset_files import hcstvg_sample, write_hcstvg

    sample = hcstvg_sample()
    root = write_hcstvg(tmp_path / "hcstvg", sample)
    assert run_cli("import", "hcstvg-v1", "--root", root).exit_code == 0
    record = sample["test"]["b.mkv"]  # st_frame 31, 10 boxes: TubeDETR's tube [31, 41)
    proc = [
        {"video_id": 0, "original_video_id": "b", "caption": record["caption"],
         "tube_start_frame": record["st_frame"],
         "tube_end_frame": record["st_frame"] + len(record["bbox"]),
         "trajectory": record["bbox"]},
    ]  # fmt: skip
    (tmp_path / "test_proc.json").write_text(json.dumps(proc))
    boxes = {
        f"0_{record['st_frame'] + i}": {"boxes": [[x, y, x + w, y + h]]}
        for i, (x, y, w, h) in enumerate(record["bbox"])
    }
    sted = [proc[0]["tube_start_frame"], proc[0]["tube_end_frame"]]
    document = {"video_predictions": {"0": {"sted": sted}}, "predictions": boxes}
    (tmp_path / "res.json").write_text(json.dumps(document))
    result = run_cli(
        "eval", "--dataset", "hcstvg-v1", "--eval-split", "test", "--predictions",
        tmp_path / "res.json", "--annotations", tmp_path / "test_proc.json", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (run,) = query(Workspace(workspace), "SELECT * FROM runs").to_pylist()
    assert (run["m_viou"], run["m_tiou"], run["m_siou"]) == (1.0, 1.0, 1.0)


def test_a_run_folder_of_an_older_layout_is_a_one_line_error(run_cli, workspace):
    ws = Workspace(workspace)
    build_catalog(ws, "vidstg", QUERIES)
    (ws.runs_dir / "cospal-old").mkdir(parents=True)
    (ws.runs_dir / "cospal-old" / "cospal.pt").write_bytes(b"")
    result = run_cli("eval", "--dataset", "vidstg", "--eval-split", "test", "--run", "cospal-old")
    assert result.exit_code == 2 and "older stvg layout" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
