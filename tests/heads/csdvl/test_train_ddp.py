"""DDP through torchrun: two CPU processes (gloo) train one run together, and run an ablation
grid in one process group; rank 0 alone prints and writes runs rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stvg.heads.csdvl.predict import load_model
from stvg.heads.runs import LAST_CHECKPOINT
from stvg.stvgdata.catalog import query
from tests.heads.cached_workspace import DATASET, build_cached_workspace

BIN = Path(sys.executable).parent


def _torchrun(ws_root: Path, port: int, *args: str) -> subprocess.CompletedProcess:
    command = [
        str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", str(port), "--no-python",
        str(BIN / "stvg"), "--workspace", str(ws_root), *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)


@pytest.mark.slow
def test_two_processes_train_one_run(tmp_path):
    ws = build_cached_workspace(tmp_path / "ws")
    done = _torchrun(
        ws.root, 29517, "train", "--dataset", DATASET, "--epochs", "2", "--batch-size", "2",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1 and summaries[0]["epochs"] == 2  # rank 0 prints, once
    runs = list(ws.runs_dir.iterdir())
    assert [run.name for run in runs] == [summaries[0]["run_id"]]
    model, _ = load_model(runs[0] / LAST_CHECKPOINT)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.slow
def test_two_processes_ablate_every_variant_once(tmp_path):
    ws = build_cached_workspace(tmp_path / "ws")
    done = _torchrun(
        ws.root, 29518, "ablate", "--dataset", DATASET, "--epochs", "1", "--batch-size", "2",
        "--fusion", "sum", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)  # one document: rank 0 alone printed
    assert [v["variant"] for v in result["variants"]] == ["s2d+d2s", "fusion=sum"]
    rows = query(ws, "SELECT run_id, variant FROM runs WHERE sentence_type = 'all'")
    assert sorted(rows["variant"].to_pylist()) == ["fusion=sum", "s2d+d2s"]  # once each
    assert sorted(rows["run_id"].to_pylist()) == sorted(
        run_id for v in result["variants"] for run_id in v["run_ids"]
    )
