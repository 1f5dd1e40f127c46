"""``stvg train``, ``stvg ablate`` and ``stvg show``: thin wrappers over ``heads.csdvl.train``,
``heads.csdvl.ablate`` and ``heads.csdvl.show`` (torch is imported only when one of them runs)."""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import METRIC_COLUMNS, RichProgress, console, workspace_of
from cli.methods import MethodArgs, method_commands, parse_overrides, reject_csdvl_only
from schemas.batch import FeatureSet
from stvgdata.errors import BadInputError


class PresetName(StrEnum):
    small = "small"
    paper = "paper"


class Fusion(StrEnum):
    sum = "sum"
    fc_sum = "fc-sum"
    concat_fc = "concat-fc"


Dataset = Annotated[str, typer.Option(help="Dataset name in the catalog (features extracted).")]
PresetOpt = Annotated[
    PresetName,
    typer.Option("--preset", help="small: minutes on 2 CPU cores; paper: the paper's sizes."),
]
DModel = Annotated[int | None, typer.Option("--d-model", help="Model width d (default: preset's).")]
Layers = Annotated[
    int | None, typer.Option("--layers", help="Layers N of both streams (default: preset's).")
]
Epochs = Annotated[int | None, typer.Option(help="Training epochs (default: the preset's).")]
BatchSize = Annotated[int | None, typer.Option(help="Queries per batch (default: the preset's).")]
LearningRate = Annotated[float | None, typer.Option("--lr", help="AdamW learning rate.")]
MaxFrames = Annotated[int | None, typer.Option(help="Sampled frames per query at most.")]
Workers = Annotated[int, typer.Option(help="DataLoader workers reading the cache.")]
Device = Annotated[str, typer.Option(help="torch device: cpu, cuda, cuda:1, ...")]
NoS2D = Annotated[bool, typer.Option("--no-s2d", help="Drop static-to-dynamic transmission.")]
NoD2S = Annotated[bool, typer.Option("--no-d2s", help="Drop dynamic-to-static transmission.")]
NoSpatial = Annotated[
    bool, typer.Option("--no-spatial", help="Dynamic stream on spatially mean-pooled input.")
]
NoMeanPool = Annotated[
    bool, typer.Option("--no-mean-pool", help="Text attends all T*H*W dynamic tokens.")
]
CollabWarmup = Annotated[
    int | None,
    typer.Option(
        "--collab-warmup",
        help="Train this many epochs with the stream exchange off first (warm start for the "
        "static stream; default 0, the paper's schedule).",
    ),
]
D2SAnchor = Annotated[
    bool | None,
    typer.Option(
        "--d2s-anchor/--no-d2s-anchor",
        help="Anchor each box on the static attention re-weighted by d2s's attention, so the "
        "box loss trains where d2s looks (default on; off: the static attention alone; no "
        "effect without d2s; see docs/heads.md).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Method = Annotated[
    str,
    typer.Option("--method", help="Head: csdvl, stop, e3m (ablate only) or cospal."),
]
FrameFeatures = Annotated[
    str | None,
    typer.Option(
        "--frame-features",
        help="Cached model for the static stream's frame maps (default: resnet101). "
        "vl-synth-map: text-aligned substitute for MDETR's grounded backbone "
        "(see docs/heads.md).",
    ),
]
ClipFeatures = Annotated[
    str | None,
    typer.Option(
        "--clip-features",
        help="Cached model for the dynamic stream's clip maps (default: slowfast); must be on "
        "the frame maps' grid. vl-synth-motion-map: motion-aware substitute for SlowFast.",
    ),
]
TextFeatures = Annotated[
    str | None,
    typer.Option(
        "--text-features",
        help="Cached model for the query tokens (default: roberta). vl-synth-text: the "
        "substitute's text tower, aligned with vl-synth-map.",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="KEY=VALUE setting of a non-csdvl method's config (repeatable)."),
]


def build_configs(preset_name: PresetName, model: dict[str, Any], train: dict[str, Any]):
    """The preset's configs with the options the user gave (None = keep the preset's)."""
    from heads.csdvl.config import preset

    chosen = preset(preset_name.value)
    try:
        model_config = dataclasses.replace(
            chosen.model, **{k: v for k, v in model.items() if v is not None}
        )
    except ValueError as exc:
        raise BadInputError("options", None, str(exc)) from None
    train_config = dataclasses.replace(
        chosen.train, **{k: v for k, v in train.items() if v is not None}
    )
    return model_config, train_config


def feature_set(frame: str | None, clip: str | None, text: str | None) -> FeatureSet | None:
    """The default FeatureSet with the models the user chose; None when none was chosen (the
    loader checks the names and says which are usable)."""
    given = (("frame", frame), ("clip", clip), ("text", text))
    chosen = {name: model for name, model in given if model}
    return dataclasses.replace(FeatureSet(), **chosen) if chosen else None


def train_command(
    ctx: typer.Context,
    dataset: Dataset,
    preset_name: PresetOpt = PresetName.small,
    d_model: DModel = None,
    layers: Layers = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    max_frames: MaxFrames = None,
    seed: Annotated[int, typer.Option(help="Seed of initialization, shuffling, dropout.")] = 0,
    val_split: Annotated[
        str | None, typer.Option(help="Validate on this split every epoch (keeps the best).")
    ] = None,
    patience: Annotated[
        int | None, typer.Option(help="Stop after this many epochs without val improvement.")
    ] = None,
    device: Device = "cpu",
    num_workers: Workers = 0,
    no_s2d: NoS2D = False,
    no_d2s: NoD2S = False,
    fusion: Annotated[
        Fusion | None, typer.Option(help="Replace collaboration by a Table 5 baseline.")
    ] = None,
    no_spatial: NoSpatial = False,
    no_mean_pool: NoMeanPool = False,
    d2s_anchor: D2SAnchor = None,
    collab_warmup: CollabWarmup = None,
    frame_features: FrameFeatures = None,
    clip_features: ClipFeatures = None,
    text_features: TextFeatures = None,
    resume: Annotated[
        str | None, typer.Option(help="Resume this run id from its last checkpoint.")
    ] = None,
    as_json: AsJson = False,
    method: Method = "csdvl",
    set_: SetOpt = None,
    eval_split: Annotated[
        str | None,
        typer.Option(
            help="Non-csdvl methods: split scored after training (default: test, else val)."
        ),
    ] = None,
) -> None:
    """Train a head on cached features (CSDVL by default); checkpoints go to runs/<run_id>/."""
    from heads.csdvl.train import read_run_config, train

    if method != "csdvl":
        reject_csdvl_only(
            method,
            {
                "--preset": preset_name is not PresetName.small,
                "--d-model": d_model is not None,
                "--layers": layers is not None,
                "--max-frames": max_frames is not None,
                "--val-split": val_split is not None,
                "--patience": patience is not None,
                "--no-s2d": no_s2d,
                "--no-d2s": no_d2s,
                "--fusion": fusion is not None,
                "--no-spatial": no_spatial,
                "--no-mean-pool": no_mean_pool,
                "--d2s-anchor": d2s_anchor is not None,
                "--collab-warmup": collab_warmup is not None,
                "--frame-features": frame_features is not None,
                "--clip-features": clip_features is not None,
                "--text-features": text_features is not None,
                "--resume": resume is not None,
            },
        )
        args = MethodArgs(
            dataset=dataset,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=device,
            num_workers=num_workers,
            split=eval_split,
            overrides=parse_overrides(set_ or []),
            as_json=as_json,
        )
        method_commands(method, "train")(ctx, args)
        return
    if set_:
        raise BadInputError("--set", set_[0], "csdvl takes its named options, not --set")
    if eval_split is not None:
        raise BadInputError("--eval-split", eval_split, "csdvl scores runs with `stvg eval --run`")
    ws = workspace_of(ctx)
    features = feature_set(frame_features, clip_features, text_features)
    if resume is not None:
        if features is not None:
            raise BadInputError(
                "--resume", resume, "a resumed run reads the features it was trained on"
            )
        model_config, train_config = read_run_config(ws, resume)
        if epochs is not None:
            train_config = dataclasses.replace(train_config, epochs=epochs)
    else:
        model_config, train_config = build_configs(
            preset_name,
            {
                "d_model": d_model,
                "num_layers": layers,
                "s2d": False if no_s2d else None,
                "d2s": False if no_d2s else None,
                "fusion": fusion.value if fusion else None,
                "dynamic_spatial": False if no_spatial else None,
                "dynamic_mean_pool": False if no_mean_pool else None,
                "d2s_anchor": d2s_anchor,
            },
            {
                "epochs": epochs,
                "batch_size": batch_size,
                "lr": lr,
                "max_frames": max_frames,
                "seed": seed,
                "val_split": val_split,
                "patience": patience,
                "collab_warmup": collab_warmup,
                "device": device,
                "num_workers": num_workers,
                "features": features,
            },
        )
    with RichProgress(transient=True) as progress:
        result = train(
            ws, dataset, model_config, train_config, progress, run_id=resume, resume=bool(resume)
        )
    summary = {
        "run_id": result.run_id,
        "variant": model_config.variant_name(),
        "epochs": result.epochs_completed,
        "checkpoint": str(result.checkpoint),
        "best_epoch": result.best_epoch,
        "best_val_m_viou": result.best_val_m_viou,
        "stopped_early": result.stopped_early,
        "final_loss": result.history[-1]["total"] if result.history else None,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            console.print(f"{key}: {value}", highlight=False)


def _cell(mean: float, std: float, seeds: int) -> str:
    return f"{100 * mean:.1f}" if seeds == 1 else f"{100 * mean:.1f} ± {100 * std:.1f}"


def render_ablation(result, method: str = "CSDVL") -> None:  # noqa: ANN001 - AblationResult
    """Paper-style table: one row per variant, metrics in percent, mean ± std over seeds."""
    seeds = len(result.variants[0].seeds) if result.variants else 0
    table = Table(
        title=f"{method} ablation - {result.dataset} {result.split} - protocol {result.protocol}"
        f" - {seeds} seed(s)"
    )
    table.add_column("variant")
    for _, label in METRIC_COLUMNS:
        table.add_column(label, justify="right")
    for variant in result.variants:
        cells = [_cell(variant.mean(m), variant.std(m), seeds) for m, _ in METRIC_COLUMNS]
        table.add_row(variant.variant, *cells)
    console.print(table)


def ablate_command(
    ctx: typer.Context,
    dataset: Dataset,
    no_s2d: NoS2D = False,
    no_d2s: NoD2S = False,
    fusion: Annotated[
        list[Fusion] | None, typer.Option(help="Table 5 baseline(s) to compare (repeatable).")
    ] = None,
    no_spatial: NoSpatial = False,
    no_mean_pool: NoMeanPool = False,
    seeds: Annotated[int, typer.Option(help="Seeds per variant (0..K-1): mean ± std.")] = 1,
    preset_name: PresetOpt = PresetName.small,
    d_model: DModel = None,
    layers: Layers = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    max_frames: MaxFrames = None,
    d2s_anchor: D2SAnchor = None,
    collab_warmup: CollabWarmup = None,
    frame_features: FrameFeatures = None,
    clip_features: ClipFeatures = None,
    text_features: TextFeatures = None,
    split: Annotated[
        str | None, typer.Option(help="Evaluation split (default: test, else val).")
    ] = None,
    protocol: Annotated[str, typer.Option(help="sampled-5fps or all-frames.")] = "all-frames",
    device: Device = "cpu",
    num_workers: Workers = 0,
    as_json: AsJson = False,
    method: Method = "csdvl",
    set_: SetOpt = None,
) -> None:
    """Train and evaluate ablation variants (no flags: the paper's Table 3 grid; another
    --method: that method's own grid)."""
    from heads.csdvl.ablate import run_ablation, selected_variants
    from heads.eval.evaluate import default_eval_split

    if seeds < 1:
        raise BadInputError("--seeds", seeds, "must be at least 1")
    if method != "csdvl":
        reject_csdvl_only(
            method,
            {
                "--no-s2d": no_s2d,
                "--no-d2s": no_d2s,
                "--fusion": bool(fusion),
                "--no-spatial": no_spatial,
                "--no-mean-pool": no_mean_pool,
                "--preset": preset_name is not PresetName.small,
                "--d-model": d_model is not None,
                "--layers": layers is not None,
                "--max-frames": max_frames is not None,
                "--d2s-anchor": d2s_anchor is not None,
                "--collab-warmup": collab_warmup is not None,
                "--frame-features": frame_features is not None,
                "--clip-features": clip_features is not None,
                "--text-features": text_features is not None,
                "--protocol": protocol != "all-frames",
            },
        )
        args = MethodArgs(
            dataset=dataset,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seeds=seeds,
            split=split,
            device=device,
            num_workers=num_workers,
            overrides=parse_overrides(set_ or []),
            as_json=as_json,
        )
        method_commands(method, "ablate")(ctx, args)
        return
    if set_:
        raise BadInputError("--set", set_[0], "csdvl takes its named options, not --set")
    ws = workspace_of(ctx)
    model_config, train_config = build_configs(
        preset_name,
        {"d_model": d_model, "num_layers": layers, "d2s_anchor": d2s_anchor},
        {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "max_frames": max_frames,
            "collab_warmup": collab_warmup,
            "device": device,
            "num_workers": num_workers,
            "features": feature_set(frame_features, clip_features, text_features),
        },
    )
    variants = selected_variants(
        no_s2d, no_d2s, [f.value for f in fusion or []], no_spatial, no_mean_pool
    )
    with RichProgress(transient=True) as progress:
        result = run_ablation(
            ws,
            dataset,
            variants,
            list(range(seeds)),
            model_config,
            train_config,
            progress,
            eval_split=split or default_eval_split(ws, dataset),
            protocol=protocol,
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        render_ablation(result)


def show_command(
    ctx: typer.Context,
    query_id: Annotated[str, typer.Argument(help="Query id from the catalog.")],
    run: Annotated[str, typer.Option("--run", help="Run id or checkpoint file.")],
    out: Annotated[Path, typer.Option("--out", help="Picture to write: FILE.png or FILE.gif.")],
    dataset: Annotated[
        str | None, typer.Option(help="Dataset of the query (when ids repeat).")
    ] = None,
    frames: Annotated[int, typer.Option(help="Frames shown at most.")] = 16,
) -> None:
    """Draw a query's GT and predicted boxes and spans, and its 2D-TAN score map."""
    from heads.csdvl.show import show_query

    result = show_query(workspace_of(ctx), run, query_id, out, dataset, frames)
    prediction = result.prediction
    console.print(
        f"{result.picture} (predicted frames [{prediction.start_frame}, {prediction.end_frame}))"
        f"\n{result.heatmap}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``train``, ``ablate`` and ``show`` to ``app``."""
    app.command("train")(train_command)
    app.command("ablate")(ablate_command)
    app.command("show")(show_command)
