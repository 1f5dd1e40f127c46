"""Rank handling under torchrun, read from its environment: each rank its own CUDA device,
nccl on CUDA and gloo on the CPU, and only rank 0 records runs."""

from __future__ import annotations

import pytest

from stvg.heads.distributed import backend_for, is_rank_zero, process_group, rank_device
from stvg.heads.eval.evaluate import write_report


def _torchrun_env(monkeypatch, rank: int, local_rank: int, world: int = 4) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("LOCAL_RANK", str(local_rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


def test_each_rank_drives_its_local_gpu(monkeypatch):
    _torchrun_env(monkeypatch, rank=3, local_rank=1)
    assert rank_device("cuda") == "cuda:1"
    assert rank_device("cuda:0") == "cuda:0"  # an explicit index is kept
    assert rank_device("cpu") == "cpu"
    assert not is_rank_zero()


def test_without_torchrun_the_device_is_as_given(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert rank_device("cuda") == "cuda" and is_rank_zero()
    with process_group("cpu") as device:  # no group is made: nothing to join
        assert device == "cpu"


@pytest.mark.parametrize(("device", "backend"), [("cuda:1", "nccl"), ("cpu", "gloo")])
def test_backend_follows_the_device(device, backend):
    assert backend_for(device) == backend


def test_only_rank_zero_writes_runs_rows(monkeypatch):
    import stvg.heads.eval.evaluate as evaluate

    written = []
    monkeypatch.setattr(evaluate, "append_rows", lambda ws, table, rows: written.append(table))
    _torchrun_env(monkeypatch, rank=1, local_rank=1)
    write_report(None, None, {})  # type: ignore[arg-type]  # returns before touching them
    assert written == []


def test_stop_refuses_torchrun_before_any_work(monkeypatch):
    """STOP has no process group: under torchrun every rank would train a run of its own."""
    from stvg.heads.runs import TrainRequest
    from stvg.heads.stop.ablate import run_stop_ablation
    from stvg.heads.stop.config import StopConfig
    from stvg.heads.stop.train import train_stop
    from stvg.stvgdata.errors import BadInputError

    _torchrun_env(monkeypatch, rank=0, local_rank=0, world=2)
    no_workspace = None  # the refusal comes before the workspace is touched
    with pytest.raises(BadInputError, match="stop: .*WORLD_SIZE=2") as error:
        train_stop(TrainRequest(no_workspace, "d", StopConfig(), "test"))  # type: ignore[arg-type]
    assert len(str(error.value).splitlines()) == 1
    with pytest.raises(BadInputError, match="torchrun"):
        run_stop_ablation(no_workspace, "d", StopConfig(), [0], "test")  # type: ignore[arg-type]


def test_cospal_refuses_torchrun_before_any_work(monkeypatch):
    """CoSPaL has no process group either: every rank would train and keep a run folder."""
    from stvg.heads.cospal.ablate import run_cospal_ablation
    from stvg.heads.cospal.config import CospalConfig
    from stvg.heads.cospal.train import train_cospal
    from stvg.heads.runs import TrainRequest
    from stvg.stvgdata.errors import BadInputError

    _torchrun_env(monkeypatch, rank=1, local_rank=1, world=2)
    no_workspace = None  # the refusal comes before the workspace is touched
    with pytest.raises(BadInputError, match="cospal: .*WORLD_SIZE=2"):
        train_cospal(TrainRequest(no_workspace, "d", CospalConfig(), "test"))  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="torchrun"):
        run_cospal_ablation(no_workspace, "d", CospalConfig(), [0], "test")  # type: ignore[arg-type]
