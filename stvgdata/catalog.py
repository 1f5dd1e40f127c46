"""The catalog: Parquet tables in the workspace, queried through DuckDB views.

Two kinds of tables (see ``schemas.tables``):
- dataset tables (videos, queries, boxes, import failures) are written by ``stvg import`` as one
  version directory per dataset; ``catalog/index.json`` names the current version of each
  dataset and is replaced atomically, so a re-import swaps a dataset in one step and leaves the
  other datasets untouched (``catalog_versions``: the index, and the locks that pin a version
  while a connection reads it);
- append-only tables (features manifest, runs, predictions, extract failures) grow by whole
  Parquet part files, each renamed into place only when complete; a *keyed* part (detections
  and tubelets of one dataset and source) has a name derived from its key, so writing it again
  replaces it in one rename and a re-import never duplicates rows.

A damaged file (index, version, part) fails only the statements that read its table, with one
line naming the file; ``catalog_check`` finds and repairs such files.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stvg.schemas import DATASET_TABLES, TABLES, empty_table, validate_table
from stvg.stvgdata.atomic import atomic_output
from stvg.stvgdata.catalog_versions import (
    REPAIR_HINT,
    STAGING_PREFIX,
    VersionPins,
    catalog_lock,
    clean_orphans,
    lock_nowait,
    read_index,
    remove_unused,
    write_index,
)
from stvg.stvgdata.errors import BadInputError, FaultError
from stvg.stvgdata.workspace import Workspace

# PRAGMA is left out: some pragmas write files (profiling_output); DESCRIBE and SHOW are SELECTs.
READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}
_EXPLAIN_PREFIX = re.compile(r"^EXPLAIN(\s+ANALY[SZ]E)?(\s*\([^)]*\))?\s*", re.IGNORECASE)


def write_parquet(path: Path, data: pa.Table) -> None:
    """Write one Parquet file atomically (zstd, row groups sized for fast scans)."""
    with atomic_output(path) as tmp:
        pq.write_table(data, tmp, compression="zstd", row_group_size=1 << 20)


def version_file_layout(schema: pa.Schema) -> dict[str, object]:
    """Parquet writer options for a dataset table (the boxes table has 30 million rows).

    Float columns (pixel corners) are written without dictionary pages, which never pay off for
    them, and byte-stream split, which zstd compresses better and faster; dictionary-encoded
    columns are written as their plain type (no Arrow schema stored: readers see strings).
    """
    floats = [field.name for field in schema if pa.types.is_floating(field.type)]
    return {
        "compression": "zstd",
        "use_dictionary": [name for name in schema.names if name not in floats],
        "use_byte_stream_split": floats,
        "store_schema": not any(pa.types.is_dictionary(field.type) for field in schema),
    }


def replace_dataset(ws: Workspace, dataset: str, tables: dict[str, pa.Table]) -> Path:
    """Install a new version of ``dataset`` (all of DATASET_TABLES) and retire the old one.

    Readers see either the old version or the new one, never a mix; a reader that pinned the old
    version keeps it until it closes (the next import removes it). Disk errors (full, read-only,
    no permission) are one FaultError naming the path; nothing of the attempt stays behind.
    """
    missing = [name for name in DATASET_TABLES if name not in tables]
    if missing:
        raise ValueError(f"replace_dataset({dataset!r}) lacks tables {missing}")
    checked = {name: validate_table(name, tables[name], dataset) for name in DATASET_TABLES}
    version = f"{dataset}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    final_dir = ws.versions_dir / version
    staging = ws.versions_dir / f"{STAGING_PREFIX}{version}"
    try:
        with catalog_lock(ws):
            clean_orphans(ws)
            staging.mkdir(parents=True)
        # The writer's lock marks the staging directory as live for clean_orphans.
        fd = lock_nowait(staging, fcntl.LOCK_EX)
        try:
            for name, data in checked.items():
                _write_version_file(staging / f"{name}.parquet", data)
            with catalog_lock(ws):
                index = read_index(ws)
                previous = index.get(dataset)
                os.replace(staging, final_dir)
                write_index(ws, {**index, dataset: version})
        finally:
            if fd is not None:
                os.close(fd)
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise FaultError.from_os_error(staging, exc) from None
    if previous and previous != version:
        remove_unused(ws.versions_dir / previous)
    return final_dir


def _write_version_file(path: Path, data: pa.Table) -> None:
    try:
        pq.write_table(data, path, **version_file_layout(data.schema))
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        raise FaultError.from_os_error(path, exc) from None


def failure_row(
    stage: str,
    dataset: str,
    item: str,
    error: str,
    file: str | None = None,
    model: str | None = None,
) -> dict[str, object]:
    """One ``failures`` record: what a batch job could not do for one item, stamped now."""
    return {
        "stage": stage,
        "dataset": dataset,
        "item": item,
        "error": error,
        "file": file,
        "model": model,
        "created_at": datetime.now(UTC),
    }


def append_rows(ws: Workspace, table: str, data: pa.Table) -> Path | None:
    """Append ``data`` to an append-only table as one new part file; returns its path."""
    if data.num_rows == 0:
        return None
    checked = validate_table(table, data)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = ws.table_dir(table) / f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
    write_parquet(path, checked)
    return path


def keyed_part_path(ws: Workspace, table: str, key: tuple[str, ...]) -> Path:
    """The one part file of ``table`` that holds the rows of ``key`` (e.g. dataset, source)."""
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:24]
    return ws.table_dir(table) / f"part-key-{digest}.parquet"


def replace_part(ws: Workspace, table: str, key: tuple[str, ...], data: pa.Table) -> Path:
    """Install ``data`` as the rows of ``key`` in ``table``, replacing the previous ones in one
    rename (readers see the old rows or the new ones, never both). Zero rows remove the part."""
    path = keyed_part_path(ws, table, key)
    if data.num_rows == 0:
        path.unlink(missing_ok=True)
    else:
        write_parquet(path, validate_table(table, data))
    return path


def _part_files(ws: Workspace, table: str) -> list[Path]:
    """The part files of an append-only or keyed ``table``."""
    part_dir = ws.table_dir(table)
    return sorted(part_dir.glob("part-*.parquet")) if part_dir.is_dir() else []


def _files(pins: VersionPins, table: str) -> list[Path]:
    """The pinned version files of ``table``, then its part files; FaultError when one is
    missing."""
    return pins.files(table) + _part_files(pins.ws, table)


def table_files(ws: Workspace, table: str) -> list[Path]:
    """Every Parquet file that currently makes up ``table`` (not pinned: small tables only).
    Only dataset tables have version files, so only they read the index."""
    if table not in DATASET_TABLES:
        return _part_files(ws, table)
    pins = VersionPins(ws)
    pins.release()
    return _files(pins, table)


def damaged_part(path: Path, exc: Exception) -> FaultError:
    """The one line for a Parquet file that cannot be read."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FaultError(path, f"damaged Parquet file ({reason}); {REPAIR_HINT}")


