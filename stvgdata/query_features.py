"""Per-query access to the feature cache, the one way every method reads cached features.

A method names the feature models it reads; ``FeatureRows`` resolves, per query, the manifest
row of each (a video's frame rows for frame models, the query's own rows for token models),
checks once that each model has one fingerprint and that no row's input changed since
extraction, and reads arrays through one process-local ``RowCache``. ``query_rows`` is the one
catalog read of a split's queries. CSDVL reads through ``stvgdata.loader`` (a torch Dataset
over this), STOP and CoSPaL through their ``data`` modules; none opens a manifest or a shard
itself. Region sets are rows of the same store (``stvgdata.cache.regions``) and are read through
``video_regions`` and ``sentence_embeddings`` here (CoSPaL, E3M).

Shards are opened lazily by whichever process reads (each DataLoader worker opens its own
handles). A video's rows serve every query posed on it, epoch after epoch, and one small HDF5
read costs far more than slicing memory, so whole rows stay in an LRU cache bounded by
``cache_bytes`` (0 turns it off).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from stvg.stvgdata.cache import InputCheck, ShardReader, item_column, row_config
from stvg.stvgdata.cache.regions import VideoRegions, read_query_embeddings, read_video_regions
from stvg.stvgdata.catalog import query as catalog_query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

DEFAULT_CACHE_BYTES = 2 << 30  # per process; 0 turns the row cache off
STALE_CHECK_COLUMNS = ("v.path", "q.sentence")  # what ``InputCheck`` compares rows against


def query_rows(ws: Workspace, dataset: str, split: str, columns: Sequence[str]) -> list[dict]:
    """``columns`` (``q.`` the queries table, ``v.`` its video's row) of every query of
    ``dataset``/``split``, ordered by query id. Methods select only what they may see."""
    sql = (
        f"SELECT {', '.join(columns)} FROM queries q JOIN videos v "
        "ON q.dataset = v.dataset AND q.video_id = v.video_id "
        "WHERE q.dataset = ? AND q.split = ? ORDER BY q.query_id"
    )
    return catalog_query(ws, sql, [dataset, split]).to_pylist()


def video_regions(
    ws: Workspace, dataset: str, video_id: str, boxes: str = "tubelets"
) -> VideoRegions:
    """A video's cached regions (``boxes``: tubelets or detections) and frame embeddings (the
    region-set feature kind)."""
    return read_video_regions(ws, dataset, video_id, boxes)


def sentence_embeddings(ws: Workspace, dataset: str, query_ids: Sequence[str]) -> np.ndarray:
    """(Q, D) float32 L2-normalized sentence embeddings of ``query_ids`` by the encoder of
    ``dataset``'s region set, in that order."""
    return read_query_embeddings(ws, dataset, query_ids)


class RowCache:
    """Whole manifest rows (a video's frames, a query's tokens) kept in memory, least recently
    used first out once their total exceeds ``max_bytes``; rows larger than that are read and
    not kept."""

    def __init__(self, reader: ShardReader, max_bytes: int) -> None:
        self.reader = reader
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._rows: OrderedDict[tuple[str, str, int], np.ndarray] = OrderedDict()

    def read(self, row: dict[str, Any], positions: np.ndarray | None = None) -> np.ndarray:
        """The row's array (n, ...), or only its ``positions`` (a copy, never a view)."""
        if self.max_bytes <= 0:
            return self.reader.read(row, positions)
        key = (row["shard"], row["array_path"], int(row["row_start"]))
        array = self._cached(key, lambda: self.reader.read(row))
        return array.copy() if positions is None else array[positions]

    def token_ids(self, row: dict[str, Any]) -> np.ndarray:
        """Token ids (L,) of a token-model manifest row."""
        if self.max_bytes <= 0:
            return self.reader.read_token_ids(row)
        key = (row["shard"], f"{row['model']}/token_ids", int(row["row_start"]))
        return self._cached(key, lambda: self.reader.read_token_ids(row)).copy()

    def _cached(self, key: tuple[str, str, int], read: Callable[[], np.ndarray]) -> np.ndarray:
        """The array under ``key``, read (and kept) on a miss."""
        array = self._rows.get(key)
        if array is not None:
            self._rows.move_to_end(key)
            return array
        return self._keep(key, read())

    def _keep(self, key: tuple[str, str, int], array: np.ndarray) -> np.ndarray:
        """Remember ``array`` under ``key``, evicting the least recently used rows."""
        if array.nbytes > self.max_bytes:
            return array
        self._rows[key] = array
        self.nbytes += array.nbytes
        while self.nbytes > self.max_bytes:
            self.nbytes -= self._rows.popitem(last=False)[1].nbytes
        return array


