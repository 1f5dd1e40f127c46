"""Same seed, same numbers, across processes: the demo's whole path (synth, import, extract,
train) run in two processes with different hash seeds gives identical weights and metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_RUN = """
import dataclasses, hashlib, json, sys, warnings
from pathlib import Path
import torch
from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig
from stvg.heads.csdvl.train import train
from stvg.stvgdata.demo import DEMO_DATASET, DemoDataConfig, prepare_demo_data
from stvg.stvgdata.workspace import Workspace

warnings.simplefilter("ignore")
ws = Workspace(Path(sys.argv[1]))
prepare_demo_data(ws, DemoDataConfig(videos=8, input_size=(64, 96), random_init=True))
model = CSDVLConfig(d_model=16, num_layers=1, num_heads=2, ffn_dim=32, d_m=8, map_kernel=3)
schedule = TrainConfig(epochs=2, batch_size=4, lr=1e-3, max_frames=6, val_split="test")
result = train(ws, DEMO_DATASET, model, schedule, run_id="run")
weights = torch.load(result.checkpoint, weights_only=False)["model"]
digest = hashlib.sha256(b"".join(w.numpy().tobytes() for w in weights.values()))
print(json.dumps({"weights": digest.hexdigest(), "history": result.history}))
"""


def _run(root: Path, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(root)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_two_processes_with_other_hash_seeds_give_identical_runs(tmp_path):
    first = _run(tmp_path / "a", "1")
    second = _run(tmp_path / "b", "2")
    assert first["history"] == second["history"]  # losses and val m_vIoU, exactly
    assert first["weights"] == second["weights"]
