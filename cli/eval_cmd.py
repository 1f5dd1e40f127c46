"""``stvg eval``: score a run's or another codebase's predictions against the catalog, print the
metrics under the named protocol, and record them in the ``runs`` table."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich import box
from rich.table import Table

from stvg.cli.console import (
    METRIC_COLUMNS,
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    console,
    output_format,
    print_random_init_line,
    render_arrow,
    workspace_of,
)
from stvg.heads.eval.evaluate import EvalReport
from stvg.heads.eval.predictions import FORMATS
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol
from stvg.heads.jobs import EvalJob, evaluate_job
from stvg.heads.runs import is_random_init
from stvg.heads.settings import parse_overrides

ProtocolName = StrEnum("ProtocolName", {name: name for name in PROTOCOLS})
PredictionFormat = StrEnum("PredictionFormat", {name: name for name in FORMATS})


def report_records(report: EvalReport) -> list[dict]:
    """One JSON-ready record per sentence type (metrics as fractions)."""
    return [
        {
            "run_id": report.run.run_id,
            "method": report.run.method,
            "variant": report.run.variant,
            "seed": report.run.seed,
            "dataset": report.dataset,
            "split": report.split,
            "protocol": report.protocol,
            "sentence_type": sentence_type,
            **vars(summary),
        }
        for sentence_type, summary in report.summaries.items()
    ]


def render_report(report: EvalReport) -> None:
    """A paper-style table (percent, one decimal), the protocol in the title."""
    reference = get_protocol(report.protocol).reference
    title = f"{report.dataset} {report.split} - protocol {report.protocol} ({reference})"
    table = Table(
        title=title,
        caption=f"run {report.run.run_id}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("sentences", no_wrap=True)
    for header in ("queries", "missing", *(label for _, label in METRIC_COLUMNS)):
        table.add_column(header, justify="right", no_wrap=True)
    for sentence_type, summary in report.summaries.items():
        metrics = [f"{100 * getattr(summary, name):.1f}" for name, _ in METRIC_COLUMNS]
        table.add_row(sentence_type, str(summary.num_queries), str(summary.num_missing), *metrics)
    console.print(table)


def eval_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset name in the catalog.")],
    split: Annotated[str, typer.Option("--eval-split", help="Split to score: train, val or test.")],
    predictions: Annotated[
        Path | None,
        typer.Option(help="Predictions file (stvg JSON or a TubeDETR-style result JSON)."),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Predict with this training run and score it.")
    ] = None,
    predictions_format: Annotated[
        PredictionFormat, typer.Option(help="Format of --predictions.")
    ] = PredictionFormat("auto"),
    protocol: Annotated[
        ProtocolName, typer.Option(help="Which frames are scored (see docs/metrics.md).")
    ] = ProtocolName(DEFAULT_PROTOCOL),
    annotations: Annotated[
        Path | None,
        typer.Option(help="TubeDETR's preprocessed annotations, to map its sentence ids."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="Method name recorded in the runs table; alone (no --predictions, no --run): "
            "ground the split with this training-free method (e3m)."
        ),
    ] = None,
    variant: Annotated[
        str, typer.Option(help="Variant recorded for a --predictions file (a --run: its own).")
    ] = "full",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="KEY=VALUE", help="A setting of --method's config (repeatable)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Score predictions (of a run, or a file from another codebase) against the catalog;
    with --method e3m and neither, ground the split with training-free E3M and score it."""
    job = EvalJob(
        dataset, split, protocol.value, run, predictions, predictions_format.value, annotations,
        method, variant, parse_overrides(set_ or []),
    )  # fmt: skip
    with RichProgress(transient=True) as progress:
        report = evaluate_job(workspace_of(ctx), job, progress)
    show_report(report, output_format(fmt, as_json))


def show_report(report: EvalReport, fmt: OutputFormat) -> None:
    """The paper-style table, or one record per sentence type as CSV or JSON."""
    if fmt is OutputFormat.table:
        render_report(report)
    else:
        render_arrow(pa.Table.from_pylist(report_records(report)), fmt)
    print_random_init_line(is_random_init(report.run.features), fmt)


def register(app: typer.Typer) -> None:
    """Add ``stvg eval`` to ``app``."""
    app.command("eval")(eval_command)
