"""SIGKILL in the middle of ``stvg extract``, then a rerun: the cache ends complete, with no
duplicate or missing rows, and nothing half-written was ever reachable through the manifest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings

import pytest

from stvg.stvgdata.cache import manifest_rows, verify_cache
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.sample_catalog import install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import TINY_EXTRACT_ARGS, tiny_config

VIDEOS = {f"v{i:02d}": 16 for i in range(8)}


@pytest.mark.slow
def test_sigkill_mid_extraction_then_rerun_completes(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, make_videos(tmp_path / "videos", VIDEOS), queries_per_video=1)
    command = [
        sys.executable,
        "-c",
        "from stvg.cli.main import main; main()",
        "--workspace",
        str(ws.root),
        "extract",
        *TINY_EXTRACT_ARGS,
        "--batch-size",
        "8",
        "--shard-items",
        "1",
        "--json",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = ws.table_dir("features")
    deadline = time.monotonic() + 60
    while not (parts.is_dir() and list(parts.glob("part-*.parquet"))):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    killed = manifest_rows(ws)
    assert killed.num_rows > 0 and len(set(killed["video_id"].to_pylist())) < len(VIDEOS)
    assert verify_cache(ws, deep=True).ok  # only complete shards are reachable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_extraction(ws, tiny_config(models=("resnet101", "slowfast", "roberta")))
    rows = manifest_rows(ws).to_pylist()
    for model in ("resnet101", "slowfast", "roberta"):
        items = [r["video_id"] for r in rows if r["model"] == model]
        assert sorted(items) == sorted(VIDEOS), model  # each video exactly once
    assert verify_cache(ws, deep=True).ok
    assert not list(ws.features_dir.rglob(".*.tmp-*"))  # the killed run's temp files are gone
