"""Worker process pools that die with their parent and fail in one line.

A pool's workers must not outlive the command that started them (``kill -9``, SIGTERM, a crash):
on Linux each worker asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), and
every worker also watches its parent's pid, which covers other systems and the moment between the
fork and the request. A worker that dies (killed, out of memory) breaks the pool: that becomes a
``FaultError`` naming the job instead of a ``BrokenProcessPool`` traceback.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from stvg.stvgdata.errors import FaultError

_PR_SET_PDEATHSIG = 1
# How often a worker checks that its parent is still there (the fallback to PDEATHSIG).
PARENT_POLL_SECONDS = 1.0

Item = TypeVar("Item")
Result = TypeVar("Result")


def _die_with_parent(parent_pid: int) -> None:
    """Run in each worker as it starts: end this process when ``parent_pid`` ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _start_worker(parent_pid: int, initializer: Callable[[], object] | None) -> None:
    _die_with_parent(parent_pid)
    if initializer is not None:
        initializer()


def worker_pool(
    workers: int, initializer: Callable[[], object] | None = None
) -> ProcessPoolExecutor:
    """A fork pool of ``workers`` processes that die with this process.

    fork: workers inherit the imported modules, so they start in milliseconds.
    """
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer),
    )


def map_in_workers(
    job: str,
    fn: Callable[[Item], Result],
    items: Iterable[Item],
    workers: int,
    chunksize: int = 1,
    initializer: Callable[[], object] | None = None,
) -> Iterator[Result]:
    """``fn`` over ``items`` in a ``worker_pool``, results in order; items not yet started are
    cancelled when the caller stops early or fails. A dead worker is a FaultError on ``job``."""
    pool = worker_pool(workers, initializer)
    try:
        yield from pool.map(fn, items, chunksize=chunksize)
    except BrokenProcessPool:
        raise FaultError(job, "a worker process died (killed, or out of memory)") from None
    finally:
        pool.shutdown(cancel_futures=True)
