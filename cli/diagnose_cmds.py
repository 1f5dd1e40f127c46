"""``stvg diagnose ...``: commands that answer a research question about cached data rather
than produce it. Each measures one thing on one split and prints a table:

- ``probe-regions``: does the region most similar to the sentence hold the GT object?
  (``stvgdata.regions.probe``; docs/region-features.md)
- ``e3m-timing``: is there a temporal signal in E3M's per-frame scores? (``heads.e3m.timing``;
  docs/e3m.md)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import pyarrow as pa
import typer

from stvg.cli.console import (
    FormatOption,
    JsonOption,
    OutputFormat,
    output_format,
    render_arrow,
    workspace_of,
)

DatasetOption = Annotated[str, typer.Option("--dataset", help="Dataset in the catalog.")]
EvalSplitOption = Annotated[
    str, typer.Option("--eval-split", help="Split whose queries to measure.")
]


def _print_rows(rows: list, fmt: OutputFormat, title: str) -> None:
    """One table row per result dataclass."""
    render_arrow(pa.Table.from_pylist([asdict(row) for row in rows]), fmt, title)


def probe_regions_cmd(
    ctx: typer.Context,
    dataset: DatasetOption,
    split: EvalSplitOption = "test",
    boxes: Annotated[str, typer.Option(help="tubelets or detections.")] = "tubelets",
    iou: Annotated[float, typer.Option(help="IoU above which a region is the GT object.")] = 0.5,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Sanity of cached regions: on GT frames, how often the region most similar to the
    sentence is the GT object, against chance and the boxes' oracle."""
    from stvg.stvgdata.regions.probe import probe_regions

    rows = probe_regions(workspace_of(ctx), dataset, split, boxes, iou)
    _print_rows(rows, output_format(fmt, as_json), f"{dataset}/{split}")


def e3m_timing_cmd(
    ctx: typer.Context,
    dataset: DatasetOption,
    split: EvalSplitOption = "val",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="E3MConfig setting (repeatable)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Is there a temporal signal? Within each clip, the ROC AUC of tube frames vs the rest by
    the whole-frame, best-region, target-tubelet similarity and E3M's gamma (0.5 = chance)."""
    from stvg.heads.e3m.config import E3MConfig
    from stvg.heads.e3m.timing import tube_timing_auc
    from stvg.heads.settings import configure, parse_overrides

    config = configure(E3MConfig(), {}, parse_overrides(set_ or []))
    rows = tube_timing_auc(workspace_of(ctx), dataset, split, config)
    _print_rows(rows, output_format(fmt, as_json), f"{dataset}/{split}")


def register(app: typer.Typer) -> None:
    """Add the ``diagnose`` group to ``app`` (its group class: errors print the same way)."""
    diagnose = typer.Typer(
        cls=app.info.cls,
        help="Diagnostics: measure one property of cached data on one split.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    diagnose.command("probe-regions")(probe_regions_cmd)
    diagnose.command("e3m-timing")(e3m_timing_cmd)
    app.add_typer(diagnose, name="diagnose")
