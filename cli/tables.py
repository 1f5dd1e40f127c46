"""Rich tables of Arrow data that stay readable in a narrow terminal (80 columns).

The first layout that fits: a boxed table with one-line headers; a borderless one whose
headers break at their underscores and whose columns are no narrower than any word or number
they hold (ids and paths may fold, words never break), with two and then one space between
columns; else one block per row (field | value), like psql's expanded display (no rows: the
column names).
"""

from __future__ import annotations

import math
import re

import pyarrow as pa
from rich import box
from rich.table import Table

# A token that must not be folded: a word (letters, an apostrophe or hyphen, one trailing
# punctuation mark) or a number. Anything else (ids, paths) may fold anywhere.
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[.,;:!?)]?|\(?[-+]?\d[\d.,]*(e[-+]?\d+)?%?")


# DuckDB's infinite dates and timestamps: the largest and smallest values of their integer type.
_INFINITIES = {2**31 - 1: "infinity", -(2**31 - 1): "-infinity"}
_INFINITIES.update({2**63 - 1: "infinity", -(2**63 - 1): "-infinity"})


def _scalar_value(array: pa.Array, i: int) -> object:
    """One value as Python; dates and times beyond Python's range (DuckDB's infinities) as text."""
    try:
        return array[i].as_py()
    except (OverflowError, ValueError):
        raw = array.slice(i, 1).view(pa.int64() if array.type.bit_width == 64 else pa.int32())
        number = raw[0].as_py()
        return _INFINITIES.get(number, f"{array.type} {number}")


def column_values(array: pa.Array | pa.ChunkedArray) -> list[object]:
    """A column as Python values, whatever it holds."""
    try:
        return array.to_pylist()
    except (OverflowError, ValueError):
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        return [_scalar_value(chunk, i) for chunk in chunks for i in range(len(chunk))]


def cell_text(value: object) -> str:
    """A value as a table shows it (floats with 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def header_lines(name: str) -> list[str]:
    """``mean_tube_frames`` -> ["mean_", "tube_", "frames"]: where a header may break."""
    parts = name.split("_")
    return [f"{part}_" for part in parts[:-1]] + parts[-1:]


def unbreakable_width(text: str) -> int:
    """The widest token of ``text`` that must stay on one line."""
    return max((len(token) for token in text.split() if WORD.fullmatch(token)), default=1)


def arrow_table(data: pa.Table, title: str | None, width: int) -> Table:
    """``data`` as a rich table that fits ``width`` columns if any layout does."""
    names = data.column_names  # by position: a name may repeat
    values = [column_values(column) for column in data.columns]
    cells = [list(map(cell_text, row)) for row in zip(*values, strict=True)]
    columns = list(zip(*cells, strict=True)) if cells else [() for _ in names]
    widest = [max(map(len, column), default=0) for column in columns]
    natural = [max(len(name), cells) for name, cells in zip(names, widest, strict=True)]
    if sum(natural) + 3 * len(names) + 1 <= width:  # borders, and a space each side of a cell
        return _table(data, names, cells, title, widths=None, gap=None)
    headers = [
        name if len(name) <= cells else "\n".join(header_lines(name))
        for name, cells in zip(names, widest, strict=True)
    ]
    least = [
        max([*map(len, header.splitlines()), *map(unbreakable_width, column)])
        for header, column in zip(headers, columns, strict=True)
    ]
    wanted = [max(m, cells) for m, cells in zip(least, widest, strict=True)]
    for gap in (2, 1):  # spaces between columns, no borders
        room = width - gap * (len(names) - 1)
        if sum(least) <= room:
            widths = fit_widths(least, wanted, room)
            return _table(data, headers, cells, title, widths=widths, gap=gap)
    return _blocks(names, cells, title)


def fit_widths(least: list[int], wanted: list[int], room: int) -> list[int]:
    """Column widths within ``room``: each at least ``least``, the space left shared among the
    columns that want more in proportion to what they want (none wider than ``wanted``)."""
    want = [max(w - m, 0) for m, w in zip(least, wanted, strict=True)]
    spare = min(room - sum(least), sum(want))
    shares = [spare * w // sum(want) if sum(want) else 0 for w in want]
    return [m + s for m, s in zip(least, shares, strict=True)]


def _numeric(data: pa.Table, index: int) -> bool:
    kind = data.schema.field(index).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _table(
    data: pa.Table,
    headers: list[str],
    cells: list[list[str]],
    title: str | None,
    widths: list[int] | None,
    gap: int | None,
) -> Table:
    """A boxed table (``gap`` None), or a borderless one with ``gap`` spaces between columns."""
    if gap is None:
        table = Table(title=title)
    else:
        table = Table(
            title=title,
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, gap - 1, 0, 0),
        )
    for index, header in enumerate(headers):
        table.add_column(
            header,
            justify="right" if _numeric(data, index) else "left",
            overflow="fold",
            width=widths[index] if widths else None,
        )
    for row in cells:
        table.add_row(*row)
    return table


def _blocks(names: list[str], cells: list[list[str]], title: str | None) -> Table:
    """One block per row: a field column and a value column, a rule between rows; no rows: the
    column names, one a line, so an empty result still says what it would hold."""
    if not cells:
        empty = Table(title=title, caption="0 rows")
        empty.add_column("column", no_wrap=True)
        for name in names:
            empty.add_row(name)
        return empty
    table = Table(title=title, show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    for index, row in enumerate(cells):
        if index:
            table.add_section()
        for name, value in zip(names, row, strict=True):
            table.add_row(name, value)
    return table