def file_fault(path: Path, deep: bool = False) -> FaultError | None:
    """Why ``path`` cannot serve as a Parquet part (footer only, every row with ``deep``)."""
    if not path.is_file():
        return FaultError(path, "missing")
    try:
        pq.read_table(path) if deep else pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        return damaged_part(path, exc)
    return None


def first_damaged(files: list[Path]) -> FaultError | None:
    """The first file whose Parquet footer cannot be read, as a FaultError."""
    return next((fault for path in files if (fault := file_fault(path)) is not None), None)


def read_table(ws: Workspace, table: str) -> pa.Table:
    """The whole table as Arrow (small tables; use ``connect`` and SQL for big ones)."""
    ws.require()
    files = table_files(ws, table)
    if not files:
        return empty_table(table)
    parts = []
    for path in files:
        try:
            parts.append(pq.read_table(path, schema=TABLES[table]))
        except (OSError, pa.ArrowException) as exc:
            raise damaged_part(path, exc) from None
    return pa.concat_tables(parts)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _placeholder_sql(con: duckdb.DuckDBPyConnection, table: str, fault: FaultError | None) -> str:
    """A view of ``table``'s columns with no rows; with ``fault``, every read of it fails with
    the fault's line, so that only the statements that need a damaged table fail."""
    schema = TABLES[table]
    types = con.from_arrow(empty_table(table)).types
    columns = ", ".join(
        f'CAST(NULL AS {duck_type}) AS "{name}"'
        for name, duck_type in zip(schema.names, types, strict=True)
    )
    if fault is None:
        return f"SELECT {columns} WHERE false"
    return f"SELECT {columns} FROM (SELECT error({_quote(str(fault))}) AS e) WHERE e IS NULL"


_FAULTS: dict[int, dict[str, FaultError]] = {}


