"""The run folder every method writes: run.json round trip, checkpoints inside it, and the
one-line errors for unknown runs and folders of an older layout."""

from __future__ import annotations

import pytest

from stvg.heads.runs import LAST_CHECKPOINT, Run, load_checkpoint, read_run, save_checkpoint
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace


def _run(ws: Workspace) -> Run:
    config = {"epochs": 2, "nested": {"width": 8}}
    features = [{"model": "roberta", "fingerprint": "abc"}]
    return Run("m-full-1", ws.runs_dir / "m-full-1", "m", "ds", "full", 3, config, features)


def test_run_json_round_trips_and_a_checkpoint_path_finds_its_run(tmp_path):
    ws = Workspace(tmp_path / "ws")
    run = _run(ws)
    run.result = {"final_loss": 0.5}
    run.save()
    assert read_run(ws, "m-full-1") == run
    save_checkpoint(run.checkpoint, {"config": run.config})
    assert run.checkpoint.name == LAST_CHECKPOINT
    assert read_run(ws, str(run.checkpoint)).method == "m"
    assert load_checkpoint(run.checkpoint)["config"] == run.config


def test_unknown_runs_and_older_layouts_are_one_line_errors(tmp_path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(BadInputError, match="no run in this workspace"):
        read_run(ws, "nope")
    old = ws.runs_dir / "csdvl-old"
    old.mkdir(parents=True)
    (old / "config.json").write_text("{}")
    with pytest.raises(BadInputError, match="older stvg layout"):
        read_run(ws, "csdvl-old")
