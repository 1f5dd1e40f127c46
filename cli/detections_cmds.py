"""Detection commands: ``stvg import-detections`` (detector output into the ``detections``
table) and ``stvg track`` (detections -> ``tubelets`` with the Kalman tracker).

Thin wrappers over ``stvgdata.detections`` and ``stvgdata.tracking``; neither imports torch.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    output_format,
    render_record,
    workspace_of,
)
from stvg.stvgdata.detections import import_detections
from stvg.stvgdata.tracking import TrackerConfig, track_dataset

DEFAULTS = TrackerConfig()


def _print_summary(summary: object, fmt: OutputFormat, title: str) -> None:
    record = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(summary).items()}
    render_record(record, fmt, title)


def import_detections_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset already in the catalog.")],
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Detections file: .json or .parquet.")
    ],
    source: Annotated[
        str | None,
        typer.Option(help="Name of this detector output [default: the file's, else its path]."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Import per-frame detector output for a dataset; re-importing a source replaces it."""
    with RichProgress(transient=True) as progress:
        summary = import_detections(workspace_of(ctx), dataset, path, source, progress)
    _print_summary(summary, output_format(fmt, as_json), f"{dataset} detections")


def track_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset whose detections to track.")],
    source: Annotated[
        str | None, typer.Option(help="Detections source [default: the only one].")
    ] = None,
    iou_threshold: Annotated[
        float, typer.Option(help="Least IoU between prediction and detection to match.")
    ] = DEFAULTS.iou_threshold,
    max_age: Annotated[
        int, typer.Option(help="Missed frames after which a confirmed track ends.")
    ] = DEFAULTS.max_age,
    min_hits: Annotated[
        int, typer.Option(help="Consecutive matches before a track becomes a tubelet.")
    ] = DEFAULTS.min_hits,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Link a dataset's detections into tubelets (Kalman filter + IoU association)."""
    config = TrackerConfig(iou_threshold=iou_threshold, max_age=max_age, min_hits=min_hits)
    with RichProgress(transient=True) as progress:
        summary = track_dataset(workspace_of(ctx), dataset, source, config, progress)
    _print_summary(summary, output_format(fmt, as_json), f"{dataset} tubelets")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("import-detections")(import_detections_cmd)
    app.command("track")(track_cmd)
