"""``stvg show``: a thin wrapper over ``heads.visualize.show`` (pictures of predictions of any
run or predictions file), printing one row per written picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    output_format,
    render_arrow,
    workspace_of,
)
from stvg.cli.eval_cmd import PredictionFormat, ProtocolName
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL


def show_command(
    ctx: typer.Context,
    query_id: Annotated[
        str | None,
        typer.Argument(metavar="QUERY_ID", help="Query to draw (or --worst / --best)."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="FILE.png (contact sheet), FILE.gif or FILE.mp4.")
    ] = Path("show.png"),
    run: Annotated[str | None, typer.Option(help="Run id (any method) or checkpoint.")] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="A predictions file, as `stvg eval` reads it.")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the run's).")] = None,
    split: Annotated[
        str | None,
        typer.Option("--eval-split", help="Split (default: the query's, else test or val)."),
    ] = None,
    worst: Annotated[int | None, typer.Option(help="Show the N lowest-vIoU queries.")] = None,
    best: Annotated[int | None, typer.Option(help="Show the N highest-vIoU queries.")] = None,
    sentence_type: Annotated[
        str | None, typer.Option(help="With --worst/--best: only this sentence type.")
    ] = None,
    protocol: Annotated[
        ProtocolName, typer.Option(help="Protocol of the vIoU used to rank and print.")
    ] = ProtocolName(DEFAULT_PROTOCOL),
    predictions_format: Annotated[
        PredictionFormat, typer.Option(help="Format of --predictions.")
    ] = PredictionFormat("auto"),
    annotations: Annotated[
        Path | None, typer.Option(help="TubeDETR's annotations, to map its sentence ids.")
    ] = None,
    max_frames: Annotated[
        int, typer.Option("--frames", help="Frames in a .png or .gif at most.")
    ] = 16,
    internals: Annotated[
        bool,
        typer.Option(
            help="CSDVL runs: also <out>-proposals.png (2D-TAN map) and <out>-attention.png."
        ),
    ] = False,
    attention_frame: Annotated[
        int | None, typer.Option(help="Frame of the attention picture (default: mid GT).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Draw queries' GT and predicted boxes, per-frame IoU and spans, titled by the sentence."""
    from stvg.heads.visualize.show import ShowRequest, show_pictures

    request = ShowRequest(
        out=out,
        run=run,
        predictions=predictions,
        dataset=dataset,
        split=split,
        query_ids=(query_id,) if query_id else (),
        worst=worst,
        best=best,
        sentence_type=sentence_type,
        protocol=protocol.value,
        predictions_format=predictions_format.value,
        annotations=annotations,
        max_frames=max_frames,
        internals=internals,
        attention_frame=attention_frame,
    )
    with RichProgress(transient=True) as progress:
        rows = show_pictures(workspace_of(ctx), request, progress)
    render_arrow(pa.Table.from_pylist(rows), output_format(fmt, as_json))


def register(app: typer.Typer) -> None:
    """Add ``stvg show`` to ``app``."""
    app.command("show")(show_command)
