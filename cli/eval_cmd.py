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
from stvg.heads.eval.evaluate import EvalReport, RunInfo, evaluate, load_ground_truth, new_run_id
from stvg.heads.eval.predictions import (
    FORMATS,
    TUBEDETR_FRAME_SHIFT,
    read_predictions,
    tubedetr_id_map,
)
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol
from stvg.heads.registry import METHODS, get_method, require
from stvg.heads.runs import check_features_unchanged, is_random_init, read_run
from stvg.heads.settings import configure, parse_overrides
from stvg.stvgdata.errors import BadInputError

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
    if predictions is None and run is None and grounds(method):
        report = ground_split(ctx, method, dataset, split, protocol.value, set_)
        show_report(report, output_format(fmt, as_json))
        return
    if set_:
        raise BadInputError("--set", set_[0], "sets a method's config: --method NAME only")
    if (predictions is None) == (run is None):
        raise BadInputError("stvg eval", None, "give exactly one of --predictions or --run")
    ws = workspace_of(ctx)
    ground_truth = load_ground_truth(ws, dataset, split)
    config = {"dataset": dataset, "split": split, "protocol": protocol.value}
    if predictions is not None:
        shift = TUBEDETR_FRAME_SHIFT.get(dataset, 0)
        id_map = tubedetr_id_map(ground_truth.queries, annotations, shift)
        preds = read_predictions(predictions, predictions_format.value, id_map, shift)
        config |= {"predictions": str(predictions.resolve()), "format": predictions_format.value}
        info = RunInfo(new_run_id("eval"), method or "external", variant, config=config)
    else:
        trained = read_run(ws, run)
        check_features_unchanged(ws, trained)
        predict = require(get_method(trained.method), "predict")
        with RichProgress(transient=True) as progress:
            preds = predict(ws, trained, dataset, split, progress)
        info = RunInfo(
            trained.run_id,
            method or trained.method,
            trained.variant,
            trained.seed,
            config=config | trained.config | {"run": run},
            features=trained.features,
        )
    with RichProgress(transient=True) as progress:
        report = evaluate(
            ws, dataset, split, preds, protocol.value, info, progress, ground_truth=ground_truth
        )
    show_report(report, output_format(fmt, as_json))


def grounds(method: str | None) -> bool:
    """Whether ``method`` is a registered training-free method (it grounds a split itself)."""
    return method in METHODS and get_method(method).ground is not None


def ground_split(
    ctx: typer.Context,
    method: str,
    dataset: str,
    split: str,
    protocol: str,
    settings: list[str] | None,
) -> EvalReport:
    """Ground every query of ``split`` with a training-free method (its config with the
    ``--set`` values), score it and record it in ``runs``."""
    chosen = get_method(method)
    config = configure(chosen.default_config(), {}, parse_overrides(settings or []))
    with RichProgress(transient=True) as progress:
        return chosen.ground(workspace_of(ctx), dataset, split, config, protocol, progress)


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
