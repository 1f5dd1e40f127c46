"""Which share of a sharded job this process owns, as the launcher says, and how many CPU
cores it may use for decoding.

Explicit options win; otherwise torchrun's ``RANK``/``WORLD_SIZE``, otherwise a SLURM job
array's ``SLURM_ARRAY_TASK_ID``/``SLURM_ARRAY_TASK_COUNT`` (counted from
``SLURM_ARRAY_TASK_MIN``, so ``--array=1-8`` gives shards 0..7); a plain process is the only
shard. The same command line then runs unchanged under either launcher.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from stvg.stvgdata.cache import WorkSplit
from stvg.stvgdata.errors import BadInputError


def _launcher_share(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """(shard index, shard count) from the launcher's variables, or None without one."""
    if "WORLD_SIZE" in environ and "RANK" in environ:
        return int(environ["RANK"]), int(environ["WORLD_SIZE"])
    if "SLURM_ARRAY_TASK_ID" in environ and "SLURM_ARRAY_TASK_COUNT" in environ:
        first = int(environ.get("SLURM_ARRAY_TASK_MIN", "0"))
        return int(environ["SLURM_ARRAY_TASK_ID"]) - first, int(environ["SLURM_ARRAY_TASK_COUNT"])
    return None


def work_split(
    num_shards: int | None, shard_index: int | None, environ: Mapping[str, str] | None = None
) -> WorkSplit:
    """This process's share: the options when given, else the launcher's, else all the work."""
    environ = os.environ if environ is None else environ
    if (num_shards is None) != (shard_index is None):
        raise BadInputError.for_field(
            "num_shards", None, "give `num_shards` and `shard_index` together (or neither)"
        )
    if num_shards is not None and shard_index is not None:
        return WorkSplit(num_shards, shard_index)
    try:
        share = _launcher_share(environ)
    except ValueError as err:
        reason = f"launcher variable is not an integer: {err}"
        raise BadInputError("environment", None, reason) from err
    if share is None:
        return WorkSplit()
    index, count = share
    return WorkSplit(count, index)


MAX_DECODE_THREADS = 8  # beyond this the GPU, not decoding, bounds a process


def default_decode_threads(
    environ: Mapping[str, str] | None = None, cpus: int | None = None
) -> int:
    """Decode threads of one process: its usable cores shared among the processes the launcher
    starts on this node (torchrun's ``LOCAL_WORLD_SIZE``), one core left to the forward, 1 to
    ``MAX_DECODE_THREADS``."""
    environ = os.environ if environ is None else environ
    cpus = len(os.sched_getaffinity(0)) if cpus is None else cpus
    per_process = cpus // max(1, int(environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(MAX_DECODE_THREADS, per_process - 1))
