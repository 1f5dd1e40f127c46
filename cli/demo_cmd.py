"""``stvg demo``: the whole pipeline on a small synthetic dataset, ending with an ablation table."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

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
    render_ablation_result,
    render_arrow,
    workspace_of,
)
from stvg.cli.heads_cmds import render_ablation
from stvg.stvgdata.importer import catalog_summary
from stvg.stvgdata.workspace import Workspace

# Epochs at most, epochs without val improvement before a run stops, and frames sampled per
# query: what lets the four variants learn within 15 minutes on 2 cores (docs/synthetic.md).
DEMO_EPOCHS, DEMO_PATIENCE, DEMO_MAX_FRAMES = 6, 2, 8

if TYPE_CHECKING:
    from stvg.heads.eval.ablation import AblationResult
    from stvg.stvgdata.demo import DemoData, DemoDataConfig


def demo_command(
    ctx: typer.Context,
    videos: Annotated[
        int | None, typer.Option(help="Synthetic videos to generate [default: 160].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    seeds: Annotated[int, typer.Option(help="Training seeds per variant (mean ± sample std).")] = 1,
    epochs: Annotated[
        int | None,
        typer.Option(
            help=f"Most training epochs; each run stops earlier on a val plateau "
            f"[default: {DEMO_EPOCHS}]."
        ),
    ] = None,
    full_backbones: Annotated[
        bool,
        typer.Option(
            "--full-backbones",
            help="Extract with full-size ResNet-101/SlowFast-R50/RoBERTa-base (slow on CPU).",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    random_init: Annotated[
        bool,
        typer.Option(
            "--random-init/--pretrained",
            help="Seeded random backbones (the tiny ones have no published weights); "
            "--pretrained with --full-backbones loads the hubs' weights.",
        ),
    ] = True,
) -> None:
    """The whole pipeline on synthetic data: synth, import, extract, Table 3 ablation, report.

    A VidSTG-layout dataset is written under the workspace (reused on re-runs), imported, its
    features cached (resumed on re-runs), and the four collaboration variants trained (small
    preset, best-on-val checkpoint) and scored on the held-out test split beside trivial
    baselines (mean train box, GT tube with the mean box, random tube).
    """
    from stvg.heads.eval.baselines import score_baselines
    from stvg.heads.registry import get_method
    from stvg.heads.settings import configure
    from stvg.stvgdata.demo import DEMO_DATASET, DemoDataConfig, prepare_demo_data

    ws = workspace_of(ctx)
    data_config = DemoDataConfig(
        seed=seed, tiny_backbones=not full_backbones, random_init=random_init
    )
    if videos is not None:
        data_config = dataclasses.replace(data_config, videos=videos)
    csdvl = get_method("csdvl")
    schedule = {"epochs": epochs or DEMO_EPOCHS, "val_split": "val", "patience": DEMO_PATIENCE}
    schedule["max_frames"] = DEMO_MAX_FRAMES
    config = configure(csdvl.default_config(), schedule, {})
    with RichProgress(transient=True) as progress:
        data = prepare_demo_data(ws, data_config, progress)
        result = csdvl.ablate(ws, DEMO_DATASET, config, list(range(seeds)), "test", progress)
    result.add_baselines(score_baselines(ws, DEMO_DATASET, "test", result.protocol))
    fmt = output_format(fmt, as_json)
    if fmt is OutputFormat.json:
        catalog = catalog_summary(ws).to_pylist()
        print_json({"workspace": ws.root, "data": data.root, "catalog": catalog} | result.to_dict())
    else:  # csv: the ablation, one row per variant
        render_ablation_result(result, fmt, lambda: _report(ws, data, data_config, result))


def _report(
    ws: Workspace, data: DemoData, data_config: DemoDataConfig, result: AblationResult
) -> None:
    """Where the data went, the catalog, what was extracted, the ablation, how to query it."""
    console.print(f"workspace: {ws.root}\ndata: {data.root}", highlight=False)
    render_arrow(catalog_summary(ws), OutputFormat.table, title="catalog")
    console.print(
        f"features: {data.extracted.frames} frames extracted now "
        f"({sum(m.cached for m in data.extracted.models)} items already cached)",
        highlight=False,
    )
    print_random_init_line(data.extracted.random_init)
    console.print(data_config.describe(), highlight=False)
    render_ablation(result)
    console.print(
        f'Query the runs: stvg --workspace {ws.root} sql "SELECT variant, m_viou, m_tiou, '
        "m_siou FROM runs WHERE sentence_type = 'all'\"",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
