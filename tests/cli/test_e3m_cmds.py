"""``stvg eval --method e3m`` and ``stvg ablate --method e3m`` on a tiny workspace whose region
cache is written directly: the target's box is the GT box and its embedding is the sentence's
during the tube, so E3M must find both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stvg.stvgdata.cache.regions import BoxRegions, new_region_writer, region_identity
from stvg.stvgdata.catalog import read_table
from stvg.stvgdata.sample_catalog import DATASET, CatalogVideo, install_catalog
from stvg.stvgdata.workspace import Workspace

FRAMES = 16  # per video; install_catalog's tube is [4, 12), its segment [1, 16)
DIM = 4
SENTENCE, ELSEWHERE, DISTRACTOR, FRAME_OFF = np.eye(DIM)


def gt_box(frame: int) -> list[float]:
    """install_catalog's GT box of ``frame``."""
    return [8.0, 6.0, 8.0 + 2 * frame % 40 + 4, 30.0]


def regions_of_video(num_frames: int) -> tuple[np.ndarray, BoxRegions]:
    """(frame embeddings (T, D), tubelet regions): the target (tubelet 0) on the GT box, looking
    like the sentence inside the tube, and a distractor (tubelet 1) that never does."""
    in_tube = (np.arange(num_frames) >= num_frames // 4) & (
        np.arange(num_frames) < 3 * num_frames // 4
    )
    frames = np.where(in_tube[:, None], SENTENCE, FRAME_OFF)
    target = np.where(in_tube[:, None], SENTENCE, ELSEWHERE)
    boxes = [gt_box(f) for f in range(num_frames)] + [[40.0, 30.0, 60.0, 46.0]] * num_frames
    regions = BoxRegions(
        frame_idx=np.tile(np.arange(num_frames), 2),
        boxes=np.array(boxes, np.float32),
        tubelet_id=np.repeat([0, 1], num_frames),
        scores=np.ones(2 * num_frames, np.float32),
        labels=np.array(["square"] * 2 * num_frames, dtype=object),
        embeddings=np.vstack([target, np.tile(0.6 * SENTENCE + 0.8 * DISTRACTOR, (num_frames, 1))]),
    )
    return frames, regions


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    videos = [CatalogVideo(v, tmp_path / f"{v}.mp4", FRAMES, "test") for v in ("v1", "v2")]
    install_catalog(ws, videos, queries_per_video=2)
    writer = new_region_writer(ws, DATASET, region_identity("test:0", "", {}))
    for video in videos:
        frames, regions = regions_of_video(FRAMES)
        writer.add_frames(video.video_id, np.arange(FRAMES), frames, "d")
        writer.add_boxes("tubelets", video.video_id, regions, "d")
    query_ids = [f"{v.video_id}-q{q}" for v in videos for q in range(2)]
    video_ids = [q.split("-")[0] for q in query_ids]
    writer.add_sentences(query_ids, video_ids, ["d"] * 4, np.tile(SENTENCE, (4, 1)))
    writer.commit()
    return ws


def e3m_runs(ws: Workspace) -> list[dict]:
    runs = read_table(ws, "runs").to_pylist()
    return [r for r in runs if r["method"] == "e3m" and r["sentence_type"] == "all"]


def test_eval_method_e3m_grounds_scores_and_records_the_run(run_cli, ws):
    args = ("eval", "--method", "e3m", "--dataset", DATASET, "--eval-split", "test", "--json")
    result = run_cli(*args, workspace_path=ws.root)
    assert result.exit_code == 0, result.stderr
    record = next(r for r in json.loads(result.stdout) if r["sentence_type"] == "all")
    assert record["num_queries"] == 4 and record["num_missing"] == 0
    assert record["m_tiou"] == pytest.approx(1.0) and record["m_siou"] == pytest.approx(1.0)
    (run,) = e3m_runs(ws)
    assert run["variant"] == "full" and run["run_id"] == record["run_id"]
    predictions = read_table(ws, "predictions").to_pylist()
    assert {(p["pred_start_frame"], p["pred_end_frame"]) for p in predictions} == {(4, 12)}


def test_set_selects_the_variant_and_bad_settings_are_one_line_errors(run_cli, ws):
    base = ("eval", "--method", "e3m", "--dataset", DATASET, "--eval-split", "test", "--json")
    one_pass = run_cli(*base, "--set", "iterations=1", workspace_path=ws.root)
    assert one_pass.exit_code == 0, one_pass.stderr
    assert [r["variant"] for r in e3m_runs(ws)] == ["no-em"]
    for setting, message in [
        ("nope=1", "unknown setting"),
        ("beta=2", "beta must be in"),
        ("outside_event_weight=-1", "outside_event_weight must be in"),
    ]:
        bad = run_cli(*base, "--set", setting, workspace_path=ws.root)
        assert bad.exit_code == 2 and message in bad.stderr, bad.stderr


def test_missing_region_cache_names_the_command_to_run(run_cli, tmp_path):
    ws = Workspace(tmp_path / "empty")
    install_catalog(ws, [CatalogVideo("v1", tmp_path / "v1.mp4", FRAMES, "test")])
    args = ("eval", "--method", "e3m", "--dataset", DATASET, "--eval-split", "test")
    result = run_cli(*args, workspace_path=ws.root)
    assert result.exit_code == 2 and "stvg extract-regions --dataset vidstg" in result.stderr


def test_ablate_method_e3m_runs_every_variant(run_cli, ws):
    result = run_cli(
        "ablate", "--method", "e3m", "--dataset", DATASET, "--json", workspace_path=ws.root
    )
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    names = [v["variant"] for v in table["variants"]]
    assert names == ["baseline", "no-em", "no-visual-mod", "no-text-mod", "full"]
    by_name = {v["variant"]: v for v in table["variants"]}
    assert by_name["full"]["m_viou_mean"] > by_name["baseline"]["m_viou_mean"]
    assert sorted(r["variant"] for r in e3m_runs(ws)) == sorted(names)
    shown = run_cli("ablate", "--method", "e3m", "--dataset", DATASET, workspace_path=ws.root)
    assert shown.exit_code == 0 and "no-visual-mod" in shown.stdout


def test_timing_auc_sees_a_perfect_temporal_signal(run_cli, ws):
    args = ("diagnose", "e3m-timing", "--dataset", DATASET, "--eval-split", "test", "--json")
    result = run_cli(*args, workspace_path=ws.root)
    assert result.exit_code == 0, result.stderr
    rows = {row["score"]: row for row in json.loads(result.stdout)}
    assert list(rows) == ["frame", "best-region", "target-tubelet", "gamma"]
    assert all(row["queries"] == 4 and row["auc"] == pytest.approx(1.0) for row in rows.values())
