"""``stvg extract`` and ``stvg verify``: thin wrappers over ``stvgdata.extract`` and
``stvgdata.cache.verify`` (imported inside the commands so other commands stay light)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

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
    print_random_init_line,
    render_arrow,
    workspace_of,
)
from stvg.cli.flags import config_options
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import EXTRACTORS  # the registry only: no torch

EXIT_MISMATCH = 1
REDO_LINES = 20  # items listed when extract recomputes cached ones; the rest are counted


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` -> (H, W)."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise BadInputError("--size", text, "expected HxW, e.g. 224x384") from None
    return height, width


def parse_weights(entries: list[str]) -> dict[str, str]:
    """``MODEL=NAME_OR_PATH`` entries -> {model: name or path}."""
    weights = {}
    for entry in entries:
        model, sep, path = entry.partition("=")
        if not sep or not model or not path:
            raise BadInputError(
                "--weights", entry, "expected MODEL=PATH or MODEL=NAME, e.g. resnet101=r101.pth"
            )
        weights[model.strip()] = path.strip()
    return weights


def _summary_table(summary, fmt: OutputFormat) -> pa.Table:
    """One row per model; a table shows sizes and (dry run) times in human units and drops the
    dry-run columns of a real run."""
    rows = [dataclasses.asdict(model) for model in summary.models]
    if fmt is OutputFormat.table:
        from stvg.stvgdata.extract_plan import human_bytes, human_seconds

        for row in rows:
            row["bytes"] = human_bytes(row["bytes"])
            seconds, replaces = row.pop("est_seconds"), row.pop("replaces")
            if summary.dry_run:
                row["est_time"] = human_seconds(seconds)
                row["replaces"] = replaces
    return pa.Table.from_pylist(rows)


def extract(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="Dataset in the catalog: vidstg, hcstvg-v1, ...")],
    features: Annotated[
        str,
        typer.Option(help=f"Comma-separated models to extract, of: {', '.join(EXTRACTORS)}."),
    ] = "resnet101,slowfast,roberta",
    split: Annotated[
        list[str] | None,
        typer.Option(metavar="SPLIT", help="Only these splits (repeatable; default: all)."),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(help="Sampling rate in fps (default: 5, see docs/feature-cache.md)."),
    ] = None,
    size: Annotated[str | None, typer.Option(help="Frame size HxW (default: 224x384).")] = None,
    weights: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MODEL=NAME_OR_PATH",
            help="A model's weights (repeatable). Default: the standard pretrained weights "
            "through each hub's cache: resnet101=IMAGENET1K_V2 (torchvision; or IMAGENET1K_V1, "
            "a .pth, an MDETR checkpoint), "
            "slowfast=slowfast_r50 (pytorchvideo Kinetics; or slowfast_r101), "
            "roberta=roberta-base (Hugging Face name or directory), "
            "vit=openai/clip-vit-base-patch32 (or ViT-B-32/openai). "
            "Offline (HF_HUB_OFFLINE=1) only cached copies.",
        ),
    ] = None,
    random_init: Annotated[
        bool,
        typer.Option(
            "--random-init",
            help="Seeded random weights for the models without --weights (tests, demos: "
            "features meaningless for research).",
        ),
    ] = False,
    num_shards: Annotated[
        int | None,
        typer.Option(help="Processes sharing the work (default: WORLD_SIZE, SLURM array size, 1)."),
    ] = None,
    shard_index: Annotated[
        int | None,
        typer.Option(help="This process's index, 0..N-1 (default: RANK, SLURM array task, 0)."),
    ] = None,
    device: Annotated[
        str, typer.Option(help="Torch device: auto (cuda if available), cpu, cuda, cuda:1, ...")
    ] = "auto",
    batch_size: Annotated[
        int, typer.Option(help="Frames per forward across videos (whole SlowFast clips).")
    ] = 32,
    clip_frames: Annotated[
        int, typer.Option(help="Clip length in sampled frames (slowfast, vl-synth-motion-map).")
    ] = 32,
    decode_threads: Annotated[
        int | None,
        typer.Option(
            help="Background decoding threads (default: this process's share of the CPU "
            "cores minus one, at most 8)."
        ),
    ] = None,
    autocast: Annotated[
        str | None,
        typer.Option(help="Mixed-precision forward of frame models: bfloat16 or float16 (CUDA)."),
    ] = None,
    dtype: Annotated[str, typer.Option(help="Stored dtype: float16 or float32.")] = "float16",
    compression: Annotated[str, typer.Option(help="HDF5 compression: none, lzf or gzip.")] = "none",
    shard_items: Annotated[
        int, typer.Option(help="Rotate shards after this many videos/queries.")
    ] = 512,
    checksum: Annotated[
        bool,
        typer.Option(help="fletcher32 per chunk: verify --deep finds damaged shards."),
    ] = True,
    dry_run: Annotated[
        bool, typer.Option(help="Print the work and storage estimate only.")
    ] = False,
    tiny: Annotated[bool, typer.Option(help="Tiny networks (tests and demos).")] = False,
    vit_arch: Annotated[
        str, typer.Option(help="vit shape with --random-init: b32 (CLIP ViT-B/32) or mini.")
    ] = "b32",
    vit_layer: Annotated[
        int | None, typer.Option(help="vit: cache tokens after this layer (default: half).")
    ] = None,
    replace_model_cache: Annotated[
        bool,
        typer.Option(help="Drop cached features of these models made with another fingerprint."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Extract missing features of a dataset into the cache (resumable, shardable)."""
    from stvg.stvgdata.cache import StorageConfig
    from stvg.stvgdata.extract import ExtractConfig, run_extraction
    from stvg.stvgdata.launch import work_split

    storage = StorageConfig(
        dtype, None if compression == "none" else compression, max_items=shard_items,
        checksum=checksum,
    )  # fmt: skip
    parsed = {
        "splits": tuple(split or ()),
        "models": tuple(m.strip() for m in features.split(",") if m.strip()),
        "input_size": parse_size(size) if size else None,
        "weights": parse_weights(weights or []),
        "storage": storage,
        "split": work_split(num_shards, shard_index),
    }
    config = ExtractConfig(**config_options(ExtractConfig, ctx.params) | parsed)
    fmt = output_format(fmt, as_json)
    with RichProgress(transient=fmt is not OutputFormat.table) as progress:
        summary = run_extraction(workspace_of(ctx), config, progress)
    render_extraction(summary, config, fmt)


