"""Shared rich consoles and output rendering (table, csv, json) for every command."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console

from stvg.cli.tables import arrow_table, cell_text, column_values
from stvg.stvgdata.errors import FaultError
from stvg.stvgdata.workspace import Workspace

# Markup off: cells and titles are data (variant names such as "d2s[anchor=static+d2s]" would
# otherwise lose their bracketed part as a style tag).
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)


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


# A table on the terminal stops here (with a notice); csv and json stream every row.
TABLE_MAX_ROWS = 1000


def _json_safe(value: object) -> object:
    """NaN and infinities have no JSON spelling: they become null (also inside lists, structs)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique for JSON records (a repeated ``a`` becomes ``a_1``, ``a_2``)."""
    result: list[str] = []
    used: set[str] = set()
    for name in names:
        unique, n = name, 0
        while unique in used:
            n += 1
            unique = f"{name}_{n}"
        used.add(unique)
        result.append(unique)
    return result


def _batch_rows(batch: pa.RecordBatch) -> list[tuple[object, ...]]:
    return list(zip(*(column_values(column) for column in batch.columns), strict=True))


def _write_csv(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(schema.names)
    for batch in batches:
        writer.writerows(_batch_rows(batch))
        sys.stdout.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    sys.stdout.write(buffer.getvalue())


def _may_be_non_finite(data_type: pa.DataType) -> bool:
    """Whether a column of this type can hold NaN or infinities (floats, also nested)."""
    return pa.types.is_floating(data_type) or pa.types.is_nested(data_type)


def _write_json(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> None:
    names = unique_names(schema.names)
    cleaned = [_may_be_non_finite(field.type) for field in schema]
    separator = ""
    sys.stdout.write("[")
    for batch in batches:
        columns = [column_values(column) for column in batch.columns]
        columns = [
            list(map(_json_safe, values)) if clean else values
            for values, clean in zip(columns, cleaned, strict=True)
        ]
        records = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        if records:  # one encoder call per batch; its brackets are the stream's
            text = json.dumps(records, default=str, allow_nan=False)[1:-1]
            sys.stdout.write(separator + text)
            separator = ", "
    sys.stdout.write("]\n")


def _print_table(
    schema: pa.Schema, batches: Iterator[pa.RecordBatch], title: str | None, max_rows: int
) -> None:
    kept: list[pa.RecordBatch] = []
    shown = 0
    for batch in batches:
        kept.append(batch.slice(0, max_rows - shown))
        shown += batch.num_rows
        if shown > max_rows:
            break
    console.print(arrow_table(pa.Table.from_batches(kept, schema), title, console.width))
    if shown > max_rows:
        err_console.print(
            f"only the first {max_rows:,} rows are shown: use --format csv or json for all, "
            "or LIMIT/OFFSET to page",
            highlight=False,
            soft_wrap=True,
        )


def render_batches(
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    fmt: OutputFormat,
    title: str | None = None,
    max_rows: int = TABLE_MAX_ROWS,
) -> None:
    """Print a stream of Arrow batches on stdout: csv and json row by row in bounded memory,
    every column kept (JSON renames repeated names, NaN and infinities are null); a table shows
    the first ``max_rows`` rows and says when there are more."""
    try:
        if fmt is OutputFormat.json:
            _write_json(schema, batches)
        elif fmt is OutputFormat.csv:
            _write_csv(schema, batches)
        else:
            _print_table(schema, batches, title, max_rows)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped (``| head``): stop too, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        raise FaultError.from_os_error("stdout", exc) from None


RANDOM_INIT_LINE = "features: random-init backbones — numbers are not comparable to papers"


def print_random_init_line(random_init: bool, fmt: OutputFormat = OutputFormat.table) -> None:
    """One visible line under a table whose numbers come from random-init backbones (on stderr
    when stdout carries csv or json, so the data stay parseable)."""
    if random_init:
        (console if fmt is OutputFormat.table else err_console).print(
            RANDOM_INIT_LINE, style="bold yellow", highlight=False
        )


def render_arrow(data: pa.Table, fmt: OutputFormat, title: str | None = None) -> None:
    """Print an Arrow table (already in memory: every row) as a rich table, CSV or JSON."""
    render_batches(data.schema, iter(data.to_batches()), fmt, title, max_rows=max(data.num_rows, 1))


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