def connect(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per catalog table, pinned to the dataset
    versions current when it opens. Each view has every column of the table's schema (null in
    parts written before the column), then any other column a part has. A damaged table (index,
    version directory or Parquet part) becomes a view that fails with a FaultError naming the
    file; the other views work."""
    ws.require()
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    pins = VersionPins(ws)
    faults: dict[str, FaultError] = {}
    _FAULTS[id(con)] = faults
    weakref.finalize(con, _forget, id(con), pins)
    for table in TABLES:
        try:
            files = _files(pins, table)
        except FaultError as fault:
            faults[table] = fault
            files = []
        if files:
            listed = ", ".join(_quote(str(path)) for path in files)
            try:  # every column of the schema: null where parts predate it
                con.execute(
                    f"CREATE VIEW {table} AS {_placeholder_sql(con, table, None)} "
                    f"UNION ALL BY NAME SELECT * FROM read_parquet([{listed}], union_by_name=true)"
                )
                continue
            except duckdb.Error as exc:
                faults[table] = first_damaged(files) or FaultError(
                    f"catalog table {table}", f"unreadable ({str(exc).splitlines()[0]})"
                )
        con.execute(f"CREATE VIEW {table} AS {_placeholder_sql(con, table, faults.get(table))}")
    return con


def _forget(key: int, pins: VersionPins) -> None:
    _FAULTS.pop(key, None)
    pins.release()


def check_damage(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise the FaultError of the first damaged catalog table that ``sql`` reads."""
    faults = _FAULTS.get(id(con))
    if not faults:
        return
    with duckdb.connect(":memory:") as parser:  # without views: it would resolve them away
        for statement in duckdb.extract_statements(sql):
            try:
                names = parser.get_table_names(statement.query)
            except duckdb.Error:
                continue  # left to the query itself (the damaged views fail with the same line)
            for table in TABLES:
                if table in names and table in faults:
                    raise faults[table]


def lock_down(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """Let user SQL read nothing outside the workspace (no URLs, no other files) and install or
    load no extensions."""
    con.execute(f"SET allowed_directories = [{_quote(str(ws.root))}]")
    con.execute("SET enable_external_access = false")


def check_read_only(sql: str) -> None:
    """Refuse any statement that could write (DROP, INSERT, COPY ... TO, ATTACH, ...)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise BadInputError("sql", None, f"cannot parse query: {exc}") from None
    if not statements:
        raise BadInputError("sql", None, "empty query")
    for statement in statements:
        kind = statement.type.name
        if kind not in READ_ONLY_STATEMENTS:
            raise BadInputError(
                "sql", None, f"{kind} statements are not allowed: the catalog is read-only"
            )
        if kind == "EXPLAIN":  # EXPLAIN ANALYZE runs its statement: check that one too
            explained = _EXPLAIN_PREFIX.sub("", statement.query, count=1)
            if explained == statement.query:
                raise BadInputError("sql", None, "cannot tell what this EXPLAIN explains")
            check_read_only(explained)


def fetch_arrow(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pa.Table:
    """Run ``sql`` (``?`` placeholders bound to ``params``) and return the result as Arrow.

    One spelling for DuckDB 1 and 2 (2 renamed ``fetch_arrow_table`` and warns on the old name).
    """
    check_damage(con, sql)
    relation = con.sql(sql, params=params)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


# Rows per streamed batch: bounded memory whatever the result's size.
BATCH_ROWS = 65_536


@contextmanager
def query_batches(
    ws: Workspace, sql: str, params: list[object] | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[pa.Schema, Iterator[pa.RecordBatch]]]:
    """Run read-only SQL over the catalog views and stream the result as Arrow record batches.

    The connection reads only the workspace (no URLs, no other files, no extensions).
    """
    check_read_only(sql)
    con = connect(ws)
    try:
        lock_down(con, ws)
        check_damage(con, sql)
        try:
            relation = con.sql(sql, params=params)
            stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
            reader = stream(batch_rows)
        except duckdb.Error as exc:
            raise _sql_error(exc) from None
        yield reader.schema, _batches(reader)
    finally:
        con.close()


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except (duckdb.Error, pa.ArrowException) as exc:
        raise _sql_error(exc) from None


def _sql_error(exc: Exception) -> BadInputError:
    return BadInputError("sql", None, str(exc).splitlines()[0])


def query(ws: Workspace, sql: str, params: list[object] | None = None) -> pa.Table:
    """Run read-only SQL (``?`` placeholders bound to ``params``) over the catalog views and
    return the result as Arrow."""
    with query_batches(ws, sql, params) as (schema, batches):
        return pa.Table.from_batches(list(batches), schema)
