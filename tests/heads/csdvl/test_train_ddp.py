"""DDP through torchrun: two CPU processes (gloo) train one run together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from heads.csdvl.predict import load_model
from heads.runs import LAST_CHECKPOINT
from tests.heads.cached_workspace import DATASET, build_cached_workspace

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_two_processes_train_one_run(tmp_path):
    ws = build_cached_workspace(tmp_path / "ws")
    command = [
        str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", "29517", "--no-python",
        str(BIN / "stvg"), "--workspace", str(ws.root), "train", "--dataset", DATASET,
        "--epochs", "2", "--batch-size", "2", "--json",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 2  # one per rank, both about the same run
    assert len({s["run_id"] for s in summaries}) == 1 and summaries[0]["epochs"] == 2
    runs = list(ws.runs_dir.iterdir())
    assert [run.name for run in runs] == [summaries[0]["run_id"]]
    model, _ = load_model(runs[0] / LAST_CHECKPOINT)
    assert all(torch.isfinite(p).all() for p in model.parameters())
