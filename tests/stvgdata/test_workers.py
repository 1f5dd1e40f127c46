"""Worker pools: workers end when their parent is killed, and a dead worker is one FaultError."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stvg.stvgdata.errors import FaultError
from stvg.stvgdata.workers import map_in_workers

_PARENT = """
import os, sys, time
from stvg.stvgdata.workers import worker_pool

def pid(_):
    time.sleep(0.2)
    return os.getpid()

pool = worker_pool(2)
print(" ".join(map(str, sorted(set(pool.map(pid, range(4)))))), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(sig):
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(map(_alive, workers))
    finally:
        parent.send_signal(sig)
        parent.wait(10)
    deadline = time.monotonic() + 5
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers))


def _die(item: int) -> int:
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_a_dead_worker_is_one_fault():
    with pytest.raises(FaultError) as caught:
        list(map_in_workers("reading things", _die, range(8), workers=2))
    assert str(caught.value) == "reading things: a worker process died (killed, or out of memory)"
