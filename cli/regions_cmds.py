"""Region commands: ``stvg train-vl-encoder`` (the offline CLIP substitute) and
``stvg extract-regions`` (region, frame and sentence embeddings into the region cache). The
probe of the cached embeddings is ``stvg diagnose probe-regions`` (cli.diagnose_cmds).

Thin wrappers over ``stvgdata.regions``; see docs/region-features.md.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stvg.cli.cache_cmds import parse_weights
from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    RichProgress,
    output_format,
    render_record,
    workspace_of,
)
from stvg.stvgdata.encoders.config import TrainVLConfig
from stvg.stvgdata.regions.config import RegionExtractConfig, encoder_weights

DATASET_OPTION = typer.Option("--dataset", help="Dataset in the catalog, e.g. vidstg.")
TRAIN = TrainVLConfig(dataset="")
EXTRACT = RegionExtractConfig(dataset="")


class BoxesChoice(StrEnum):
    tubelets = "tubelets"
    detections = "detections"
    both = "both"


def _print(record: dict, fmt: OutputFormat, title: str) -> None:
    record = {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
    render_record(record, fmt, title)


def train_vl_encoder_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, DATASET_OPTION],
    split: Annotated[
        str, typer.Option("--train-split", help="The only split whose crops are used.")
    ] = TRAIN.split,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the pairs.")] = TRAIN.epochs,
    batch_size: Annotated[int, typer.Option(min=2, help="Pairs per step.")] = TRAIN.batch_size,
    frames_per_query: Annotated[
        int, typer.Option(min=1, help="GT frames per query, spread over its tube.")
    ] = TRAIN.frames_per_query,
    negatives: Annotated[
        int, typer.Option(min=0, help="Hard negatives per pair (other objects, same frame).")
    ] = TRAIN.negatives,
    seed: Annotated[int, typer.Option(help="Seed of sampling and initialization.")] = TRAIN.seed,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = TRAIN.threads,
    context_frames: Annotated[
        int,
        typer.Option(
            min=1,
            help="Consecutive sampled frames a region is seen on (1: one frame, like CLIP; "
            "3: t-1, t, t+1, the motion-aware variant).",
        ),
    ] = TRAIN.model.context_frames,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--output",
            help="Directory to save to [default: WORKSPACE/models/stvg-vl-synth/D].",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Train stvg-vl-synth, the small image-text encoder that stands in for CLIP offline, on
    one split's region crops and sentences (results with it are NOT zero-shot)."""
    from stvg.stvgdata.encoders.vl_synth_train import run_vl_training

    config = TrainVLConfig(
        dataset=dataset,
        split=split,
        epochs=epochs,
        batch_size=batch_size,
        frames_per_query=frames_per_query,
        negatives=negatives,
        seed=seed,
        threads=threads,
        output=output,
        model=replace(TRAIN.model, context_frames=context_frames),
    )
    with RichProgress(transient=True) as progress:
        summary = run_vl_training(workspace_of(ctx), config, progress)
    _print(asdict(summary), output_format(fmt, as_json), f"{dataset} stvg-vl-synth")


def extract_regions_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, DATASET_OPTION],
    boxes: Annotated[BoxesChoice, typer.Option(help="Which boxes to embed.")] = (
        BoxesChoice.tubelets
    ),
    encoder: Annotated[
        str, typer.Option(help="stvg-vl-synth (trained by train-vl-encoder) or clip.")
    ] = EXTRACT.encoder,
    weights: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ENCODER=PATH",
            help="clip=<HF CLIP dir or hub name>, or stvg-vl-synth=<dir> "
            "[default for clip: openai/clip-vit-base-patch32 from the Hugging Face cache; "
            "for stvg-vl-synth: the one trained on this dataset].",
        ),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(
            help="Sampling rate for videos without a feature-cache timeline "
            "(default: the dataset's, 5 fps; see docs/feature-cache.md)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Crops per encoder forward.")
    ] = EXTRACT.batch_size,
    device: Annotated[
        str,
        typer.Option(
            help="Where the encoder runs: auto (cuda if a GPU is visible, else cpu), cpu, cuda:1."
        ),
    ] = EXTRACT.device,
    replace_region_cache: Annotated[
        bool, typer.Option(help="Drop the dataset's regions of another encoder first.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Embed every box (tubelets and/or detections) and sampled frame of the dataset's videos and
    every query's sentence into the feature store as region sets; reruns resume."""
    from stvg.stvgdata.regions.extract import run_region_extraction

    config = RegionExtractConfig(
        dataset=dataset,
        boxes=("tubelets", "detections") if boxes is BoxesChoice.both else (boxes.value,),
        encoder=encoder,
        weights=encoder_weights(encoder, parse_weights(weights or [])),
        fps=fps,
        batch_size=batch_size,
        device=device,
        replace_region_cache=replace_region_cache,
    )
    with RichProgress(transient=True) as progress:
        summary = run_region_extraction(workspace_of(ctx), config, progress)
    record = asdict(summary)
    record["failures"] = [f"{f['item']}: {f['error']}" for f in summary.failures]
    _print(record, output_format(fmt, as_json), f"{dataset} regions")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("train-vl-encoder")(train_vl_encoder_cmd)
    app.command("extract-regions")(extract_regions_cmd)
