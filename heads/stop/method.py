"""STOP in the method registry: prompt tuning for text-to-clip retrieval, scored on the
evaluation split right after training (R@K, median rank, motion accuracy); it predicts no
tubes, so ``stvg eval --run`` does not apply."""

from __future__ import annotations

from stvg.heads.registry import Method
from stvg.heads.stop.ablate import VARIANTS, run_stop_ablation
from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.train import METHOD as NAME
from stvg.heads.stop.train import train_stop

METHOD = Method(NAME, "STOP", StopConfig, tuple(VARIANTS), run_stop_ablation, train=train_stop)
