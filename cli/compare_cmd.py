"""``stvg compare``: is one group of runs better than another on the same queries?"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    console,
    output_format,
    render_record,
    workspace_of,
)
from stvg.heads.eval.compare import METRICS, Comparison, compare_runs


def run_ids(value: str) -> list[str]:
    """``a,b,c`` -> [a, b, c] (the seeds of one variant form one side)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def render_comparison(comparison: Comparison) -> None:
    """A two-row table (A, B) and the paired difference with its bootstrap interval, in percent."""
    c = comparison
    console.print(f"{c.dataset} {c.split}, protocol {c.protocol}, {c.queries} queries, paired")
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("")
    table.add_column(f"mean {c.metric}", justify="right")
    table.add_row("A", f"{100 * c.mean_a:.2f}")
    table.add_row("B", f"{100 * c.mean_b:.2f}")
    interval = f"[{100 * c.low:+.2f}, {100 * c.high:+.2f}]"
    table.add_row("A - B", f"{100 * c.difference:+.2f}")
    console.print(table)
    console.print(
        f"{100 * c.confidence:.0f}% bootstrap interval of A - B over queries: {interval}; "
        f"A higher on {c.better}, lower on {c.worse}, equal on {c.ties} queries"
    )


def compare_command(
    ctx: typer.Context,
    runs_a: Annotated[
        str, typer.Argument(metavar="RUNS_A", help="Run id(s) of side A, comma-separated (seeds).")
    ],
    runs_b: Annotated[
        str, typer.Argument(metavar="RUNS_B", help="Run id(s) of side B, comma-separated (seeds).")
    ],
    metric: Annotated[str, typer.Option(help=f"Per-query metric: {', '.join(METRICS)}.")] = "viou",
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the queries.")] = 10_000,
    confidence: Annotated[float, typer.Option(help="Level of the bootstrap interval.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Paired comparison of two run groups on the same queries: mean per-query difference of a
    metric, a bootstrap interval over queries, and how many queries each side wins."""
    comparison = compare_runs(
        workspace_of(ctx), run_ids(runs_a), run_ids(runs_b), metric, resamples, confidence, seed
    )
    fmt = output_format(fmt, as_json)
    if fmt is OutputFormat.table:
        render_comparison(comparison)
    else:
        render_record(asdict(comparison), fmt)


def register(app: typer.Typer) -> None:
    """Add ``stvg compare``."""
    app.command("compare")(compare_command)
