"""Shared rich consoles and output rendering (table, csv, json) for every command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console

from cli.tables import arrow_table, cell_text
from stvgdata.workspace import Workspace

console = Console()
err_console = Console(stderr=True)


# Catalog column -> the label papers use, in the order STVG tables print them.
METRIC_COLUMNS = (
    ("m_viou", "m_vIoU"),
    ("viou_03", "vIoU@0.3"),
    ("viou_05", "vIoU@0.5"),
    ("m_tiou", "m_tIoU"),
    ("m_siou", "m_sIoU"),
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


# Every command that prints a table takes both: --format, and --json as its short alias.
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output: table, csv or json.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]


def output_format(fmt: OutputFormat, as_json: bool) -> OutputFormat:
    """The format chosen by ``--format`` or its alias ``--json``."""
    return OutputFormat.json if as_json else fmt


def print_json(data: object) -> None:
    """One line of JSON on stdout (paths and other objects as strings)."""
    typer.echo(json.dumps(data, default=str))


def workspace_of(ctx: typer.Context) -> Workspace:
    """The workspace chosen by the global ``--workspace`` option."""
    return ctx.find_root().obj


def render_arrow(data: pa.Table, fmt: OutputFormat, title: str | None = None) -> None:
    """Print an Arrow table as a rich table, CSV or JSON records on stdout."""
    rows = data.to_pylist()
    if fmt is OutputFormat.json:
        print_json(rows)
    elif fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(data.column_names)
        writer.writerows([[row[name] for name in data.column_names] for row in rows])
        typer.echo(buffer.getvalue(), nl=False)
    else:
        console.print(arrow_table(data, title, console.width))


def render_record(record: dict[str, object], fmt: OutputFormat, title: str | None = None) -> None:
    """A summary record: a field/value table, one CSV row, or one JSON object."""
    if fmt is OutputFormat.json:
        print_json(record)
    elif fmt is OutputFormat.csv:
        render_arrow(pa.Table.from_pylist([{k: _csv_value(v) for k, v in record.items()}]), fmt)
    else:
        fields = pa.table({"field": list(record), "value": [cell_text(v) for v in record.values()]})
        render_arrow(fields, fmt, title=title)


def render_ablation_result(result: object, fmt: OutputFormat, draw: Callable[[], None]) -> None:
    """An ablation result (any method's, with ``to_dict()["variants"]``): ``draw()`` for the
    table, one CSV row per variant (means and stds, no per-seed detail), or all of it as JSON."""
    data = result.to_dict()  # type: ignore[attr-defined]
    if fmt is OutputFormat.table:
        draw()
    elif fmt is OutputFormat.json:
        print_json(data)
    else:
        rows = [
            {k: _csv_value(v) for k, v in variant.items() if k != "per_seed"}
            for variant in data["variants"]
        ]
        render_arrow(pa.Table.from_pylist(rows), fmt)


def _csv_value(value: object) -> object:
    return json.dumps(value, default=str) if isinstance(value, list | dict) else value


class RichProgress:
    """A ``ProgressFn`` that draws one rich bar per task, with ETA and any extra numbers."""

    def __init__(self, transient: bool = False) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bars = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=err_console,
            transient=transient,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        return self  # the bars start with the first report, so early errors stay one line

    def __exit__(self, *exc: object) -> None:
        if self._tasks:
            self._bars.stop()

    def __call__(
        self, task: str, completed: float, total: float | None = None, **info: float
    ) -> None:
        text = "  ".join(f"{key}={value:.3g}" for key, value in info.items())
        if not self._tasks:
            self._bars.start()
        if task not in self._tasks:
            self._tasks[task] = self._bars.add_task(task, total=total, info=text)
        self._bars.update(self._tasks[task], completed=completed, total=total, info=text)
