"""Builders that turn parsed records into catalog tables: column lists for the small tables,
NumPy chunks for the boxes table (millions of rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from stvg.schemas import schema_for, validate_table
from stvg.stvgdata.errors import BadInputError


class RowBuffer:
    """Rows of one catalog table, collected as dicts and turned into Arrow once.

    The ``dataset`` column is constant and filled in at the end; optional columns left out of
    ``append`` become nulls.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self._body = pa.schema([f for f in schema_for(table) if f.name != "dataset"])
        self._names = frozenset(self._body.names)
        self._rows: list[dict[str, object]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, **row: object) -> int:
        """Add one row; returns its index."""
        if not self._names >= row.keys():
            raise KeyError(f"{self.table} has no columns {sorted(row.keys() - self._names)}")
        self._rows.append(row)
        return len(self._rows) - 1

    def value(self, index: int, name: str) -> object:
        return self._rows[index].get(name)

    def column(self, name: str) -> list:
        return [row.get(name) for row in self._rows]

    def to_table(self, dataset: str) -> pa.Table:
        body = pa.Table.from_pylist(self._rows, schema=self._body)
        table = body.append_column("dataset", pa.repeat(pa.scalar(dataset), len(self._rows)))
        return validate_table(self.table, table, dataset)


class UniqueIds:
    """Remembers where each id was first seen, to report duplicates with both places."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._first: dict[str, str] = {}

    def claim(self, id_: str, file: Path, record: str) -> None:
        first = self._first.get(id_)
        if first is not None:
            raise BadInputError(file, record, f"duplicate {self.what} {id_!r} (also at {first})")
        self._first[id_] = f"{file}: {record}"


class BoxChunks:
    """Per-query box arrays, concatenated into the boxes table in one vectorized step.

    A VidSTG-scale import holds about 30 million box rows: every column is built by NumPy
    passes over whole arrays, never through per-row Python objects, and the two id columns are
    dictionary-encoded (row -> index into the ids): Parquet writes them as plain string columns
    without 30 million strings ever being built.
    """

    def __init__(self) -> None:
        self._query_rows: list[int] = []
        self._frames: list[np.ndarray] = []
        self._boxes: list[np.ndarray] = []

    def add(self, query_row: int, frame_idx: np.ndarray, xyxy: np.ndarray) -> None:
        """Pixel boxes ``xyxy (N, 4)`` at absolute ``frame_idx (N,)`` of query row ``query_row``."""
        self._query_rows.append(query_row)
        self._frames.append(frame_idx)
        self._boxes.append(xyxy.T)  # (4, N): concatenated into contiguous columns

    def to_table(self, dataset: str, query_ids: list[str]) -> pa.Table:
        lengths = np.fromiter(map(len, self._frames), np.int64, len(self._frames))
        query_rows = np.repeat(np.asarray(self._query_rows, np.int32), lengths)  # (rows,)
        frames = np.concatenate(self._frames) if self._frames else np.empty(0, np.int32)
        columns = np.empty((4, len(frames)), np.float32)  # x1, y1, x2, y2; each row contiguous
        if self._boxes:  # (into ``out``: from transposed chunks NumPy would pick column order)
            np.concatenate(self._boxes, axis=1, out=columns)
        table = pa.table(
            {
                "dataset": encoded_strings(np.zeros(len(frames), np.int8), [dataset]),
                "query_id": encoded_strings(query_rows, query_ids),
                "frame_idx": pa.array(frames.astype(np.int32, copy=False)),
                **{name: pa.array(columns[k]) for k, name in enumerate(("x1", "y1", "x2", "y2"))},
            }
        )
        return validate_table("boxes", table, dataset)


def encoded_strings(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """The string column ``values[indices[i]]``, dictionary-encoded (no string per row)."""
    return pa.DictionaryArray.from_arrays(pa.array(indices), pa.array(values, pa.string()))


class VideoRows:
    """The videos table: one row per video id; a video met again must stay in its split."""

    def __init__(self) -> None:
        self.rows = RowBuffer("videos")
        self._row_of: dict[str, int] = {}

    def __contains__(self, video_id: str) -> bool:
        return video_id in self._row_of

    def get(self, video_id: str, column: str) -> object:
        return self.rows.value(self._row_of[video_id], column)

    def add(self, file: Path, record: str, video_id: str, split: str, **columns: object) -> None:
        """Add the video unless it is already there (then only its split is checked)."""
        if video_id in self._row_of:
            first_split = self.get(video_id, "split")
            if first_split != split:
                raise BadInputError(
                    file, record, f"duplicate video id {video_id!r}: already in split {first_split}"
                )
            return
        self._row_of[video_id] = self.rows.append(video_id=video_id, split=split, **columns)
