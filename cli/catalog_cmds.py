"""Catalog commands: ``stvg import`` (a dataset's real layout into the catalog), ``stvg sql``
(read-only SQL over the catalog views), ``stvg info`` (per dataset and split counts) and
``stvg verify-catalog`` (damaged or leftover catalog files, and their repair).

Thin wrappers over ``stvgdata.importer`` and ``stvgdata.catalog``; none of them imports torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
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
    render_arrow,
    render_batches,
    workspace_of,
)
from stvg.stvgdata.adapters import ADAPTERS
from stvg.stvgdata.catalog import query_batches
from stvg.stvgdata.catalog_check import CatalogProblem, repair_catalog, verify_catalog
from stvg.stvgdata.importer import ImportSummary, catalog_summary, import_dataset


def import_cmd(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Argument(metavar="DATASET", help=f"Dataset: {', '.join(ADAPTERS)}.")
    ],
    root: Annotated[
        Path, typer.Option("--root", help="Directory holding the dataset's real layout.")
    ],
    layout: Annotated[
        str | None,
        typer.Option(
            help="Layout under --root (vidstg: original, tubedetr, stcat); detected if omitted."
        ),
    ] = None,
    annotations_only: Annotated[
        bool,
        typer.Option("--annotations-only", help="Do not check that the video files exist."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Import DATASET from its on-disk layout; a re-import replaces it in one atomic step."""
    with RichProgress(transient=True) as progress:
        summary = import_dataset(
            workspace_of(ctx),
            dataset,
            root,
            layout=layout,
            check_videos=not annotations_only,
            progress=progress,
        )
    fmt = output_format(fmt, as_json)
    if fmt is OutputFormat.json:
        print_json(_summary_record(summary))
    else:
        counts = pa.table({"table": list(summary.counts), "rows": list(summary.counts.values())})
        title = f"{summary.dataset} ({summary.layout}) imported in {summary.seconds:.1f} s"
        render_arrow(counts, fmt, title=title)


def _summary_record(summary: ImportSummary) -> dict[str, object]:
    return {
        "dataset": summary.dataset,
        "layout": summary.layout,
        "root": str(summary.root),
        "version_dir": str(summary.version_dir),
        "counts": summary.counts,
        "seconds": round(summary.seconds, 3),
    }


def sql_cmd(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(metavar="QUERY", help="SQL over the catalog views.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run read-only SQL over the catalog views (videos, queries, boxes, failures, ...).

    csv and json stream every row; a table shows the first rows and says when there are more."""
    with query_batches(workspace_of(ctx), sql) as (schema, batches):
        render_batches(schema, batches, fmt)


def info_cmd(
    ctx: typer.Context,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Per dataset and split: videos, queries by sentence type, mean tube length."""
    render_arrow(catalog_summary(workspace_of(ctx)), fmt, title="catalog")


def verify_catalog_cmd(
    ctx: typer.Context,
    repair: Annotated[
        bool, typer.Option("--repair", help="Apply the repairs listed (see docs/datasets.md).")
    ] = False,
    deep: Annotated[bool, typer.Option(help="Read every row, not only each footer.")] = False,
    fmt: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Check the catalog's files (index, dataset versions, table parts, leftovers of imports);
    exit 1 on any problem. --repair moves damaged files aside and rebuilds the index."""
    ws = workspace_of(ctx)
    problems = (repair_catalog if repair else verify_catalog)(ws, deep=deep)
    records = [vars(problem) for problem in problems]
    fmt = output_format(fmt, as_json)
    if fmt is OutputFormat.json:
        print_json({"ok": repair or not problems, "problems": records})
    elif fmt is OutputFormat.csv or problems:
        schema = pa.schema([(f.name, pa.string()) for f in dataclasses.fields(CatalogProblem)])
        title = "repaired" if repair else "problems (`stvg verify-catalog --repair` fixes them)"
        render_arrow(pa.Table.from_pylist(records, schema=schema), fmt, title)
    else:
        checked = "checked deeply" if deep else "checked"
        console.print(f"OK: catalog of {ws.root} {checked}", highlight=False)
    if problems and not repair:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("import")(import_cmd)
    app.command("sql")(sql_cmd)
    app.command("info")(info_cmd)
    app.command("verify-catalog")(verify_catalog_cmd)
