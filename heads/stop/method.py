"""STOP in the method registry: prompt tuning for text-to-clip retrieval, scored on the
evaluation split right after training (R@K, median rank, motion accuracy); it predicts no
tubes, so ``stvg eval --run`` does not apply."""

from __future__ import annotations

from heads.registry import Method
from heads.stop.ablate import VARIANTS, run_stop_ablation
from heads.stop.config import StopConfig
from heads.stop.train import METHOD as NAME
from heads.stop.train import train_stop

METHOD = Method(NAME, "STOP", StopConfig, tuple(VARIANTS), run_stop_ablation, train=train_stop)
