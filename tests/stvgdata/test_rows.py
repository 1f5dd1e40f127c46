"""The boxes table is assembled from per-query arrays without per-row Python objects, and holds
exactly the rows a row-by-row build would; the import's pause of cyclic GC is always undone."""

from __future__ import annotations

import gc

import numpy as np
import pyarrow as pa
import pytest

from stvg.stvgdata.adapters.base import gc_paused
from stvg.stvgdata.adapters.rows import BoxChunks


def test_box_chunks_match_a_row_by_row_build():
    rng = np.random.default_rng(0)
    chunks = BoxChunks()
    expected = []
    query_ids = ["v1@0/d0", "v1@0/i0", "v2@5/d0"]
    for query_row, length, dtype in ((2, 3, np.float64), (0, 0, np.float32), (1, 4, np.float32)):
        frames = np.arange(10, 10 + length, dtype=np.int32)
        xyxy = rng.uniform(0, 100, (length, 4)).astype(dtype)
        chunks.add(query_row, frames, xyxy)
        for frame, box in zip(frames.tolist(), xyxy.astype(np.float32).tolist(), strict=True):
            expected.append((query_ids[query_row], frame, *box))
    table = chunks.to_table("vidstg", query_ids)
    columns = ("query_id", "frame_idx", "x1", "y1", "x2", "y2")
    rows = list(zip(*(table.column(name).to_pylist() for name in columns), strict=True))
    assert rows == expected
    assert set(table.column("dataset").to_pylist()) == {"vidstg"}
    assert pa.types.is_dictionary(table.schema.field("query_id").type)  # ids not repeated


def test_empty_box_chunks_give_an_empty_table():
    table = BoxChunks().to_table("vidstg", [])
    assert table.num_rows == 0
    assert table.schema.field("x1").type == pa.float32()


def test_gc_paused_restores_collection_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
