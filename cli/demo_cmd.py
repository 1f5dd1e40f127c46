"""``stvg demo``: the whole pipeline on a small synthetic dataset, ending with an ablation table;
a thin wrapper over ``heads.demo.run_demo``."""

from __future__ import annotations

from typing import Annotated

import typer

from stvg.cli.cache_cmds import parse_weights
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
from stvg.cli.flags import config_options
from stvg.cli.heads_cmds import render_ablation
from stvg.heads.demo import DemoConfig, DemoResult, run_demo
from stvg.stvgdata.demo import DemoDataConfig
from stvg.stvgdata.importer import catalog_summary
from stvg.stvgdata.workspace import Workspace


def demo_command(
    ctx: typer.Context,
    videos: Annotated[
        int | None,
        typer.Option(help=f"Synthetic videos to generate [default: {DemoDataConfig.videos}]."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    seeds: Annotated[int, typer.Option(help="Training seeds per variant (mean ± sample std).")] = 1,
    epochs: Annotated[
        int | None,
        typer.Option(
            help=f"Most training epochs; each run stops earlier on a val plateau "
            f"[default: {DemoConfig.epochs}]."
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
            help="Seeded random backbones, required with the tiny ones (they have no published "
            "weights); --pretrained with --full-backbones loads the hubs' weights.",
        ),
    ] = False,
    weights: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MODEL=NAME_OR_PATH",
            help="With --full-backbones: a model's weights instead of the hub default "
            "(repeatable; as `stvg extract --weights`, e.g. resnet101=r101.pth).",
        ),
    ] = None,
) -> None:
    """The whole pipeline on synthetic data: synth, import, extract, Table 3 ablation, report.

    A VidSTG-layout dataset is written under the workspace (reused on re-runs), imported, its
    features cached (resumed on re-runs), and the four collaboration variants trained (small
    preset, best-on-val checkpoint) and scored on the held-out test split beside trivial
    baselines (mean train box, GT tube with the mean box, random tube).
    """
    parsed = {"tiny_backbones": not full_backbones, "weights": parse_weights(weights or [])}
    data = DemoDataConfig(**config_options(DemoDataConfig, ctx.params) | parsed)
    config = DemoConfig(data, **config_options(DemoConfig, ctx.params))
    ws = workspace_of(ctx)
    with RichProgress(transient=True) as progress:
        demo = run_demo(ws, config, progress)
    render_demo(ws, demo, config, output_format(fmt, as_json))


def render_demo(ws: Workspace, demo: DemoResult, config: DemoConfig, fmt: OutputFormat) -> None:
    """The report (table), the ablation (CSV: one row per variant), or everything as JSON."""
    if fmt is OutputFormat.json:
        catalog = catalog_summary(ws).to_pylist()
        where = {"workspace": ws.root, "data": demo.data.root, "catalog": catalog}
        print_json(where | demo.ablation.to_dict())
    else:
        render_ablation_result(demo.ablation, fmt, lambda: _report(ws, demo, config))


def _report(ws: Workspace, demo: DemoResult, config: DemoConfig) -> None:
    """Where the data went, the catalog, what was extracted, the ablation, how to query it."""
    data = demo.data
    console.print(f"workspace: {ws.root}\ndata: {data.root}", highlight=False)
    render_arrow(catalog_summary(ws), OutputFormat.table, title="catalog")
    console.print(
        f"features: {data.extracted.frames} frames extracted now "
        f"({sum(m.cached for m in data.extracted.models)} items already cached)",
        highlight=False,
    )
    print_random_init_line(data.extracted.random_init)
    console.print(config.data.describe(), highlight=False)
    render_ablation(demo.ablation)
    console.print(
        f'Query the runs: stvg --workspace {ws.root} sql "SELECT variant, m_viou, m_tiou, '
        "m_siou FROM runs WHERE sentence_type = 'all'\"",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
