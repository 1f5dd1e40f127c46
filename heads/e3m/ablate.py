"""E3M's ablation: the baseline (best region per frame, no EM), one EM pass, EM without the
visual or the text modulation, and the full method; every variant with every k-means seed,
recorded in ``runs``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.predict import evaluate_e3m
from stvg.heads.eval.ablation import AblationResult, run_grid, summary_metrics
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

# The ablation table, top to bottom: what each variant switches off.
VARIANTS: dict[str, dict] = {
    "baseline": {"baseline": True},
    "no-em": {"iterations": 1},
    "no-visual-mod": {"visual_modulation": False},
    "no-text-mod": {"text_modulation": False},
    "full": {},
}


def run_e3m_ablation(
    ws: Workspace,
    dataset: str,
    split: str,
    base: E3MConfig = E3MConfig(),
    seeds: Sequence[int] = (0,),
    protocol: str = DEFAULT_PROTOCOL,
    progress: ProgressFn = no_progress,
) -> AblationResult:
    """Every variant of ``VARIANTS`` on ``split`` for each k-means seed, seed-major."""

    def run_one(overrides: dict, seed: int) -> tuple[str, dict]:
        config = dataclasses.replace(base, seed=seed, **overrides)
        report = evaluate_e3m(ws, dataset, split, config, protocol)
        return report.run.run_id, summary_metrics(report.summaries["all"])

    results = run_grid(VARIANTS, seeds, run_one, progress=progress)
    return AblationResult(dataset, split, protocol, results)
