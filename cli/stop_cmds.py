"""``stvg pretrain-vit``: a thin wrapper over ``stvgdata.encoders.vit_pretrain`` (torch is
imported only when it runs); ``stvg train/ablate --method stop`` reach STOP through the
method registry."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from stvg.cli.cache_cmds import parse_size
from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    output_format,
    render_record,
    workspace_of,
)
from stvg.cli.flags import config_options


def pretrain_vit_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset whose split's frames to train on.")],
    arch: Annotated[str, typer.Option(help="ViT shape: mini, b32 or tiny.")] = "mini",
    size: Annotated[
        str, typer.Option(help="Frame size HxW, the same as `extract --size` later.")
    ] = "96x160",
    split: Annotated[
        str, typer.Option("--train-split", help="Split to train on (report results: train).")
    ] = "train",
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Passes over the pairs (default: 14).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=2, help="Pairs per step (default: 64).")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate (default: 0.001).")] = None,
    frames_per_query: Annotated[
        int | None,
        typer.Option(min=1, help="GT frames per query, evenly over its tube (default: 4)."),
    ] = None,
    region_weight: Annotated[
        float | None,
        typer.Option(
            min=0, help="Weight of the sentence vs GT-box patch tokens term (0: off; default: 1)."
        ),
    ] = None,
    max_shift: Annotated[
        int | None,
        typer.Option(min=0, help="Random translation of each frame, pixels (default: 8)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of sampling and initialization.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--output",
            help="Directory to write (default: WORKSPACE/models/vit-synth/D-ARCH).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Train a CLIP-style ViT's image tower contrastively (frame CLS vs sentence) on the dataset's
    train frames: the offline substitute for pretrained CLIP weights; load it with
    `stvg extract --features vit --weights vit=DIR`."""
    from stvg.stvgdata.encoders.vit_pretrain import VitPretrainConfig, run_vit_pretraining

    options = config_options(VitPretrainConfig, ctx.params)
    config = VitPretrainConfig(**options | {"frame_size": parse_size(size)})
    with RichProgress(transient=True) as progress:
        summary = run_vit_pretraining(workspace_of(ctx), config, progress)
    render_record(dataclasses.asdict(summary), output_format(fmt, as_json), f"{dataset} {arch}")


def register(app: typer.Typer) -> None:
    """Add ``pretrain-vit`` to ``app``."""
    app.command("pretrain-vit")(pretrain_vit_cmd)
