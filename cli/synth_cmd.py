"""``stvg synth``: a thin wrapper over ``stvgdata.synth.synthesize`` (imported inside the
command, so that other commands do not pay for PyAV)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import typer

from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    console,
    output_format,
    print_json,
    render_arrow,
)
from stvg.cli.flags import config_options

if TYPE_CHECKING:
    from stvg.stvgdata.synth import SynthSummary


class SynthDataset(StrEnum):
    vidstg = "vidstg"
    hcstvg_v1 = "hcstvg-v1"
    hcstvg_v2 = "hcstvg-v2"


def synth(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Argument(metavar="OUT", help="New (or empty) directory to write the dataset to."),
    ],
    dataset: Annotated[SynthDataset, typer.Option(help="Whose real layout and statistics.")],
    videos: Annotated[int, typer.Option(help="Number of videos over all splits.")],
    seed: Annotated[int, typer.Option(help="Same seed, same dataset (byte for byte).")] = 0,
    test_seed: Annotated[
        int | None,
        typer.Option(
            help="Draw the test split's videos from this seed instead (a held-out test set no "
            "development run on --seed's train/val has touched; see docs/synthetic.md)."
        ),
    ] = None,
    no_videos: Annotated[
        bool, typer.Option("--no-videos", help="Annotations only (catalog-scale tests).")
    ] = False,
    width: Annotated[int | None, typer.Option(help="Frame width (default: 320).")] = None,
    height: Annotated[int | None, typer.Option(help="Frame height (default: 180).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second (default: 30).")] = None,
    video_seconds: Annotated[
        float | None,
        typer.Option(
            "--duration", help="Mean video length in seconds (VidSTG only) (default: 30)."
        ),
    ] = None,
    tube_seconds: Annotated[
        float | None,
        typer.Option(help="Mean tube (motion phase) length in seconds (default: 9.68 / 6)."),
    ] = None,
    objects_per_video: Annotated[
        int | None, typer.Option("--objects", help="Objects per video, 4-12 (default: 6 / 5).")
    ] = None,
    no_twins: Annotated[
        bool,
        typer.Option(
            "--no-twins", help="Each object its own appearance, from 2 objects (the demo's scene)."
        ),
    ] = False,
    object_scale: Annotated[
        float | None, typer.Option(help="Object size multiplier, 0.5-2 (default: 1).")
    ] = None,
    layout: Annotated[
        str | None,
        typer.Option(help="vidstg: original, tubedetr or stcat (default: the release's)."),
    ] = None,
    detections: Annotated[
        bool,
        typer.Option(
            "--detections/--no-detections",
            help="Also write SIMULATED detector output (detections.parquet: jittered true "
            "boxes, misses, false positives).",
        ),
    ] = True,
    workers: Annotated[
        int | None, typer.Option(help="Processes (default: one per available core).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Write a synthetic STVG dataset in VidSTG's or HC-STVG's real on-disk layout."""
    from stvg.stvgdata.synth import SynthConfig, SynthJob, synthesize

    scene = config_options(SynthConfig, ctx.params) | {"twins": False if no_twins else None}
    parsed = {"dataset": dataset.value, "write_videos": not no_videos, "scene": scene}
    job = SynthJob(**config_options(SynthJob, ctx.params) | parsed)
    with RichProgress(transient=True) as progress:
        summary = synthesize(job, progress)
    render_synth(summary, output_format(fmt, as_json))


def render_synth(summary: SynthSummary, fmt: OutputFormat) -> None:
    """One row per split (or the whole summary as JSON), then where the files went."""
    if fmt is OutputFormat.json:
        print_json(summary.to_dict())
        return
    rows = [{"split": split, **vars(counts)} for split, counts in summary.splits.items()]
    render_arrow(pa.Table.from_pylist(rows), fmt, title=f"{summary.dataset} synth")
    if fmt is OutputFormat.csv:
        return
    console.print(f"wrote {summary.out}", markup=False, highlight=False)
    if summary.detections_file:
        console.print(
            f"simulated detections: {summary.detections_file}", markup=False, highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add ``synth`` to ``app``."""
    app.command("synth")(synth)
