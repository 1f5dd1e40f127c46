"""E3M in the method registry: training-free, so it grounds a whole split (``stvg eval
--method e3m``) and ablates, but trains nothing."""

from __future__ import annotations

from collections.abc import Sequence

from stvg.heads.e3m.ablate import VARIANTS, run_e3m_ablation
from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.predict import METHOD as NAME
from stvg.heads.e3m.predict import evaluate_e3m
from stvg.heads.eval.ablation import AblationResult
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.heads.registry import Method
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


def ablate(
    ws: Workspace,
    dataset: str,
    config: E3MConfig,
    seeds: Sequence[int],
    eval_split: str,
    progress: ProgressFn = no_progress,
    protocol: str = DEFAULT_PROTOCOL,
) -> AblationResult:
    """Every variant with every k-means seed on ``eval_split``."""
    return run_e3m_ablation(ws, dataset, eval_split, config, seeds, protocol, progress)


METHOD = Method(
    NAME, "E3M", E3MConfig, tuple(VARIANTS), ablate, ground=evaluate_e3m, chooses_protocol=True
)
