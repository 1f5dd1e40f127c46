"""The ``features`` manifest of the one feature store: what is cached (feature arrays and
region sets alike), under which fingerprint and config, the one lock that serializes manifest
rewrites, the one fingerprint check, and how to drop rows.

Everything here reads Parquet manifest rows only, never feature data, so planning a resume
over a large cache costs one small query.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stvg.schemas import TABLES
from stvg.stvgdata.catalog import connect, fetch_arrow, table_files, write_parquet
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import is_text_model, kind_of
from stvg.stvgdata.workspace import Workspace

REGIONS_MODEL = "regions"  # the model name of region-set rows (their encoder is the fingerprint)


def item_column(model: str) -> str:
    """Manifest column naming one item of an extractor's rows: a query for text tokens, else a
    video."""
    return "query_id" if is_text_model(model) else "video_id"


def item_of(row: dict[str, Any]) -> str:
    """The item a manifest row caches: its query (text tokens, sentences), else its video."""
    return row["query_id"] or row["video_id"]


def row_kind(row: dict[str, Any]) -> str:
    """The layout kind of a manifest row (rows written before the column: the model's)."""
    return row.get("kind") or kind_of(row["model"])


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


def reextract_command(dataset: str, model: str) -> str:
    """The command that computes ``dataset``'s ``model`` rows again, replacing those cached."""
    if model == REGIONS_MODEL:
        return f"stvg extract-regions --dataset {dataset} --replace-region-cache"
    return f"stvg extract --dataset {dataset} --features {model} --replace-model-cache"


def row_config(row: dict[str, Any], where: object) -> dict[str, Any]:
    """The structured config (``config`` column) the extractor wrote a manifest row with: size,
    fps, dtype, autocast, weights, tiny, channels, ... (see the extractor registry). The one
    parse of the column; rows written before it have none, which is one line (``where``: the
    store's directory) saying how to re-extract."""
    if row.get("config") is None:
        raise BadInputError(
            where,
            f"{row['dataset']}/{row['model']}",
            "cached before the store recorded extractor configs; re-extract with "
            f"`{reextract_command(row['dataset'], row['model'])}`",
        )
    return json.loads(row["config"])


def feature_config(ws: Workspace, dataset: str, model: str) -> dict[str, Any]:
    """The config (``row_config``) ``dataset``'s ``model`` features were extracted with. One
    line when nothing is cached, when two fingerprints are, or when rows predate the column."""
    rows = manifest_rows(ws, dataset, model).to_pylist()  # SELECT *: older parts lack config
    where = ws.features_dir
    if not rows:
        raise BadInputError(where, f"{dataset}/{model}", "no features cached; run `stvg extract`")
    if len({row["fingerprint"] for row in rows}) > 1:
        raise BadInputError(
            where, f"{dataset}/{model}", "features of several fingerprints are cached"
        )
    unrecorded = [row for row in rows if row.get("config") is None]
    return row_config((unrecorded or rows)[0], where)


def lineage(ws: Workspace, dataset: str, models: Sequence[str]) -> list[dict[str, str | None]]:
    """(model, fingerprint, weights) of every fingerprint of ``models`` cached for ``dataset``,
    by model then fingerprint: what a run records of the feature sets it reads, and what it is
    checked against later. ``weights`` is null for rows written before the column."""
    if not models:
        return []
    return _fetch(
        ws,
        "SELECT DISTINCT model, fingerprint, weights FROM features"
        " WHERE dataset = ? AND list_contains(?, model) ORDER BY model, fingerprint",
        [dataset, list(models)],
    ).to_pylist()


def cached_fingerprints(
    ws: Workspace, dataset: str, model: str, fingerprint: str
) -> list[dict[str, Any]]:
    """The fingerprints of ``dataset``'s ``model`` other than ``fingerprint``: one dict each
    with its weights, fps, row shape, dtype, config (of any of its rows) and row count."""
    return _fetch(
        ws,
        "SELECT fingerprint, any_value(weights) AS weights, any_value(fps) AS fps,"
        " any_value(shape) AS shape, any_value(dtype) AS dtype, any_value(config) AS config,"
        " count(*) AS items"
        " FROM features WHERE dataset = ? AND model = ? AND fingerprint <> ?"
        " GROUP BY fingerprint ORDER BY fingerprint",
        [dataset, model, fingerprint],
    ).to_pylist()


# Config keys left out of comparisons: the weights label already says what the source gave.
_UNCOMPARED = frozenset({"weights_source"})


def config_differences(recorded: str, config: dict[str, Any]) -> list[str]:
    """Readable ``field old -> new`` for each field of a row's recorded ``config`` (JSON) that
    differs from ``config`` (size, fps, dtype, weights, autocast, ...), by field name."""
    old = json.loads(recorded)
    keys = sorted((old.keys() | config.keys()) - _UNCOMPARED)
    pairs = {key: (old.get(key), config.get(key)) for key in keys}
    return [f"{key} {a} -> {b}" for key, (a, b) in pairs.items() if a != b]


def describe_fingerprint(row: dict[str, Any], changes: Sequence[str]) -> str:
    """Words for a cached fingerprint's row (of ``cached_fingerprints``) and what differs in it
    from the run's ("preprocessing or network options" when no recorded field does)."""
    changed = ", ".join(changes) or "preprocessing or network options"
    return f"fingerprint {row['fingerprint']} ({row['items']} rows), which differs in {changed}"


def refuse_other_fingerprint(
    ws: Workspace,
    dataset: str,
    model: str,
    fingerprint: str,
    changes: Callable[[dict[str, Any]], Sequence[str]],
    replace_field: str = "replace_model_cache",
) -> None:
    """The one fingerprint check: refuse to mix two configurations of ``model`` in ``dataset``'s
    store (features of two networks, or regions of two encoders, mean nothing side by side).
    ``changes`` lists what differs between a cached fingerprint's row (of
    ``cached_fingerprints``) and the run's configuration, for the message."""
    cached = cached_fingerprints(ws, dataset, model, fingerprint)
    if not cached:
        return
    old = cached[0]
    what = describe_fingerprint(old, changes(old))
    raise BadInputError(
        ws.features_dir,
        f"{dataset}/{model}",
        f"the cache holds {model} features of {what} from this run's {fingerprint}; "
        f"rerun with `{replace_field}` to drop the cached {model} features of "
        f"{dataset}, or use another `workspace`",
    )


def referenced_shards(ws: Workspace) -> set[str]:
    """Every shard some manifest row points at."""
    return set(_fetch(ws, "SELECT DISTINCT shard FROM features")["shard"].to_pylist())


@contextmanager
def rewrite_lock(ws: Workspace) -> Iterator[None]:
    """Serialize manifest rewrites between processes, features and regions alike (appends need
    no lock: they add new part files)."""
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
    with rewrite_lock(ws):
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
    return _drop_rows(
        ws,
        lambda part: pc.fill_null(
            pc.and_(
                pc.and_(pc.equal(part["dataset"], dataset), pc.equal(part["model"], model)),
                pc.is_in(
                    pc.coalesce(part["query_id"], part["video_id"]),
                    pa.array(sorted(items), pa.string()),
                ),
            ),
            False,
        ),
    )
