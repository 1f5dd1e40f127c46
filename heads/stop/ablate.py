"""STOP's prompt ablation: no prompts, spatial only, temporal only, both; each variant trained
and evaluated with every seed on splits loaded once, runs rows written, mean ± sample std
(ddof 1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from stvg.heads.distributed import refuse_torchrun
from stvg.heads.eval.ablation import AblationResult, run_grid
from stvg.heads.runs import TrainRequest
from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.train import METHOD, PROTOCOL, StopRun, load_data, train_stop
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

# variant -> (spatial, temporal), in the order the table prints them
VARIANTS = {
    "none": (False, False),
    "spatial": (True, False),
    "temporal": (False, True),
    "spatial+temporal": (True, True),
}
METRICS = ("r_at_1", "r_at_5", "r_at_10", "median_rank", "accuracy")


def run_metrics(run: StopRun) -> dict[str, float | None]:
    summary = run.retrieval
    return {
        "r_at_1": summary.r_at_1,
        "r_at_5": summary.r_at_5,
        "r_at_10": summary.r_at_10,
        "median_rank": summary.median_rank,
        "accuracy": run.accuracy,
    }


def run_stop_ablation(
    ws: Workspace,
    dataset: str,
    base: StopConfig,
    seeds: Sequence[int],
    eval_split: str,
    progress: ProgressFn = no_progress,
) -> AblationResult:
    """Seed-major (``heads.eval.ablation.run_grid``) on splits loaded once; one process only."""
    refuse_torchrun(METHOD)
    data = load_data(ws, dataset, base, eval_split)

    def run_one(prompts: tuple[bool, bool], seed: int) -> tuple[str, dict]:
        config = dataclasses.replace(base, spatial=prompts[0], temporal=prompts[1], seed=seed)
        run = train_stop(TrainRequest(ws, dataset, config, eval_split, progress), data)
        return run.run_id, run_metrics(run)

    results = run_grid(VARIANTS, seeds, run_one, METRICS, progress)
    return AblationResult(dataset, eval_split, PROTOCOL, results)
