"""``RowCache``: the query reader's cache of whole manifest rows (a stub reader counts the
HDF5 reads it would have made)."""

from __future__ import annotations

from typing import Any

import numpy as np

from stvg.stvgdata.query_features import RowCache


class CountingReader:
    """Stands in for ``ShardReader``: row ``row_start`` holds ``row_start + arange(n)``."""

    def __init__(self, rows: int = 10, width: int = 4) -> None:
        self.rows, self.width = rows, width
        self.reads = 0

    def _array(self, row: dict[str, Any]) -> np.ndarray:
        self.reads += 1
        start = row["row_start"]
        return np.arange(self.rows * self.width, dtype=np.float32).reshape(self.rows, -1) + start

    def read(self, row: dict[str, Any], rows: np.ndarray | None = None) -> np.ndarray:
        array = self._array(row)
        return array if rows is None else array[rows]

    def read_token_ids(self, row: dict[str, Any]) -> np.ndarray:
        self.reads += 1
        return np.arange(5) + row["row_start"]


def _row(start: int) -> dict[str, Any]:
    return {
        "shard": "s.h5",
        "model": "m",
        "array_path": "m/v",
        "row_start": start,
        "row_end": start + 10,
    }


def test_repeated_reads_come_from_memory_and_match_the_reader() -> None:
    reader = CountingReader()
    cache = RowCache(reader, max_bytes=1 << 20)  # type: ignore[arg-type]
    positions = np.array([1, 4, 7])
    first = cache.read(_row(0), positions)
    again = cache.read(_row(0), positions)
    whole = cache.read(_row(0))
    assert reader.reads == 1
    np.testing.assert_array_equal(first, CountingReader().read(_row(0), positions))
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(whole, CountingReader().read(_row(0)))
    whole[:] = -1  # callers get copies: the cached rows stay intact
    np.testing.assert_array_equal(cache.read(_row(0), positions), first)
    np.testing.assert_array_equal(cache.token_ids(_row(3)), np.arange(5) + 3)
    cache.token_ids(_row(3))
    assert reader.reads == 2


def test_the_byte_budget_evicts_the_least_recently_used_row() -> None:
    reader = CountingReader()
    one_row = CountingReader().read(_row(0)).nbytes
    cache = RowCache(reader, max_bytes=2 * one_row)  # type: ignore[arg-type]
    cache.read(_row(0))
    cache.read(_row(10))
    cache.read(_row(0))  # row 0 is now the most recent
    cache.read(_row(20))  # evicts row 10
    assert cache.nbytes <= 2 * one_row
    reads = reader.reads
    cache.read(_row(0))
    assert reader.reads == reads
    cache.read(_row(10))
    assert reader.reads == reads + 1


def test_a_zero_budget_reads_through() -> None:
    reader = CountingReader()
    cache = RowCache(reader, max_bytes=0)  # type: ignore[arg-type]
    cache.read(_row(0))
    cache.read(_row(0))
    assert reader.reads == 2 and cache.nbytes == 0
