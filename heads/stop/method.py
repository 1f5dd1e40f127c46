"""STOP in the method registry: prompt tuning for text-to-clip retrieval, scored on the
evaluation split right after training (R@K, median rank, motion accuracy); it predicts no
tubes, so ``stvg eval --run`` does not apply."""

from __future__ import annotations

from heads.registry import Method
from heads.runs import Run, read_run
from heads.stop.ablate import VARIANTS, run_stop_ablation
from heads.stop.config import StopConfig
from heads.stop.train import METHOD as NAME
from heads.stop.train import train_stop
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.workspace import Workspace


def train_run(
    ws: Workspace,
    dataset: str,
    config: StopConfig,
    progress: ProgressFn = no_progress,
    eval_split: str = "test",
) -> Run:
    return read_run(ws, train_stop(ws, dataset, config, eval_split, progress).run_id)


METHOD = Method(
    name=NAME,
    title="STOP",
    default_config=StopConfig,
    variants=tuple(VARIANTS),
    ablate=run_stop_ablation,
    train=train_run,
)
