"""CoSPaL's ablation: random-tubelet baseline, TPG alone, TPG + CRG, TPG + CRG + SPS; every
variant with every seed on data loaded once, runs rows written, mean ± sample std (ddof 1) in the
``heads.eval.ablation`` result type every method reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import load_data
from stvg.heads.cospal.train import (
    METHOD,
    PROTOCOL,
    RANDOM_VARIANT,
    random_baseline,
    train_cospal,
)
from stvg.heads.distributed import refuse_torchrun
from stvg.heads.eval.ablation import AblationResult, run_grid, summary_metrics
from stvg.heads.runs import TrainRequest
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

# variant -> (crg, sps), after the untrained random-tubelet baseline
VARIANTS = {"tpg": (False, False), "tpg+crg": (True, False), "tpg+crg+sps": (True, True)}


def run_cospal_ablation(
    ws: Workspace,
    dataset: str,
    base: CospalConfig,
    seeds: Sequence[int],
    eval_split: str,
    progress: ProgressFn = no_progress,
) -> AblationResult:
    """Seed-major (``heads.eval.ablation.run_grid``) on data loaded once; one process only."""
    refuse_torchrun(METHOD)
    data = load_data(ws, dataset, eval_split, base.use_slowfast)

    def run_one(switches: tuple[bool, bool] | None, seed: int) -> tuple[str, dict]:
        if switches is None:
            run = random_baseline(ws, dataset, data, seed)
        else:
            config = dataclasses.replace(base, crg=switches[0], sps=switches[1], seed=seed)
            run = train_cospal(TrainRequest(ws, dataset, config, eval_split), data)
        return run.run_id, summary_metrics(run.summary)

    variants = {RANDOM_VARIANT: None, **VARIANTS}
    results = run_grid(variants, seeds, run_one, progress=progress)
    return AblationResult(dataset, eval_split, PROTOCOL, results)
