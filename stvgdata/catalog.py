"""The catalog: Parquet tables in the workspace, queried through DuckDB views.

Two kinds of tables (see ``schemas.tables``):
- dataset tables (videos, queries, boxes, import failures) are written by ``stvg import`` as one
  version directory per dataset; ``catalog/index.json`` names the current version of each
  dataset and is replaced atomically, so a re-import swaps a dataset in one step and leaves the
  other datasets untouched;
- append-only tables (features manifest, runs, predictions, extract failures) grow by whole
  Parquet part files, each renamed into place only when complete; a *keyed* part (detections
  and tubelets of one dataset and source) has a name derived from its key, so writing it again
  replaces it in one rename and a re-import never duplicates rows.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from schemas import DATASET_TABLES, TABLES, empty_table, validate_table
from stvgdata.atomic import atomic_output, write_bytes_atomic
from stvgdata.errors import BadInputError
from stvgdata.workspace import Workspace

# PRAGMA is left out: some pragmas write files (profiling_output); DESCRIBE and SHOW are SELECTs.
READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}
_EXPLAIN_PREFIX = re.compile(r"^EXPLAIN(\s+ANALY[SZ]E)?(\s*\([^)]*\))?\s*", re.IGNORECASE)


@contextmanager
def _catalog_lock(ws: Workspace) -> Iterator[None]:
    """Serialize index updates between processes (imports of different datasets may overlap)."""
    ws.catalog_dir.mkdir(parents=True, exist_ok=True)
    with open(ws.catalog_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_index(ws: Workspace) -> dict[str, str]:
    """Dataset name -> name of its current version directory."""
    if not ws.catalog_index.exists():
        return {}
    return json.loads(ws.catalog_index.read_text())


def write_parquet(path: Path, data: pa.Table) -> None:
    """Write one Parquet file atomically (zstd, row groups sized for fast scans)."""
    with atomic_output(path) as tmp:
        pq.write_table(data, tmp, compression="zstd", row_group_size=1 << 20)


def replace_dataset(ws: Workspace, dataset: str, tables: dict[str, pa.Table]) -> Path:
    """Install a new version of ``dataset`` (all of DATASET_TABLES) and retire the old one.

    Readers see either the old version or the new one, never a mix.
    """
    missing = [name for name in DATASET_TABLES if name not in tables]
    if missing:
        raise ValueError(f"replace_dataset({dataset!r}) lacks tables {missing}")
    checked = {name: validate_table(name, tables[name], dataset) for name in DATASET_TABLES}
    version = f"{dataset}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    final_dir = ws.versions_dir / version
    with atomic_output(final_dir) as staging:
        staging.mkdir(parents=True)
        for name, data in checked.items():
            pq.write_table(data, staging / f"{name}.parquet", compression="zstd")
    with _catalog_lock(ws):
        index = read_index(ws)
        previous = index.get(dataset)
        index[dataset] = version
        write_bytes_atomic(ws.catalog_index, json.dumps(index, indent=2, sort_keys=True).encode())
    if previous and previous != version:
        shutil.rmtree(ws.versions_dir / previous, ignore_errors=True)
    return final_dir


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


def table_files(ws: Workspace, table: str) -> list[Path]:
    """Every Parquet file that currently makes up ``table``."""
    files: list[Path] = []
    if table in DATASET_TABLES:
        for version in read_index(ws).values():
            path = ws.versions_dir / version / f"{table}.parquet"
            if path.exists():
                files.append(path)
    part_dir = ws.table_dir(table)
    if part_dir.is_dir():
        files.extend(sorted(part_dir.glob("part-*.parquet")))
    return files


def read_table(ws: Workspace, table: str) -> pa.Table:
    """The whole table as Arrow (small tables; use ``connect`` and SQL for big ones)."""
    files = table_files(ws, table)
    if not files:
        return empty_table(table)
    return pa.concat_tables([pq.read_table(path, schema=TABLES[table]) for path in files])


def connect(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per catalog table."""
    con = duckdb.connect(":memory:")
    for table in TABLES:
        files = table_files(ws, table)
        if files:
            listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}], union_by_name=true)"
            )
        else:
            con.register(f"_empty_{table}", empty_table(table))
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM _empty_{table}")
    return con


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
    relation = con.sql(sql, params=params)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def query(ws: Workspace, sql: str, params: list[object] | None = None) -> pa.Table:
    """Run read-only SQL (``?`` placeholders bound to ``params``) over the catalog views and
    return the result as Arrow."""
    check_read_only(sql)
    con = connect(ws)
    try:
        return fetch_arrow(con, sql, params)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise BadInputError("sql", None, message) from None
    finally:
        con.close()
