"""CoSPaL's ablation: random-tubelet baseline, TPG alone, TPG + CRG, TPG + CRG + SPS; every
variant with every seed on data loaded once, runs rows written, mean ± sample std (ddof 1) in the
``heads.eval.ablation`` result type every method reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import load_data
from stvg.heads.cospal.train import PROTOCOL, RANDOM_VARIANT, random_baseline, train_cospal
from stvg.heads.eval.ablation import AblationResult, VariantResult
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
    """Seed-major: all variants with seed 0 first, so early rows form a complete comparison."""
    data = load_data(ws, dataset, eval_split, base.use_slowfast)
    names = [RANDOM_VARIANT, *VARIANTS]
    results = {name: VariantResult(name, list(seeds)) for name in names}
    total, done = len(names) * len(seeds), 0
    for seed in seeds:
        runs = [random_baseline(ws, dataset, data, seed)]
        for crg, sps in VARIANTS.values():
            config = dataclasses.replace(base, crg=crg, sps=sps, seed=seed)
            runs.append(train_cospal(ws, dataset, config, eval_split, data=data))
        for run in runs:
            results[run.variant].add_summary(run.run_id, run.summary)
            done += 1
            progress("ablation", done, total)
    return AblationResult(dataset, eval_split, PROTOCOL, list(results.values()))
