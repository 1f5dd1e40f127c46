"""``stvg train`` and ``stvg ablate``: thin wrappers over ``heads.jobs.train_method`` and
``heads.jobs.ablate_method`` for any registered method (torch is imported only when one runs)."""

from __future__ import annotations

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
from stvg.cli.eval_cmd import ProtocolName
from stvg.heads.distributed import is_rank_zero
from stvg.heads.registry import method_names
from stvg.heads.settings import parse_overrides

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
    PresetName | None,
    typer.Option(
        "--preset", help="small [default]: minutes on 2 CPU cores; paper: the paper's sizes."
    ),
]
DModel = Annotated[int | None, typer.Option("--d-model", help="Model width d (default: preset's).")]
Layers = Annotated[
    int | None, typer.Option("--layers", help="Layers N of both streams (default: preset's).")
]
Epochs = Annotated[int | None, typer.Option(help="Training epochs (default: the preset's).")]
BatchSize = Annotated[int | None, typer.Option(help="Queries per batch (default: the preset's).")]
LearningRate = Annotated[float | None, typer.Option("--lr", help="AdamW learning rate.")]
MaxFrames = Annotated[int | None, typer.Option(help="Sampled frames per query at most.")]
Workers = Annotated[
    int | None, typer.Option(help="DataLoader workers reading the cache [default: 0].")
]
Device = Annotated[str | None, typer.Option(help="torch device: cpu [default], cuda, cuda:1, ...")]
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


def csdvl_options(
    d_model: int | None,
    layers: int | None,
    max_frames: int | None,
    val_split: str | None,
    patience: int | None,
    anchor: AnchorName | None,
    collab_warmup: int | None,
    features: tuple[str | None, str | None, str | None],
) -> dict[str, Any]:
    """The named options that set CSDVL's config: config field -> value (None: not given)."""
    frame, clip, text = features
    return {
        "d_model": d_model,
        "num_layers": layers,
        "max_frames": max_frames,
        "val_split": val_split,
        "patience": patience,
        "anchor": anchor.value if anchor else None,
        "collab_warmup": collab_warmup,
        "features.frame": frame,
        "features.clip": clip,
        "features.text": text,
    }


def switches(
    no_s2d: bool, no_d2s: bool, fusion: object, no_spatial: bool, no_mean_pool: bool
) -> dict[str, Any]:
    """CSDVL's ablation switches as config field -> value (None: not given)."""
    return {
        "s2d": False if no_s2d else None,
        "d2s": False if no_d2s else None,
        "fusion": fusion or None,
        "dynamic_spatial": False if no_spatial else None,
        "dynamic_mean_pool": False if no_mean_pool else None,
    }


def train_command(
    ctx: typer.Context,
    dataset: Dataset,
    preset_name: PresetOpt = None,
    d_model: DModel = None,
    layers: Layers = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    max_frames: MaxFrames = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of initialization, shuffling, dropout [default: 0].")
    ] = None,
    val_split: ValSplit = None,
    patience: Patience = None,
    device: Device = None,
    num_workers: Workers = None,
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
    from stvg.heads.jobs import TrainJob, train_method
    from stvg.heads.runs import is_random_init

    options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    options |= {"device": device, "num_workers": num_workers}
    options |= switches(no_s2d, no_d2s, fusion and fusion.value, no_spatial, no_mean_pool)
    features = (frame_features, clip_features, text_features)
    options |= csdvl_options(
        d_model, layers, max_frames, val_split, patience, anchor, collab_warmup, features
    )
    request = TrainJob(
        method, dataset, preset_name and preset_name.value, options,
        parse_overrides(set_ or []), eval_split, resume,
    )  # fmt: skip
    with RichProgress(transient=True) as progress:
        run = train_method(workspace_of(ctx), request, progress)
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
    preset_name: PresetOpt = None,
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
    protocol: Annotated[
        ProtocolName | None, typer.Option(help="Which frames are scored [default: all-frames].")
    ] = None,
    device: Device = None,
    num_workers: Workers = None,
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
    from stvg.heads.jobs import AblationJob, ablate_method
    from stvg.heads.runs import is_random_init, recorded_features

    options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "device": device}
    options |= {"num_workers": num_workers}
    features = (frame_features, clip_features, text_features)
    options |= csdvl_options(
        d_model, layers, max_frames, val_split, patience, anchor, collab_warmup, features
    )
    fusions = [f.value for f in fusion] if fusion else None
    request = AblationJob(
        method, dataset, preset_name and preset_name.value, options,
        parse_overrides(set_ or []), seeds, split, protocol and protocol.value,
        switches(no_s2d, no_d2s, fusions, no_spatial, no_mean_pool),
    )  # fmt: skip
    ws = workspace_of(ctx)
    with RichProgress(transient=True) as progress:
        result = ablate_method(ws, request, progress)
    if not is_rank_zero():
        return
    draw = partial(render_ablation, result, request.chosen.title)
    render_ablation_result(result, output_format(fmt, as_json), draw)
    run_ids = [run_id for variant in result.variants for run_id in variant.run_ids]
    random_init = is_random_init(recorded_features(ws, run_ids))
    print_random_init_line(random_init, output_format(fmt, as_json))


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``ablate`` to ``app``."""
    app.command("train")(train_command)
    app.command("ablate")(ablate_command)
