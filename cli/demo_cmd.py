"""``stvg demo``: the whole pipeline on a small synthetic dataset, ending with an ablation table."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from cli.cache_cmds import print_random_init_notice
from cli.console import OutputFormat, RichProgress, console, render_arrow, workspace_of
from cli.heads_cmds import PresetName, build_configs, render_ablation


def demo_command(
    ctx: typer.Context,
    videos: Annotated[
        int | None, typer.Option(help="Synthetic videos to generate [default: 80].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    seeds: Annotated[int, typer.Option(help="Training seeds per variant (mean ± std).")] = 1,
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs (default: small preset's).")
    ] = None,
    full_backbones: Annotated[
        bool,
        typer.Option(
            "--full-backbones",
            help="Extract with full-size ResNet-101/SlowFast-R50/RoBERTa-base (slow on CPU).",
        ),
    ] = False,
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
    features cached (resumed on re-runs), and the four collaboration variants trained and scored.
    """
    from heads.ablate import run_ablation, table3_variants
    from stvgdata.demo import DEMO_DATASET, DemoDataConfig, prepare_demo_data
    from stvgdata.importer import catalog_summary

    ws = workspace_of(ctx)
    data_config = DemoDataConfig(
        seed=seed, tiny_backbones=not full_backbones, random_init=random_init
    )
    if videos is not None:
        data_config = dataclasses.replace(data_config, videos=videos)
    model_config, train_config = build_configs(PresetName.small, {}, {"epochs": epochs})
    with RichProgress(transient=True) as progress:
        data = prepare_demo_data(ws, data_config, progress)
        result = run_ablation(
            ws,
            DEMO_DATASET,
            table3_variants(),
            list(range(seeds)),
            model_config,
            train_config,
            progress,
        )
    console.print(f"workspace: {ws.root}\ndata: {data.root}", highlight=False)
    render_arrow(catalog_summary(ws), OutputFormat.table, title="catalog")
    console.print(
        f"features: {data.extracted.frames} frames extracted now "
        f"({sum(m.cached for m in data.extracted.models)} items already cached)",
        highlight=False,
    )
    print_random_init_notice(data.extracted)
    render_ablation(result)
    console.print(
        f'Query the runs: stvg --workspace {ws.root} sql "SELECT variant, m_viou, m_tiou, '
        "m_siou FROM runs WHERE sentence_type = 'all'\"",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
