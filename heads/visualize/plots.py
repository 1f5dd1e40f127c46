"""Plots of what stvg measured, written as PNG or SVG by extension: an ablation as bars with
error bars over seeds, a run's training curves, and the per-query vIoU distributions of two run
groups. matplotlib is imported (with the non-interactive Agg backend) only when a plot is made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stvg.heads.eval.ablation import STVG_METRICS, VariantResult
from stvg.heads.eval.compare import bootstrap_interval, paired_query_scores
from stvg.heads.runs import read_run
from stvg.heads.visualize.write import check_output
from stvg.stvgdata.atomic import atomic_output
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

PLOT_SUFFIXES = (".png", ".svg")

# per-query column of the predictions table behind a summary metric (paired intervals)
PER_QUERY = {"m_viou": "viou", "m_tiou": "tiou", "m_siou": "siou"}
INTERVAL_RESAMPLES, INTERVAL_CONFIDENCE = 2000, 0.95

# the latest row of each (variant, seed) of a method's runs on one dataset/split/protocol
_ABLATION_SQL = """
SELECT variant, seed, run_id, m_viou, viou_03, viou_05, m_tiou, m_siou
FROM runs
WHERE method = ? AND dataset = ? AND split = ? AND protocol = ? AND sentence_type = 'all'
QUALIFY row_number() OVER (PARTITION BY variant, seed ORDER BY created_at DESC) = 1
ORDER BY variant, seed
"""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out: Path) -> Path:
    """Write ``fig`` to ``out`` (.png or .svg, atomically) and close it."""
    out = check_output(out, PLOT_SUFFIXES)
    try:
        fig.tight_layout()
        with atomic_output(out) as tmp:
            fig.savefig(tmp, format=out.suffix.lower()[1:])
    finally:
        pyplot().close(fig)
    return out


@dataclass(frozen=True)
class AblationBars:
    """Per variant (in order): the metric's mean and std over seeds, the seed count, and the
    paired bootstrap interval (low, high) of its per-query difference from the first variant
    (None for the first, or where runs have no per-query scores)."""

    metric: str
    variants: list[str]
    means: np.ndarray
    stds: np.ndarray
    seed_counts: list[int]
    intervals: list[tuple[float, float] | None]


def ablation_bars(
    ws: Workspace,
    method: str,
    dataset: str,
    split: str,
    protocol: str,
    metric: str = "m_viou",
    variants: Sequence[str] = (),
) -> AblationBars:
    """Mean and sample std (``VariantResult.std``, ddof 1, as `stvg ablate` prints; NaN for one
    seed) of ``metric`` over the seeds of each variant in the ``runs`` table (the latest run of
    each variant and seed)."""
    if metric not in STVG_METRICS:
        known = ", ".join(STVG_METRICS)
        raise BadInputError.for_field("metric", metric, f"must be one of {known}")
    rows = query(ws, _ABLATION_SQL, [method, dataset, split, protocol]).to_pylist()
    if not rows:
        raise BadInputError("runs", f"{method} {dataset}/{split}/{protocol}", "no runs recorded")
    by_variant: dict[str, list[dict]] = {}
    for row in rows:
        by_variant.setdefault(row["variant"], []).append(row)
    order = list(variants) or list(by_variant)
    missing = [v for v in order if v not in by_variant]
    if missing:
        raise BadInputError.for_field("variants", missing[0], "no runs of this variant")
    results = [_variant_result(v, by_variant[v], metric) for v in order]
    return AblationBars(
        metric,
        order,
        np.array([r.mean(metric) for r in results]),
        np.array([r.std(metric) for r in results]),
        [len(r.seeds) for r in results],
        [None] + [paired_interval(ws, r.run_ids, results[0].run_ids, metric) for r in results[1:]],
    )


def _variant_result(variant: str, rows: list[dict], metric: str) -> VariantResult:
    """``rows`` (one runs row per seed) as the ablation result type, so its statistics are the
    ones `stvg ablate` prints."""
    result = VariantResult(variant, [r["seed"] for r in rows], (metric,))
    for row in rows:
        result.add(row["run_id"], {metric: row[metric]})
    return result


def paired_interval(
    ws: Workspace, runs: Sequence[str], reference: Sequence[str], metric: str
) -> tuple[float, float] | None:
    """Bootstrap interval of the per-query difference ``runs`` - ``reference`` (as
    ``stvg compare`` computes it, seed 0), or None where the metric or the runs' per-query
    scores are missing."""
    if metric not in PER_QUERY:
        return None
    try:
        _, score, base = paired_query_scores(ws, runs, reference, PER_QUERY[metric])
    except BadInputError:  # no per-query predictions recorded for these runs
        return None
    return bootstrap_interval(score - base, INTERVAL_RESAMPLES, INTERVAL_CONFIDENCE, seed=0)


def plot_ablation(bars: AblationBars, title: str, out: Path) -> Path:
    """Bars of the mean (percent) with error bars of one std over seeds; above a bar, the paired
    95% interval of its difference from the first variant, in points, where known."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(bars.variants), 3.4), dpi=100)
    x = np.arange(len(bars.variants))
    stds = np.nan_to_num(bars.stds)  # one seed: no error bar
    ax.bar(x, 100 * bars.means, yerr=100 * stds, capsize=4, color="#4c72b0")
    pairs = zip(bars.variants, bars.seed_counts, strict=True)
    labels = [f"{v}\n({n} seed{'s' * (n != 1)})" for v, n in pairs]
    ax.set_xticks(x, labels, fontsize=8)
    for i, interval in enumerate(bars.intervals):
        if interval is not None:  # paired 95% interval of the difference from the first bar
            low, high = (100 * v for v in interval)
            top = 100 * (bars.means[i] + stds[i])
            ax.annotate(
                f"[{low:+.1f}, {high:+.1f}]", (i, top), ha="center", va="bottom", fontsize=7
            )
    if any(interval is not None for interval in bars.intervals):
        note = f"[low, high]: paired 95% interval of the difference from {bars.variants[0]}"
        ax.set_xlabel(f"{note} (points)", fontsize=8)
    ax.set_ylabel(f"{bars.metric} (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, out)


def training_history(ws: Workspace, run_id: str) -> list[dict[str, float]]:
    """The per-epoch log of a run (``run.json``'s ``result.history``)."""
    run = read_run(ws, run_id)
    history = run.result.get("history")
    if not history:
        raise BadInputError(run.run_dir, "result.history", "this run logged no training history")
    return history


def plot_training(history: list[dict[str, float]], title: str, out: Path) -> Path:
    """Each loss term per epoch (left) and the validation metric when present (right)."""
    plt = pyplot()
    epochs = [entry["epoch"] for entry in history]
    skip = {"epoch", "warmup"}
    terms = [k for k in history[0] if k not in skip and not k.startswith("val")]
    val = [k for k in history[0] if k.startswith("val")]
    fig, axes = plt.subplots(1, 1 + bool(val), figsize=(4.2 * (1 + bool(val)), 3.2), dpi=100)
    axes = np.atleast_1d(axes)
    for term in terms:
        axes[0].plot(epochs, [entry.get(term, np.nan) for entry in history], marker=".", label=term)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("training loss")
    axes[0].legend(fontsize=7)
    for name in val:
        values = [np.nan if entry.get(name) is None else entry[name] for entry in history]
        axes[1].plot(epochs, values, marker="o", label=name)
        axes[1].set_xlabel("epoch")
        axes[1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, out)


def viou_distributions(
    ws: Workspace, runs_a: Sequence[str], runs_b: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-query vIoU (Q,) of groups A and B (averaged over each group's runs), on the queries
    of their common split, as ``stvg compare`` pairs them."""
    _, score_a, score_b = paired_query_scores(ws, runs_a, runs_b, "viou")
    return score_a, score_b


def plot_viou(score_a: np.ndarray, score_b: np.ndarray, labels: tuple[str, str], out: Path) -> Path:
    """Histograms of both groups' per-query vIoU (left) and B against A per query (right)."""
    plt = pyplot()
    fig, (hist, pairs) = plt.subplots(1, 2, figsize=(8.0, 3.4), dpi=100)
    bins = np.linspace(0, 1, 21)
    for scores, label in zip((score_a, score_b), labels, strict=True):
        hist.hist(scores, bins=bins, alpha=0.55, label=f"{label} (mean {scores.mean():.3f})")
    hist.set_xlabel("per-query vIoU")
    hist.set_ylabel("queries")
    hist.legend(fontsize=7)
    pairs.scatter(score_a, score_b, s=8, alpha=0.6)
    pairs.plot([0, 1], [0, 1], color="grey", lw=1)
    pairs.set_xlabel(f"vIoU {labels[0]}")
    pairs.set_ylabel(f"vIoU {labels[1]}")
    pairs.set_aspect("equal")
    return save_figure(fig, out)
