"""The result of any method's ablation: per variant, the per-seed metrics of its runs and their
mean +- sample std over seeds (ddof 1: the seeds are a sample of the training noise; NaN with
one seed), and each variant's paired per-query comparison with the baseline variant. Metrics
are named, so STVG summaries and retrieval scores fit the same type; a metric a seed lacks
(None) is NaN in the statistics and null in ``to_dict`` (JSON has no NaN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from stvg.heads.eval.compare import Comparison
from stvg.heads.eval.metrics import Summary
from stvg.stvgdata.progress import ProgressFn, no_progress

STVG_METRICS = ("m_viou", "viou_03", "viou_05", "m_tiou", "m_siou")
Variant = TypeVar("Variant")
# run_one(variant, seed) -> (run_id, metric name -> value) of the run it trained and scored
RunOne = Callable[[Variant, int], tuple[str, dict[str, Any]]]


@dataclass
class VariantResult:
    """One variant's runs: ``per_seed[i]`` holds the metrics of run ``run_ids[i]``."""

    variant: str
    seeds: list[int]
    metrics: tuple[str, ...] = STVG_METRICS
    run_ids: list[str] = field(default_factory=list)
    per_seed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, run_id: str, metrics: dict[str, Any]) -> None:
        """Record one seed's run."""
        self.run_ids.append(run_id)
        self.per_seed.append(metrics)

    def add_summary(self, run_id: str, summary: Summary) -> None:
        """Record one seed's STVG summary (all its fields, as ``to_dict`` reports them)."""
        self.add(run_id, summary_metrics(summary))

    def values(self, metric: str) -> np.ndarray:
        """Per-seed values of ``metric`` (NaN where a seed has none)."""
        return np.array(
            [np.nan if m[metric] is None else m[metric] for m in self.per_seed], dtype=np.float64
        )

    def mean(self, metric: str) -> float:
        return float(np.mean(self.values(metric)))

    def std(self, metric: str) -> float:
        """Sample std over seeds (NaN with fewer than two)."""
        values = self.values(metric)
        return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "seeds": self.seeds,
            "run_ids": self.run_ids,
            **{f"{m}_mean": _finite(self.mean(m)) for m in self.metrics},
            **{f"{m}_std": _finite(self.std(m)) for m in self.metrics},
            "per_seed": self.per_seed,
        }


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic is null."""
    return None if value != value else value


@dataclass
class AblationResult:
    """Per variant results; ``setting`` says what every variant shared (preset, checkpoint
    rule), ``baseline`` names the variant the ``paired`` comparisons (variant -> Comparison of
    it against the baseline, on the same queries) are against."""

    dataset: str
    split: str
    protocol: str
    variants: list[VariantResult]
    setting: str = ""
    baseline: str | None = None
    paired: dict[str, Comparison] = field(default_factory=dict)
    # trivial predictors on the same split (heads.eval.baselines), one "seed" each
    baselines: list[VariantResult] = field(default_factory=list)

    def add_baselines(self, summaries: dict[str, Summary]) -> None:
        """Record each trivial predictor's summary on this split, to show beside the variants."""
        for name, summary in summaries.items():
            row = VariantResult(name, [])
            row.add_summary(name, summary)
            self.baselines.append(row)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "protocol": self.protocol,
            "setting": self.setting,
            "baseline": self.baseline,
            "paired": {name: dataclasses.asdict(c) for name, c in self.paired.items()},
            "variants": [v.to_dict() for v in self.variants],
            "baselines": [v.to_dict() for v in self.baselines],
        }


def summary_metrics(summary: Summary) -> dict[str, Any]:
    """An STVG summary's fields, as ``VariantResult`` records them."""
    return dataclasses.asdict(summary)


def run_grid(
    variants: Mapping[str, Variant],
    seeds: Sequence[int],
    run_one: RunOne,
    metrics: tuple[str, ...] = STVG_METRICS,
    progress: ProgressFn = no_progress,
) -> list[VariantResult]:
    """Every variant (table name -> what ``run_one`` takes) with every seed, seed-major: all
    variants with seed 0 first, so the runs table holds a complete comparison for the first
    seeds while later ones still run. One ``VariantResult`` per variant, in table order."""
    results = {name: VariantResult(name, list(seeds), metrics) for name in variants}
    total, done = len(variants) * len(seeds), 0
    for seed in seeds:
        for name, variant in variants.items():
            results[name].add(*run_one(variant, seed))
            done += 1
            progress("ablation", done, total)
    return list(results.values())
