"""``stvg plot ablation|training|viou``: thin wrappers over ``heads.visualize.plots`` (PNG or
SVG by the output's extension; matplotlib is imported only when a plot runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stvg.cli.compare_cmd import run_ids
from stvg.cli.console import console, workspace_of
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL

plot_app = typer.Typer(help="Plots of ablations, training curves and per-query vIoU.")
OutOption = Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg.")]


def _done(path: Path) -> None:
    console.print(str(path), highlight=False)


@plot_app.command("ablation")
def ablation_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset of the runs.")],
    out: OutOption,
    method: Annotated[str, typer.Option(help="Method whose variants are compared.")] = "csdvl",
    split: Annotated[str, typer.Option("--eval-split", help="Split the runs scored.")] = "test",
    protocol: Annotated[str, typer.Option(help="Protocol the runs were scored under.")] = (
        DEFAULT_PROTOCOL
    ),
    metric: Annotated[str, typer.Option(help="Metric of the bars.")] = "m_viou",
    variants: Annotated[
        str | None, typer.Option(help="Variants to show, comma-separated, in order.")
    ] = None,
) -> None:
    """Bars of each variant's mean over seeds (runs table), with one-std error bars."""
    from stvg.heads.visualize.plots import ablation_bars, plot_ablation

    chosen = run_ids(variants) if variants else ()
    bars = ablation_bars(workspace_of(ctx), method, dataset, split, protocol, metric, chosen)
    _done(plot_ablation(bars, f"{method} ablation - {dataset} {split} ({protocol})", out))


@plot_app.command("training")
def training_command(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id.")],
    out: OutOption,
) -> None:
    """Loss terms and the validation metric of a run, per epoch."""
    from stvg.heads.visualize.plots import plot_training, training_history

    _done(plot_training(training_history(workspace_of(ctx), run), f"training - {run}", out))


@plot_app.command("viou")
def viou_command(
    ctx: typer.Context,
    runs_a: Annotated[
        str, typer.Argument(metavar="RUNS_A", help="Run id(s) of side A, comma-separated.")
    ],
    runs_b: Annotated[
        str, typer.Argument(metavar="RUNS_B", help="Run id(s) of side B, comma-separated.")
    ],
    out: OutOption,
) -> None:
    """Per-query vIoU of two run groups: histograms and B against A."""
    from stvg.heads.visualize.plots import plot_viou, viou_distributions

    score_a, score_b = viou_distributions(workspace_of(ctx), run_ids(runs_a), run_ids(runs_b))
    _done(plot_viou(score_a, score_b, ("A", "B"), out))


def register(app: typer.Typer) -> None:
    """Add ``stvg plot`` to ``app``."""
    app.add_typer(plot_app, name="plot")
