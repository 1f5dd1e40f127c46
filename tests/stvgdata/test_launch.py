"""A sharded job's share from explicit options, torchrun's or a SLURM array's variables."""

from __future__ import annotations

import pytest

from stvg.stvgdata.cache import WorkSplit
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.launch import work_split


def test_options_win_over_the_launcher() -> None:
    assert work_split(4, 1, {"RANK": "3", "WORLD_SIZE": "8"}) == WorkSplit(4, 1)


def test_torchrun_rank_and_world_size() -> None:
    assert work_split(None, None, {"RANK": "3", "WORLD_SIZE": "8"}) == WorkSplit(8, 3)


def test_slurm_array_counts_from_its_first_task() -> None:
    environ = {
        "SLURM_ARRAY_TASK_ID": "5",
        "SLURM_ARRAY_TASK_COUNT": "8",
        "SLURM_ARRAY_TASK_MIN": "1",
    }
    assert work_split(None, None, environ) == WorkSplit(8, 4)
    del environ["SLURM_ARRAY_TASK_MIN"]
    assert work_split(None, None, environ) == WorkSplit(8, 5)


def test_a_plain_process_does_all_the_work() -> None:
    assert work_split(None, None, {}) == WorkSplit(1, 0)


def test_half_given_options_and_bad_variables_are_refused() -> None:
    with pytest.raises(BadInputError, match="together"):
        work_split(2, None, {})
    with pytest.raises(BadInputError, match="not an integer"):
        work_split(None, None, {"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(BadInputError, match="shard index"):
        work_split(None, None, {"RANK": "2", "WORLD_SIZE": "2"})


def test_decode_threads_share_the_cores_among_the_nodes_processes():
    from stvg.stvgdata.launch import MAX_DECODE_THREADS, default_decode_threads

    assert default_decode_threads({}, cpus=16) == MAX_DECODE_THREADS
    assert default_decode_threads({}, cpus=4) == 3  # one core left to the forward
    assert default_decode_threads({"LOCAL_WORLD_SIZE": "8"}, cpus=32) == 3
    assert default_decode_threads({"LOCAL_WORLD_SIZE": "8"}, cpus=8) == 1  # never zero
