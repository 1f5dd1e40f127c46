"""``stvg train --method stop``, ``stvg ablate --method stop`` and ``stvg pretrain-vit``: thin
wrappers over ``heads.stop`` and ``stvgdata.extractors.vit_pretrain`` (torch is imported only
when one of them runs)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.cache_cmds import parse_size
from cli.console import RichProgress, console, workspace_of
from stvgdata.errors import BadInputError

if TYPE_CHECKING:
    from cli.methods import MethodArgs

# runs column -> table label, and whether it is a fraction shown in percent
STOP_COLUMNS = (
    ("r_at_1", "R@1", True),
    ("r_at_5", "R@5", True),
    ("r_at_10", "R@10", True),
    ("median_rank", "MdR", False),
    ("accuracy", "Acc", True),
)


def stop_config(args: MethodArgs):  # noqa: ANN201 - heads.stop.config.StopConfig (lazy import)
    """StopConfig from the common options, then ``--set`` overrides."""
    from heads.stop.config import StopConfig

    return args.configure(StopConfig(seed=args.seed, device=args.device))


def train_stop(ctx: typer.Context, args: MethodArgs) -> None:
    """Train STOP's prompts and heads on cached vit/roberta tokens, evaluate, record in runs."""
    from heads.stop.train import train_stop as train

    config = stop_config(args)
    with RichProgress(transient=True) as progress:
        ws = workspace_of(ctx)
        run = train(ws, args.dataset, config, args.eval_split(ws), progress)
    summary = {
        "run_id": run.run_id,
        "variant": config.variant_name(),
        "split": run.eval_split,
        "epochs": len(run.history),
        "checkpoint": str(run.run_dir),
        **dataclasses.asdict(run.retrieval),
        "accuracy": run.accuracy,
        "final_loss": run.history[-1]["total"] if run.history else None,
        "seconds_per_step": run.seconds_per_step,
    }
    if args.as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            console.print(f"{key}: {value}", highlight=False)


def _cell(mean: float, std: float, seeds: int, percent: bool) -> str:
    scale, digits = (100, 1) if percent else (1, 1)
    if mean != mean:  # NaN: no seed had this metric
        return "-"
    text = f"{scale * mean:.{digits}f}"
    return text if seeds == 1 else f"{text} ± {scale * std:.{digits}f}"


def render_stop_ablation(result) -> None:  # noqa: ANN001 - heads.eval.ablation.AblationResult
    """One row per prompt variant: R@K and accuracy in percent, MdR in ranks, mean ± std."""
    seeds = len(result.variants[0].seeds) if result.variants else 0
    table = Table(
        title=f"STOP ablation - {result.dataset} {result.split} - {result.protocol}"
        f" - {seeds} seed(s)"
    )
    table.add_column("prompts", no_wrap=True)
    for _, label, _ in STOP_COLUMNS:
        table.add_column(label, justify="right")
    for variant in result.variants:
        cells = [
            _cell(variant.mean(m), variant.std(m), seeds, percent) for m, _, percent in STOP_COLUMNS
        ]
        table.add_row(variant.variant, *cells)
    console.print(table)


def ablate_stop(ctx: typer.Context, args: MethodArgs) -> None:
    """No prompts, spatial only, temporal only, both: trained and evaluated per seed."""
    from heads.stop.ablate import run_stop_ablation

    if args.seeds < 1:
        raise BadInputError("--seeds", args.seeds, "must be at least 1")
    config = stop_config(args)
    ws = workspace_of(ctx)
    with RichProgress(transient=True) as progress:
        result = run_stop_ablation(
            ws, args.dataset, config, list(range(args.seeds)), args.eval_split(ws), progress
        )
    if args.as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        render_stop_ablation(result)


def pretrain_vit_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset whose split's frames to train on.")],
    arch: Annotated[str, typer.Option(help="ViT shape: mini, b32 or tiny.")] = "mini",
    size: Annotated[
        str, typer.Option(help="Frame size HxW, the same as `extract --size` later.")
    ] = "96x160",
    split: Annotated[str, typer.Option(help="Split to train on (report results: train).")] = (
        "train"
    ),
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="Pairs per step.")] = None,
    lr: Annotated[float | None, typer.Option()] = None,
    frames_per_query: Annotated[
        int | None, typer.Option(min=1, help="GT frames per query, evenly over its tube.")
    ] = None,
    region_weight: Annotated[
        float | None,
        typer.Option(min=0, help="Weight of the sentence vs GT-box patch tokens term (0: off)."),
    ] = None,
    max_shift: Annotated[
        int | None, typer.Option(min=0, help="Random translation of each frame, pixels.")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    output: Annotated[
        Path | None,
        typer.Option(help="Directory to write (default: WORKSPACE/models/vit-synth/D-ARCH)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train a CLIP-style ViT's image tower contrastively (frame CLS vs sentence) on DATASET's
    train frames: the offline substitute for pretrained CLIP weights; load it with
    `stvg extract --features vit --weights vit=DIR`."""
    from stvgdata.extractors.vit_pretrain import VitPretrainConfig, run_vit_pretraining

    given = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "frames_per_query": frames_per_query,
        "region_weight": region_weight,
        "max_shift": max_shift,
    }
    config = dataclasses.replace(
        VitPretrainConfig(
            dataset=dataset,
            arch=arch,
            frame_size=parse_size(size),
            split=split,
            seed=seed,
            output=output,
        ),
        **{k: v for k, v in given.items() if v is not None},
    )
    with RichProgress(transient=True) as progress:
        summary = run_vit_pretraining(workspace_of(ctx), config, progress)
    record = dataclasses.asdict(summary)
    if as_json:
        typer.echo(json.dumps(record))
    else:
        for key, value in record.items():
            console.print(f"{key}: {value}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``pretrain-vit`` (train/ablate --method stop go through cli.methods)."""
    app.command("pretrain-vit")(pretrain_vit_cmd)
