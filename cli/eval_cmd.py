"""``stvg eval``: score a run's or another codebase's predictions against the catalog, print the
metrics under the named protocol, and record them in the ``runs`` table."""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from cli.console import METRIC_COLUMNS, RichProgress, console, workspace_of
from heads.eval.evaluate import EvalReport, RunInfo, evaluate, load_ground_truth, new_run_id
from heads.eval.predictions import FORMATS, QueryPrediction, read_predictions, tubedetr_id_map
from heads.eval.protocols import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol
from stvgdata.errors import BadInputError
from stvgdata.workspace import Workspace

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
    split: Annotated[str, typer.Option(help="Split to score: train, val or test.")],
    predictions: Annotated[
        Path | None,
        typer.Option(help="Predictions file (stvg JSON or a TubeDETR-style result JSON)."),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Predict with this training run and score it.")
    ] = None,
    fmt: Annotated[
        PredictionFormat, typer.Option("--format", help="Format of --predictions.")
    ] = PredictionFormat("auto"),
    protocol: Annotated[
        ProtocolName, typer.Option(help="Which frames are scored (see docs/metrics.md).")
    ] = ProtocolName(DEFAULT_PROTOCOL),
    annotations: Annotated[
        Path | None,
        typer.Option(help="TubeDETR's preprocessed annotations, to map its sentence ids."),
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="Method name recorded in the runs table.")
    ] = None,
    variant: Annotated[
        str, typer.Option(help="Variant recorded for a --predictions file (a --run: its own).")
    ] = "full",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE setting of --method e3m's config (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead.")] = False,
) -> None:
    """Score predictions (of a run, or a file from another codebase) against the catalog;
    with ``--method e3m`` and neither, ground the split with training-free E3M and score it."""
    if method == "e3m" and predictions is None and run is None:
        from cli.e3m_cmds import eval_e3m
        from cli.methods import parse_overrides

        report = eval_e3m(ctx, dataset, split, protocol.value, parse_overrides(set_ or []))
        show_report(report, as_json)
        return
    if set_:
        raise BadInputError("--set", set_[0], "only --method e3m takes --set in stvg eval")
    if (predictions is None) == (run is None):
        raise BadInputError("stvg eval", None, "give exactly one of --predictions or --run")
    ws = workspace_of(ctx)
    ground_truth = load_ground_truth(ws, dataset, split)
    config = {"dataset": dataset, "split": split, "protocol": protocol.value}
    if predictions is not None:
        id_map = tubedetr_id_map(ground_truth.queries, annotations)
        preds = read_predictions(predictions, fmt.value, id_map)
        config |= {"predictions": str(predictions.resolve()), "format": fmt.value}
        info = RunInfo(new_run_id("eval"), method or "external", variant, config=config)
    else:
        trained, preds = predict_run_of_any_head(ws, run, dataset, split)
        info = dataclasses.replace(
            trained, method=method or trained.method, config=config | trained.config | {"run": run}
        )
    with RichProgress(transient=True) as progress:
        report = evaluate(
            ws, dataset, split, preds, protocol.value, info, progress, ground_truth=ground_truth
        )
    show_report(report, as_json)


def predict_run_of_any_head(
    ws: Workspace, run: str, dataset: str, split: str
) -> tuple[RunInfo, dict[str, QueryPrediction]]:
    """What ``runs`` records of a trained run (method, its own variant and seed; for CSDVL its
    whole configuration, as ``stvg ablate`` records it: the cached features it read, the
    warm start, so settings can be told apart in SQL) and its predictions: a
    CoSPaL run (its weights in runs/<run>/cospal.pt) or a CSDVL run or checkpoint. Torch is
    imported only here."""
    from heads.cospal.train import CHECKPOINT, METHOD, predict_checkpoint

    cospal = ws.runs_dir / run / CHECKPOINT
    if cospal.is_file():
        config, predictions = predict_checkpoint(ws, dataset, split, cospal)
        return RunInfo(run, METHOD, config.variant_name(), config.seed), predictions
    from heads.csdvl.config import config_to_dict
    from heads.csdvl.train import predict_run

    config, train_config, predictions = predict_run(ws, run, dataset, split)
    recorded = config_to_dict(config, train_config)
    info = RunInfo(run, "csdvl", config.variant_name(), train_config.seed, config=recorded)
    return info, predictions


def show_report(report: EvalReport, as_json: bool) -> None:
    """JSON records, or the paper-style table."""
    if as_json:
        typer.echo(json.dumps(report_records(report)))
    else:
        render_report(report)


def register(app: typer.Typer) -> None:
    """Add ``stvg eval`` to ``app``."""
    app.command("eval")(eval_command)
