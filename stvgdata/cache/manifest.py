"""The ``features`` manifest: what is cached, under which fingerprint, and how to drop it.

Everything here reads Parquet manifest rows only, never feature data, so planning a resume
over a large cache costs one small query.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stvg.schemas import TABLES
from stvg.schemas.arrays import ARRAY_LAYOUTS
from stvg.stvgdata.catalog import connect, fetch_arrow, table_files, write_parquet
from stvg.stvgdata.workspace import Workspace


def item_column(model: str) -> str:
    """Manifest column naming one cached item: a video for frame models, a query for tokens."""
    return "query_id" if ARRAY_LAYOUTS[model].timeline == "token" else "video_id"


def _fetch(ws: Workspace, sql: str, params: list[object] | None = None) -> pa.Table:
    """Run one parameterized query over the catalog views."""
    con = connect(ws)
    try:
        return fetch_arrow(con, sql, params)
    finally:
        con.close()


def manifest_rows(
    ws: Workspace,
    dataset: str | None = None,
    model: str | None = None,
    fingerprint: str | None = None,
) -> pa.Table:
    """Manifest rows (of ``dataset``, ``model`` and ``fingerprint`` when given), ordered by
    shard."""
    given = (("dataset", dataset), ("model", model), ("fingerprint", fingerprint))
    clauses = [(name, value) for name, value in given if value]
    where = " AND ".join(f"{name} = ?" for name, _ in clauses) or "TRUE"
    sql = f"SELECT * FROM features WHERE {where} ORDER BY shard, array_path, row_start"
    return _fetch(ws, sql, [value for _, value in clauses])


def referenced_shards(ws: Workspace) -> set[str]:
    """Every shard some manifest row points at."""
    return set(_fetch(ws, "SELECT DISTINCT shard FROM features")["shard"].to_pylist())


@contextmanager
def _rewrite_lock(ws: Workspace) -> Iterator[None]:
    """Serialize manifest rewrites between processes (appends need no lock: new part files)."""
    ws.features_dir.mkdir(parents=True, exist_ok=True)
    with open(ws.features_dir / ".manifest-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _drop_rows(ws: Workspace, doomed_in: Callable[[pa.Table], pa.ChunkedArray]) -> int:
    """Remove the manifest rows ``doomed_in(part)`` marks, then the shards no row points at;
    returns the rows removed.

    Manifest parts are rewritten (atomically) before shards are deleted, so no surviving row
    ever points at a missing file.
    """
    dropped, shards = 0, set()
    with _rewrite_lock(ws):
        for path in table_files(ws, "features"):
            part = pq.read_table(path, schema=TABLES["features"])
            doomed = doomed_in(part)
            count = pc.sum(doomed).as_py() or 0
            if not count:
                continue
            shards.update(part.filter(doomed)["shard"].to_pylist())
            kept = part.filter(pc.invert(doomed))
            if kept.num_rows:
                write_parquet(path, kept)
            else:
                path.unlink()
            dropped += count
        for shard in shards - referenced_shards(ws):
            (ws.features_dir / shard).unlink(missing_ok=True)
    return dropped


def drop_model(ws: Workspace, dataset: str, model: str, keep_fingerprint: str = "") -> int:
    """Remove the rows of ``dataset``/``model`` (except those of ``keep_fingerprint``) and
    the shards left unreferenced; returns the rows removed.

    Keeping the new fingerprint lets every process of a sharded ``--replace-model-cache`` run
    drop the old features without dropping each other's new ones.
    """
    return _drop_rows(
        ws,
        lambda part: pc.and_(
            pc.and_(pc.equal(part["dataset"], dataset), pc.equal(part["model"], model)),
            pc.not_equal(part["fingerprint"], keep_fingerprint),
        ),
    )


def drop_items(ws: Workspace, dataset: str, model: str, items: set[str]) -> int:
    """Remove the rows of these items (video or query ids) of ``dataset``/``model``, so they
    are computed again; shards left unreferenced are deleted. Returns the rows removed."""
    if not items:
        return 0
    column = item_column(model)
    return _drop_rows(
        ws,
        lambda part: pc.fill_null(
            pc.and_(
                pc.and_(pc.equal(part["dataset"], dataset), pc.equal(part["model"], model)),
                pc.is_in(part[column], pa.array(sorted(items), pa.string())),
            ),
            False,
        ),
    )
