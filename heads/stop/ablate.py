"""STOP's prompt ablation: no prompts, spatial only, temporal only, both; each variant trained
and evaluated with every seed on splits loaded once, runs rows written, mean +- std (ddof 0)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heads.stop.config import StopConfig
from heads.stop.train import PROTOCOL, StopRun, load_data, train_stop
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.workspace import Workspace

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


@dataclass
class StopVariantResult:
    variant: str
    seeds: list[int]
    run_ids: list[str] = field(default_factory=list)
    per_seed: list[dict[str, float | None]] = field(default_factory=list)

    def values(self, metric: str) -> np.ndarray:
        """Per-seed values of ``metric`` (NaN where a seed has none)."""
        return np.array([np.nan if m[metric] is None else m[metric] for m in self.per_seed])

    def mean(self, metric: str) -> float:
        return float(np.mean(self.values(metric)))

    def std(self, metric: str) -> float:
        return float(np.std(self.values(metric)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "seeds": self.seeds,
            "run_ids": self.run_ids,
            **{f"{m}_mean": self.mean(m) for m in METRICS},
            **{f"{m}_std": self.std(m) for m in METRICS},
            "per_seed": self.per_seed,
        }


@dataclass
class StopAblationResult:
    dataset: str
    split: str
    protocol: str
    variants: list[StopVariantResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "protocol": self.protocol,
            "variants": [v.to_dict() for v in self.variants],
        }


def run_stop_ablation(
    ws: Workspace,
    dataset: str,
    base: StopConfig,
    seeds: Sequence[int],
    eval_split: str,
    progress: ProgressFn = no_progress,
) -> StopAblationResult:
    """Every variant with every seed, seed-major (complete comparisons come first)."""
    data = load_data(ws, dataset, base, eval_split)
    results = {name: StopVariantResult(name, list(seeds)) for name in VARIANTS}
    total, done = len(VARIANTS) * len(seeds), 0
    for seed in seeds:
        for name, (spatial, temporal) in VARIANTS.items():
            config = dataclasses.replace(base, spatial=spatial, temporal=temporal, seed=seed)
            run = train_stop(ws, dataset, config, eval_split, progress, data)
            results[name].run_ids.append(run.run_id)
            results[name].per_seed.append(run_metrics(run))
            done += 1
            progress("ablation", done, total)
    return StopAblationResult(dataset, eval_split, PROTOCOL, list(results.values()))