def render_extraction(summary, config, fmt: OutputFormat) -> None:  # noqa: ANN001 - stvgdata
    """The redone items, the per-model table (or JSON), and a real run's totals."""
    if summary.redo and fmt is OutputFormat.table:
        _print_redo(summary.redo, config.dry_run)
    if fmt is OutputFormat.json:
        print_json(dataclasses.asdict(summary))
        return
    title = (
        f"{'dry run: ' if config.dry_run else ''}{config.dataset} at {config.target_fps:g} fps, "
        f"{'x'.join(map(str, config.frame_size))}, "
        f"shard {config.split.shard_index}/{config.split.num_shards}"
    )
    render_arrow(_summary_table(summary, fmt), fmt, title=title)
    print_random_init_line(summary.random_init, fmt)
    if fmt is OutputFormat.table and not config.dry_run:
        console.print(
            f"{summary.shards} shards written, {len(summary.failures)} failures "
            f"(see `stvg sql \"SELECT * FROM failures WHERE stage = 'extract'\"`), "
            f"{summary.frames} frames in {summary.seconds:.1f} s "
            f"({summary.frames_per_second:.1f} frames/s)",
            highlight=False,
        )


def _problem_line(problem) -> str:  # noqa: ANN001 - stvgdata.cache.Problem
    """One line per problem: what, which item, where."""
    what = f"{problem.dataset}/{problem.model} {problem.item}" if problem.item else problem.dataset
    where = f" [{problem.shard}]" if problem.shard else ""
    return f"problem: {what}: {problem.reason}{where}"


def _print_redo(redo: list, dry_run: bool) -> None:
    """Name the cached items extract computes again, and why."""
    verb = "would recompute" if dry_run else "recomputed"
    console.print(f"{verb} {len(redo)} cached items:", highlight=False)
    for entry in redo[:REDO_LINES]:
        console.print(
            f"  {entry.model} {entry.item}: {entry.reason}", markup=False, highlight=False
        )
    if len(redo) > REDO_LINES:
        console.print(f"  ... and {len(redo) - REDO_LINES} more", highlight=False)


def verify(
    ctx: typer.Context,
    deep: Annotated[bool, typer.Option(help="Also read every row and check for NaN/inf.")] = False,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Check every manifest row (features and region sets) against its shard; exit 1 on any
    mismatch."""
    from stvg.stvgdata.cache import verify_cache

    fmt = output_format(fmt, as_json)
    with RichProgress(transient=True) as progress:
        report = verify_cache(workspace_of(ctx), deep=deep, dataset=dataset, progress=progress)
    if fmt is OutputFormat.json:
        print_json({**dataclasses.asdict(report), "ok": report.ok})
    elif fmt is OutputFormat.csv:
        render_arrow(_problem_table(report.problems), fmt)
    else:
        _print_verify_report(report, deep)
    if not report.ok:
        raise typer.Exit(EXIT_MISMATCH)


def _problem_table(problems: list) -> pa.Table:
    """One row per problem (every column a string, also with no problems)."""
    from stvg.stvgdata.cache import Problem

    return pa.Table.from_pylist(
        [dataclasses.asdict(p) for p in problems],
        schema=pa.schema([(f.name, pa.string()) for f in dataclasses.fields(Problem)]),
    )


def _print_verify_report(report, deep: bool) -> None:  # noqa: ANN001 - stvgdata.cache
    """A line per problem, the totals, warnings about unchecked rows, and what happens next."""
    for problem in report.problems:
        console.print(_problem_line(problem), markup=False, highlight=False, soft_wrap=True)
    status = "OK" if report.ok else f"{len(report.problems)} PROBLEMS"
    console.print(
        f"{status}: {report.rows_checked} manifest rows in {report.shards_checked} shards "
        f"checked{' deeply' if deep else ''}; {len(report.unreferenced)} unreferenced "
        "shard files",
        highlight=False,
    )
    if report.no_checksum:
        console.print(
            f"warning: {report.no_checksum} rows are stored without checksums "
            "(--no-checksum or an older cache): --deep can't see damaged bytes in them",
            highlight=False,
        )
    if report.no_digest:
        console.print(
            f"warning: {report.no_digest} rows were cached before input digests were "
            "recorded, so changed inputs can't be told; `stvg extract` recomputes them",
            highlight=False,
        )
    if report.problems:
        where = (
            "`stvg extract` recomputes these items"
            if report.recorded
            else "read-only workspace: the problems were not recorded for `stvg extract`"
        )
        console.print(where, highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(extract)
    app.command()(verify)
