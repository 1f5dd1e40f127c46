"""``stvg import-detections`` and ``stvg track`` end to end on the synthetic benchmark: the
tubelets follow the true objects; bad input is one line and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from stvg.stvgdata.geometry import box_iou

SYNTH = ["--dataset", "vidstg", "--videos", "4", "--seed", "0", "--no-videos",
         "--fps", "10", "--duration", "12", "--tube-seconds", "3"]  # fmt: skip


@pytest.fixture
def synth_root(run_cli, tmp_path):
    """Synthetic VidSTG with its simulated detections, imported into the catalog."""
    root = tmp_path / "vidstg"
    made = run_cli("synth", root, *SYNTH)
    assert made.exit_code == 0, made.stderr
    imported = run_cli("import", "vidstg", "--root", root)
    assert imported.exit_code == 0, imported.stderr
    return root


def true_tracks(root) -> dict[tuple[str, int], np.ndarray]:
    """(video_id, tid) -> (T, 4) boxes, from the VidOR annotation files."""
    tracks = {}
    for path in root.glob("annotation/*/*/*.json"):
        annotation = json.loads(path.read_text())
        for frame, items in enumerate(annotation["trajectories"]):
            for item in items:
                box = item["bbox"]
                key = (annotation["video_id"], item["tid"])
                tracks.setdefault(key, np.zeros((len(annotation["trajectories"]), 4)))
                tracks[key][frame] = [box["xmin"], box["ymin"], box["xmax"], box["ymax"]]
    return tracks


def sql_json(run_cli, sql: str) -> list[dict]:
    result = run_cli("sql", sql, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_synth_import_track_gives_one_tubelet_per_true_object(run_cli, synth_root):
    detections = synth_root / "detections.parquet"
    imported = run_cli("import-detections", "--dataset", "vidstg", detections, "--json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["source"] == "synthetic-simulated"
    tracked = run_cli("track", "--dataset", "vidstg", "--json")
    assert tracked.exit_code == 0, tracked.stderr
    summary = json.loads(tracked.stdout)
    (count,) = sql_json(run_cli, "SELECT count(DISTINCT tubelet_id) AS n FROM tubelets")
    assert count["n"] == summary["tubelets"]

    rows = sql_json(run_cli, "SELECT video_id, tubelet_id, frame_idx, x1, y1, x2, y2 FROM tubelets")
    tubelets: dict[int, list[dict]] = {}
    for row in rows:
        tubelets.setdefault(row["tubelet_id"], []).append(row)
    truth = true_tracks(synth_root)
    coverage = []  # best tubelet's mean IoU over all frames of each true object
    for (video_id, _), boxes in truth.items():
        best = 0.0
        for tube in tubelets.values():
            if tube[0]["video_id"] == video_id:
                frames = np.array([r["frame_idx"] for r in tube])
                tube_boxes = np.array([[r["x1"], r["y1"], r["x2"], r["y2"]] for r in tube])
                best = max(best, box_iou(tube_boxes, boxes[frames]).sum() / len(boxes))
        coverage.append(best)
    print(
        f"coverage: mean {np.mean(coverage):.3f}, > 0.5 for {np.mean(np.array(coverage) > 0.5):.2f}"
    )
    assert np.mean(np.array(coverage) > 0.5) >= 0.75, coverage
    assert summary["tubelets"] < 2 * len(truth)  # false positives did not become tubelets


def test_reimporting_detections_drops_their_stale_tubelets(run_cli, synth_root):
    path = synth_root / "detections.parquet"
    assert run_cli("import-detections", "--dataset", "vidstg", path).exit_code == 0
    assert run_cli("track", "--dataset", "vidstg").exit_code == 0
    assert run_cli("import-detections", "--dataset", "vidstg", path).exit_code == 0
    (detections,) = sql_json(run_cli, "SELECT count(*) AS n FROM detections")
    (tubelets,) = sql_json(run_cli, "SELECT count(*) AS n FROM tubelets")
    assert detections["n"] == pq.read_metadata(path).num_rows
    assert tubelets["n"] == 0


def test_track_asks_for_a_source_when_there_are_several(run_cli, synth_root):
    path = synth_root / "detections.parquet"
    assert run_cli("import-detections", "--dataset", "vidstg", path, "--source", "a").exit_code == 0
    assert run_cli("import-detections", "--dataset", "vidstg", path, "--source", "b").exit_code == 0
    ambiguous = run_cli("track", "--dataset", "vidstg")
    assert ambiguous.exit_code == 2 and "--source" in ambiguous.stderr
    chosen = run_cli("track", "--dataset", "vidstg", "--source", "b", "--min-hits", "1", "--json")
    assert chosen.exit_code == 0, chosen.stderr
    (sources,) = sql_json(run_cli, "SELECT list(DISTINCT source) AS s FROM tubelets")
    assert sources["s"] == ["b"]


def test_bad_input_is_one_line_and_exit_code_2(run_cli, synth_root, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"0000000000": {"5": [{"box": [0, 0, 999, 10], "score": 1,
                                                      "label": "adult"}]}}))  # fmt: skip
    result = run_cli("import-detections", "--dataset", "vidstg", bad)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "bad.json" in result.stderr and "frame '5'" in result.stderr
    assert "outside the 320x180 frame" in result.stderr
    untracked = run_cli("track", "--dataset", "vidstg")
    assert untracked.exit_code == 2 and "import-detections" in untracked.stderr


def test_detection_commands_do_not_import_torch():
    code = "import sys; import stvg.cli.detections_cmds; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