class FeatureRows:
    """The cached rows of ``models`` on ``dataset`` for ``queries``, checked once.

    ``queries`` are catalog rows with ``query_id`` and ``video_id`` (and, to tell stale rows,
    ``path`` and ``sentence``: ``STALE_CHECK_COLUMNS``). A model whose rows carry several
    fingerprints is refused here; a row whose input changed is refused when a query asks for it.
    """

    def __init__(
        self,
        ws: Workspace,
        dataset: str,
        models: Iterable[str],
        queries: Sequence[dict[str, Any]],
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.features_dir = ws.features_dir
        self.dataset = dataset
        self.models = tuple(models)
        self.cache_bytes = cache_bytes
        rows = catalog_query(
            ws,
            "SELECT * FROM features WHERE dataset = ? AND list_contains(?, model)",
            [dataset, list(self.models)],
        ).to_pylist()
        self._check_single_fingerprint(rows)
        self._by_item = {(r["model"], r[item_column(r["model"])]): r for r in rows}
        self.inputs = InputCheck(
            {q["video_id"]: q["path"] for q in queries if q.get("path") is not None},
            {q["query_id"]: q["sentence"] for q in queries if q.get("sentence") is not None},
        )
        self._cache: RowCache | None = None
        self._cache_pid = -1

    def _check_single_fingerprint(self, rows: list[dict[str, Any]]) -> None:
        prints: dict[str, set[str]] = {}
        for row in rows:
            prints.setdefault(row["model"], set()).add(row["fingerprint"])
        mixed = {model: fps for model, fps in prints.items() if len(fps) > 1}
        if mixed:
            raise BadInputError(
                self.features_dir, self.dataset, f"cache mixes fingerprints of a model: {mixed}"
            )

    def find(self, model: str, query: dict[str, Any]) -> dict[str, Any] | None:
        """``model``'s row for ``query`` (its video's or its own), stale-checked; None when not
        cached."""
        row = self._by_item.get((model, query[item_column(model)]))
        if row is not None:
            self.inputs.refuse_stale([row])
        return row

    def require(self, model: str, query: dict[str, Any]) -> dict[str, Any]:
        """``model``'s row for ``query``; a one-line error naming the item when not cached."""
        row = self.find(model, query)
        if row is None:
            raise BadInputError(
                self.features_dir,
                f"{self.dataset}/{model}/{query[item_column(model)]}",
                f"not cached; run `stvg extract --features {model}`",
            )
        return row

    def for_query(self, query: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
        """Every model's row for ``query`` (model -> row), or None when one is not cached."""
        rows = {m: self._by_item.get((m, query[item_column(m)])) for m in self.models}
        if any(row is None for row in rows.values()):
            return None
        self.inputs.refuse_stale(rows.values())
        return rows

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None, "_cache_pid": -1}

    @property
    def cache(self) -> RowCache:
        """This process's shard handles and row cache, made on first use (never inherited
        across fork)."""
        if self._cache is None or self._cache_pid != os.getpid():
            reader = ShardReader(self.features_dir, verify_checksums=False)
            self._cache, self._cache_pid = RowCache(reader, self.cache_bytes), os.getpid()
        return self._cache

    def read(self, row: dict[str, Any], positions: np.ndarray | None = None) -> np.ndarray:
        """The row's array (n, ...), or only its ``positions``."""
        return self.cache.read(row, positions)

    def token_ids(self, row: dict[str, Any]) -> np.ndarray:
        """Token ids (L,) of a token-model row."""
        return self.cache.token_ids(row)

    def config(self, row: dict[str, Any]) -> dict[str, Any]:
        """The extractor config the manifest stores with a row (``cache.row_config``)."""
        return row_config(row, self.features_dir)

    def frame_size(self, row: dict[str, Any]) -> tuple[int, int]:
        """(H, W) the frames of a frame-model row were resized to before its network."""
        height, width = self.config(row)["size"]
        return int(height), int(width)

    def close(self) -> None:
        """Close this process's shard handles (reads reopen them)."""
        if self._cache is not None:
            self._cache.reader.close()
        self._cache = None
