"""Two processes on one workspace: a shard index's lock (``flock`` on a per-prefix lock file)
held by one process refuses the same index in another and lets other indices run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from stvg.stvgdata.cache import WorkSplit, worker_lock
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

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
