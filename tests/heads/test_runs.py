"""The run folder every method writes: run.json round trip, checkpoints inside it, the feature
lineage it records and checks, and the one-line errors for unknown runs and folders of an older
layout."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from stvg.heads import runs
from stvg.heads.runs import (
    LAST_CHECKPOINT,
    Run,
    check_features_unchanged,
    load_checkpoint,
    new_run,
    read_run,
    save_checkpoint,
)
from stvg.stvgdata.cache import drop_model, lineage
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import DATASET, commit_random_shard


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


def test_a_run_records_and_checks_the_lineage_the_store_reports(tmp_path):
    ws = Workspace(tmp_path / "ws")
    commit_random_shard(ws, {"a": 6})
    run = new_run(ws, "m", DATASET, "full", 0, {}, ["resnet101"])
    assert run.features == lineage(ws, DATASET, ["resnet101"])
    assert [f["fingerprint"] for f in run.features] == ["fp-resnet"]
    check_features_unchanged(ws, run)
    drop_model(ws, DATASET, "resnet101")
    with pytest.raises(BadInputError, match="trained on features fp-resnet.*none cached"):
        check_features_unchanged(ws, run)
    assert "FROM features" not in inspect.getsource(runs)  # the store owns the manifest


def test_only_the_runs_module_builds_run_folder_paths():
    """A method or a command that joins ``runs_dir`` itself would bypass the one layout."""
    heads = Path(runs.__file__).parent
    builders = [
        path
        for path in sorted(heads.rglob("*.py"))
        if "runs_dir /" in path.read_text() and path != Path(runs.__file__)
    ]
    assert builders == []
    assert runs.run_folder(Workspace(Path("ws")), "r1") == Path("ws") / "runs" / "r1"
