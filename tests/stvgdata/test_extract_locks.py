"""Two processes on one workspace: a shard index's lock (``flock`` on a per-prefix lock file)
held by one process refuses the same index in another and lets other indices run; two
``stvg extract`` processes started together by a launcher (torchrun's or a SLURM array's
variables, no shard options) split the work between them and fill one cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stvg.stvgdata.cache import WorkSplit, manifest_rows, verify_cache, worker_lock
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.sample_catalog import install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import TINY_EXTRACT_ARGS

LAUNCHER_VARIABLES = (
    "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
    "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
)  # fmt: skip
LAUNCHERS = {  # process i of 2 -> the variables its launcher sets
    "torchrun": lambda i: {"RANK": str(i), "WORLD_SIZE": "2", "LOCAL_RANK": str(i)},
    "slurm-array": lambda i: {
        "SLURM_ARRAY_TASK_ID": str(i + 1),  # --array=1-2
        "SLURM_ARRAY_TASK_COUNT": "2",
        "SLURM_ARRAY_TASK_MIN": "1",
    },
}
VIDEOS = {f"v{i:02d}": 8 for i in range(6)}

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from stvg.stvgdata.cache import WorkSplit, worker_lock
    from stvg.stvgdata.workspace import Workspace

    with worker_lock(Workspace(Path(sys.argv[1])), "vidstg", WorkSplit(2, 0)):
        print("locked", flush=True)
        sys.stdin.readline()  # hold the lock until the test says so
    """
)


def test_a_lock_held_by_another_process_refuses_its_index_only(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ws.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(BadInputError, match="another extraction"),
            worker_lock(ws, "vidstg", WorkSplit(2, 0)),
        ):
            pass
        with worker_lock(ws, "vidstg", WorkSplit(2, 1)):  # the other index runs beside it
            pass
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    with worker_lock(ws, "vidstg", WorkSplit(2, 0)):  # released when the holder is done
        pass


@pytest.mark.slow
@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_launched_processes_share_the_work_of_one_workspace(tmp_path, launcher) -> None:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, make_videos(tmp_path / "videos", VIDEOS), queries_per_video=1)
    command = [
        sys.executable, "-c", "from stvg.cli.main import main; main()", "--workspace",
        str(ws.root), "extract", *TINY_EXTRACT_ARGS, "--features", "resnet101,roberta", "--json",
    ]  # fmt: skip
    base = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    env = {**base, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    processes = [
        subprocess.Popen(
            command, env=env | LAUNCHERS[launcher](index), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for index in range(2)
    ]
    errors = [process.communicate(timeout=300)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors
    rows = manifest_rows(ws).to_pylist()
    for model in ("resnet101", "roberta"):
        items = [row["video_id"] for row in rows if row["model"] == model]
        assert sorted(items) == sorted(VIDEOS), model  # every video once, none twice
    prefixes = {Path(row["shard"]).name[:12] for row in rows}
    assert prefixes == {"w0000of0002-", "w0001of0002-"}  # both processes did a share
    assert verify_cache(ws).ok
