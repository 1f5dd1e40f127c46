"""``stvg e3m-timing``: the tube-vs-rest ROC AUC of E3M's per-frame scores (heads.e3m.timing);
``stvg eval/ablate --method e3m`` reach E3M through the method registry."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import pyarrow as pa
import typer

from cli.console import OutputFormat, render_arrow, workspace_of
from heads.settings import configure, parse_overrides


def e3m_timing_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset in the catalog.")],
    split: Annotated[str, typer.Option(help="Split whose queries to measure.")] = "val",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE of E3MConfig for gamma (repeatable)."),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
) -> None:
    """Is there a temporal signal? Within each clip, the ROC AUC of tube frames vs the rest by
    the whole-frame, best-region, target-tubelet similarity and E3M's gamma (0.5 = chance)."""
    from heads.e3m.config import E3MConfig
    from heads.e3m.timing import tube_timing_auc

    config = configure(E3MConfig(), {}, parse_overrides(set_ or []))
    rows = tube_timing_auc(workspace_of(ctx), dataset, split, config)
    render_arrow(pa.Table.from_pylist([asdict(r) for r in rows]), fmt, f"{dataset}/{split}")


def register(app: typer.Typer) -> None:
    """Add ``e3m-timing`` to ``app``."""
    app.command("e3m-timing")(e3m_timing_cmd)
