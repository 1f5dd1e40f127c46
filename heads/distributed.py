"""DDP under torchrun: which rank this process is, its device, and one process group for a whole
job (a training run, or every run of an ablation grid).

torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; the rank is read from there, so it
is known before and after the process group exists (a command prints and records on rank 0
only). Each rank drives one device: ``cuda`` becomes ``cuda:<LOCAL_RANK>``; the backend is
``nccl`` on CUDA and ``gloo`` on the CPU. Torch is imported only where a group is made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stvg.stvgdata.errors import BadInputError


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def refuse_torchrun(method: str) -> None:
    """One-line error under torchrun for a method without a process group: every rank would
    train (and record) a run of its own."""
    if world_size() > 1:
        raise BadInputError.for_field(
            "method",
            method,
            f"trains in one process; run it without torchrun (WORLD_SIZE={world_size()})",
        )


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_rank_zero() -> bool:
    """Whether this process writes records and prints (always, without torchrun)."""
    return rank() == 0


def rank_device(device: str) -> str:
    """This rank's device: ``cuda`` (no index) -> ``cuda:<LOCAL_RANK>`` under torchrun; an
    explicit index or another device is kept."""
    if device == "cuda" and world_size() > 1:
        return f"cuda:{local_rank()}"
    return device


def backend_for(device: str) -> str:
    """``nccl`` for CUDA tensors, ``gloo`` for CPU ones."""
    return "nccl" if device.startswith("cuda") else "gloo"


def distributed() -> bool:
    """Whether a process group of more than one rank is up."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@contextmanager
def process_group(device: str) -> Iterator[str]:
    """Join torchrun's process group for the duration (once: nested uses share the outer
    group) and yield this rank's device; without torchrun, only the device."""
    import torch
    import torch.distributed as dist

    chosen = rank_device(device)
    if world_size() == 1 or dist.is_initialized():
        yield chosen
        return
    if chosen.startswith("cuda"):
        torch.cuda.set_device(torch.device(chosen))
    dist.init_process_group(backend_for(chosen))
    try:
        yield chosen
    finally:
        dist.destroy_process_group()


def broadcast(value: Any) -> Any:
    """Rank 0's value on every rank (identity without a group)."""
    if not distributed():
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
