"""``stvg train`` and ``stvg ablate``: thin wrappers over ``heads.csdvl.train`` and
``heads.csdvl.ablate`` (torch is imported only when one of them runs)."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer
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
    render_ablation_result,
    render_record,
    workspace_of,
)
from stvg.heads.distributed import is_rank_zero
from stvg.heads.registry import get_method, method_names, train_run
from stvg.heads.settings import configure, parse_overrides
from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.errors import BadInputError

if TYPE_CHECKING:
    from stvg.heads.eval.compare import Comparison


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


class AnchorName(StrEnum):
    none = "none"
    static = "static"
    static_d2s = "static+d2s"


AnchorOpt = Annotated[
    AnchorName | None,
    typer.Option(
        "--anchor",
        help="Box anchor. none: the paper's plain MLP head (stays on the mean box without "
        "MDETR's initialization); static [default]: box centre relative to the static "
        "attention, the same for every variant; static+d2s: that attention re-weighted by "
        "d2s's (not in the paper; named in the variant). See docs/heads.md.",
    ),
]
ValSplit = Annotated[
    str | None,
    typer.Option(help="Validate on this split every epoch and keep the best-on-val checkpoint."),
]
Patience = Annotated[
    int | None, typer.Option(help="Stop after this many epochs without val improvement.")
]
Method = Annotated[
    str,
    typer.Option("--method", help=f"Head: {', '.join(method_names())} (e3m: ablate only)."),
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
    typer.Option(
        "--set", metavar="KEY=VALUE", help="A setting of the method's config (repeatable)."
    ),
]


CSDVL = "csdvl"
# retrieval metrics besides METRIC_COLUMNS: runs column -> label; all but MdR in percent
RETRIEVAL_COLUMNS = (
    ("r_at_1", "R@1"),
    ("r_at_5", "R@5"),
    ("r_at_10", "R@10"),
    ("median_rank", "MdR"),
    ("accuracy", "Acc"),
)
NOT_PERCENT = ("median_rank",)


def base_config(method: str, preset_name: PresetName) -> Any:
    """The method's default configuration; CSDVL's is its ``--preset``."""
    if method == CSDVL:
        from stvg.heads.csdvl.config import preset

        return preset(preset_name.value)
    return get_method(method).default_config()


def feature_set(frame: str | None, clip: str | None, text: str | None) -> FeatureSet | None:
    """The default FeatureSet with the models the user chose; None when none was chosen (the
    loader checks the names and says which are usable)."""
    given = (("frame", frame), ("clip", clip), ("text", text))
    chosen = {name: model for name, model in given if model}
    return dataclasses.replace(FeatureSet(), **chosen) if chosen else None


def reject_csdvl_only(method: str, given: dict[str, bool]) -> None:
    """One-line error when a CSDVL-only flag (name -> was it given) comes with another method."""
    flag = next((name for name, used in given.items() if used), None)
    if flag is not None:
        raise BadInputError(flag, method, "is a csdvl option; use --set KEY=VALUE for this method")


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
    val_split: ValSplit = None,
    patience: Patience = None,
    device: Device = "cpu",
    num_workers: Workers = 0,
    no_s2d: NoS2D = False,
    no_d2s: NoD2S = False,
    fusion: Annotated[
        Fusion | None, typer.Option(help="Replace collaboration by a Table 5 baseline.")
    ] = None,
    no_spatial: NoSpatial = False,
    no_mean_pool: NoMeanPool = False,
    anchor: AnchorOpt = None,
    collab_warmup: CollabWarmup = None,
    frame_features: FrameFeatures = None,
    clip_features: ClipFeatures = None,
    text_features: TextFeatures = None,
    resume: Annotated[
        str | None, typer.Option(help="Resume this csdvl run id from its last checkpoint.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    method: Method = CSDVL,
    set_: SetOpt = None,
    eval_split: Annotated[
        str | None,
        typer.Option(
            help="Non-csdvl methods: split scored after training (default: test, else val)."
        ),
    ] = None,
) -> None:
    """Train a head on cached features (CSDVL by default); its run goes to runs/<run_id>/."""
    from stvg.heads.eval.evaluate import default_eval_split

    features = feature_set(frame_features, clip_features, text_features)
    csdvl_options = {
        "d_model": d_model,
        "num_layers": layers,
        "max_frames": max_frames,
        "val_split": val_split,
        "patience": patience,
        "s2d": False if no_s2d else None,
        "d2s": False if no_d2s else None,
        "fusion": fusion.value if fusion else None,
        "dynamic_spatial": False if no_spatial else None,
        "dynamic_mean_pool": False if no_mean_pool else None,
        "anchor": anchor.value if anchor else None,
        "collab_warmup": collab_warmup,
        "features": features,
    }
    overrides = parse_overrides(set_ or [])
    if method != CSDVL:
        get_method(method)
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
                "--anchor": anchor is not None,
                "--collab-warmup": collab_warmup is not None,
                "--frame-features": frame_features is not None,
                "--clip-features": clip_features is not None,
                "--text-features": text_features is not None,
                "--resume": resume is not None,
            },
        )
        csdvl_options = {}
    elif eval_split is not None:
        raise BadInputError("--eval-split", eval_split, "csdvl scores runs with `stvg eval --run`")
    ws = workspace_of(ctx)
    if resume is not None:
        from stvg.heads.csdvl.train import resume_run

        if features is not None or overrides:
            raise BadInputError("--resume", resume, "a resumed run keeps what it was trained on")
        with RichProgress(transient=True) as progress:
            run = resume_run(ws, dataset, resume, epochs, progress)
    else:
        common = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
        common |= {"device": device, "num_workers": num_workers}
        config = configure(base_config(method, preset_name), common | csdvl_options, overrides)
        split = eval_split or (None if method == CSDVL else default_eval_split(ws, dataset))
        with RichProgress(transient=True) as progress:
            run = train_run(get_method(method), ws, dataset, config, split, progress)
    from stvg.heads.runs import is_random_init

    if not is_rank_zero():  # under torchrun: one summary, from rank 0
        return
    record = {"run_id": run.run_id, "variant": run.variant, **run.result}
    render_record(record, output_format(fmt, as_json), f"{dataset} {method}")
    print_random_init_line(is_random_init(run.features), output_format(fmt, as_json))


def _cell(mean: float, std: float, seeds: int, percent: bool) -> str:
    if mean != mean:  # NaN: no seed had this metric
        return "-"
    scale = 100 if percent else 1
    text = f"{scale * mean:.1f}"
    return text if seeds == 1 or std != std else f"{text} ± {scale * std:.1f}"


def render_ablation(result, title: str = "CSDVL") -> None:  # noqa: ANN001 - AblationResult
    """Paper-style table: one row per variant, the method's metrics (fractions in percent),
    mean ± sample std over seeds, then any trivial baselines (dimmed); below it, each variant's
    paired per-query difference from the baseline variant."""
    seeds = len(result.variants[0].seeds) if result.variants else 0
    metrics = result.variants[0].metrics if result.variants else ()
    labels = dict(METRIC_COLUMNS + RETRIEVAL_COLUMNS)
    table = Table(
        title=f"{title} ablation - {result.dataset} {result.split} - protocol {result.protocol}"
        f" - {seeds} seed(s)" + (f"\n{result.setting}" if result.setting else ""),
        caption="mean ± sample std over seeds" if seeds > 1 else None,
    )
    table.add_column("variant", overflow="fold")  # a long variant name folds, metrics stay whole
    for metric in metrics:
        table.add_column(labels.get(metric, metric), justify="right", no_wrap=True)
    for variant in result.variants:
        cells = [
            _cell(variant.mean(m), variant.std(m), seeds, m not in NOT_PERCENT) for m in metrics
        ]
        table.add_row(variant.variant, *cells)
    if result.baselines:
        table.add_section()
    for baseline in result.baselines:  # trivial predictors on the same split
        cells = [_cell(baseline.mean(m), float("nan"), 1, m not in NOT_PERCENT) for m in metrics]
        table.add_row(baseline.variant, *cells, style="dim")
    console.print(table)
    if result.paired:
        render_paired(result.paired, result.baseline)


def render_paired(paired: dict[str, Comparison], baseline: str | None) -> None:
    """Each variant against ``baseline`` on the same queries (percent points of vIoU)."""
    first = next(iter(paired.values()))
    table = Table(
        title=f"paired per-query vIoU against {baseline} - {first.queries} queries - "
        f"{first.confidence:.0%} bootstrap interval"
    )
    for name in ("variant", "Δ m_vIoU", "interval", "better / worse / tied"):
        table.add_column(name, justify="left" if name == "variant" else "right")
    for name, c in paired.items():
        interval = f"[{100 * c.low:+.1f}, {100 * c.high:+.1f}]"
        counts = f"{c.better} / {c.worse} / {c.ties}"
        table.add_row(name, f"{100 * c.difference:+.1f}", interval, counts)
    console.print(table)


def ablate_command(
    ctx: typer.Context,
    dataset: Dataset,
    no_s2d: NoS2D = False,
    no_d2s: NoD2S = False,
    fusion: Annotated[
        list[Fusion] | None,
        typer.Option(
            metavar="sum|fc-sum|concat-fc", help="Table 5 baseline(s) to compare (repeatable)."
        ),
    ] = None,
    no_spatial: NoSpatial = False,
    no_mean_pool: NoMeanPool = False,
    seeds: Annotated[int, typer.Option(help="Seeds per variant (0..K-1): mean ± sample std.")] = 1,
    preset_name: PresetOpt = PresetName.small,
    d_model: DModel = None,
    layers: Layers = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    max_frames: MaxFrames = None,
    val_split: ValSplit = None,
    patience: Patience = None,
    anchor: AnchorOpt = None,
    collab_warmup: CollabWarmup = None,
    frame_features: FrameFeatures = None,
    clip_features: ClipFeatures = None,
    text_features: TextFeatures = None,
    split: Annotated[
        str | None,
        typer.Option("--eval-split", help="Evaluation split (default: test, else val)."),
    ] = None,
    protocol: Annotated[str, typer.Option(help="sampled-5fps or all-frames.")] = "all-frames",
    device: Device = "cpu",
    num_workers: Workers = 0,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    method: Method = CSDVL,
    set_: SetOpt = None,
) -> None:
    """Train and evaluate ablation variants (no flags: the paper's Table 3 grid; another
    --method: that method's own grid).

    The protocol a reviewer accepts: --val-split val --patience P keeps each run's best-on-val
    checkpoint and scores it on the evaluation split (test); the table shows mean ± sample std
    over --seeds and, per variant, the paired per-query vIoU difference against "none" with
    its 95% bootstrap interval (as stvg compare)."""
    from stvg.heads.eval.evaluate import default_eval_split

    if seeds < 1:
        raise BadInputError("--seeds", seeds, "must be at least 1")
    chosen = get_method(method)
    options: dict[str, Any] = {}
    csdvl_options = {
        "d_model": d_model,
        "num_layers": layers,
        "max_frames": max_frames,
        "val_split": val_split,
        "patience": patience,
        "anchor": anchor.value if anchor else None,
        "collab_warmup": collab_warmup,
        "features": feature_set(frame_features, clip_features, text_features),
    }
    if method != CSDVL:
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
                "--val-split": val_split is not None,
                "--patience": patience is not None,
                "--anchor": anchor is not None,
                "--collab-warmup": collab_warmup is not None,
                "--frame-features": frame_features is not None,
                "--clip-features": clip_features is not None,
                "--text-features": text_features is not None,
                "--protocol": protocol != "all-frames",
            },
        )
        csdvl_options = {}
    else:
        from stvg.heads.csdvl.ablate import selected_variants

        fusions = [f.value for f in fusion or []]
        variants = selected_variants(no_s2d, no_d2s, fusions, no_spatial, no_mean_pool)
        options = {"variants": variants, "protocol": protocol}
    common = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "device": device}
    common |= {"num_workers": num_workers}
    config = configure(
        base_config(method, preset_name), common | csdvl_options, parse_overrides(set_ or [])
    )
    ws = workspace_of(ctx)
    eval_split = split or default_eval_split(ws, dataset)
    with RichProgress(transient=True) as progress:
        result = chosen.ablate(
            ws, dataset, config, list(range(seeds)), eval_split, progress, **options
        )
    from stvg.heads.runs import is_random_init, recorded_features

    if not is_rank_zero():
        return
    draw = partial(render_ablation, result, chosen.title)
    render_ablation_result(result, output_format(fmt, as_json), draw)
    run_ids = [run_id for variant in result.variants for run_id in variant.run_ids]
    random_init = is_random_init(recorded_features(ws, run_ids))
    print_random_init_line(random_init, output_format(fmt, as_json))


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``ablate`` to ``app``."""
    app.command("train")(train_command)
    app.command("ablate")(ablate_command)
