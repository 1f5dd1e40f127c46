"""The shard writer/reader pair, the manifest helpers and the work split (no models here)."""

from __future__ import annotations

import os
import time

import h5py
import numpy as np
import pytest

from stvg.stvgdata.cache import (
    ShardReader,
    ShardWriter,
    StorageConfig,
    WorkSplit,
    drop_model,
    manifest_rows,
    remove_stale_files,
    worker_lock,
)
from stvg.stvgdata.cache.plan import new_shard_name
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract_plan import PlannedRows, other_fingerprint, refuse_other_fingerprint
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import RESNET, ROBERTA, commit_random_shard


@pytest.fixture
def ws(workspace) -> Workspace:
    return Workspace(workspace)


def test_frame_arrays_round_trip_with_attributes_and_time_chunks(ws: Workspace) -> None:
    storage = StorageConfig(chunk_bytes=4 * 2 * 3 * 4 * 2, compression="gzip")  # 4 rows
    writer, arrays = commit_random_shard(ws, {"v/1": 10, "v2": 5}, storage)
    rows = {row["video_id"]: row for row in manifest_rows(ws, "vidstg").to_pylist()}
    assert set(rows) == {"v/1", "v2"}
    assert rows["v/1"]["frame_idx"] == list(range(0, 60, 6)) and rows["v/1"]["shape"] == [2, 3, 4]
    with h5py.File(writer.final_path) as handle:
        data = handle[rows["v/1"]["array_path"]]
        assert data.dtype == np.float16 and data.chunks == (4, 2, 3, 4)
        assert data.compression == "gzip"
        for attr in ("model", "fingerprint", "description", "axes", "dataset", "video_id", "fps"):
            assert attr in data.attrs
        assert data.attrs["axes"] == "T,H,W,C" and data.attrs["video_id"] == "v/1"
        assert list(data.attrs["frame_idx"]) == rows["v/1"]["frame_idx"]
    reader = ShardReader(ws.features_dir)
    expected = arrays["v/1"].astype(np.float16)
    np.testing.assert_array_equal(reader.read(rows["v/1"]), expected)
    np.testing.assert_array_equal(
        reader.read(rows["v/1"], np.array([1, 2, 4])), expected[[1, 2, 4]]
    )
    np.testing.assert_array_equal(reader.read(rows["v/1"], np.array([0, 9])), expected[[0, 9]])


def test_tokens_concatenate_and_each_query_owns_its_rows(ws: Workspace) -> None:
    writer = ShardWriter(ws, "shards/vidstg/roberta/t.h5", "vidstg")
    for n, query_id in ((3, "q1"), (5, "q2")):
        feats = np.full((n, 8), n, np.float32)
        writer.add_query_tokens(ROBERTA, query_id, "v1", np.arange(n, dtype=np.int32), feats)
    writer.commit()
    rows = {row["query_id"]: row for row in manifest_rows(ws, "vidstg", "roberta").to_pylist()}
    assert (rows["q2"]["row_start"], rows["q2"]["row_end"]) == (3, 8)
    reader = ShardReader(ws.features_dir)
    assert (reader.read(rows["q2"]) == 5).all() and reader.read(rows["q2"]).shape == (5, 8)
    assert list(reader.read_token_ids(rows["q1"])) == [0, 1, 2]


def test_nothing_is_visible_before_commit_and_abort_leaves_nothing(ws: Workspace) -> None:
    writer = ShardWriter(ws, "shards/vidstg/resnet101/a.h5", "vidstg")
    handle = writer.begin_video(RESNET, "v1", 5.0, np.arange(2), (1, 1, 4))
    writer.write_rows(handle, 0, np.ones((2, 1, 1, 4)))
    writer.finish_video(handle)
    assert writer.temp_path.exists() and not writer.final_path.exists()
    assert manifest_rows(ws).num_rows == 0
    writer.abort()
    assert not list(writer.final_path.parent.iterdir())


def test_a_failed_video_is_discarded_from_its_shard(ws: Workspace) -> None:
    writer = ShardWriter(ws, "shards/vidstg/resnet101/b.h5", "vidstg")
    good = writer.begin_video(RESNET, "good", 5.0, np.arange(2), (1, 1, 4))
    bad = writer.begin_video(RESNET, "bad", 5.0, np.arange(4), (1, 1, 4))
    writer.write_rows(good, 0, np.ones((2, 1, 1, 4)))
    writer.write_rows(bad, 0, np.ones((1, 1, 1, 4)))  # then its decoding failed
    writer.discard_video(bad)
    writer.finish_video(good)
    writer.commit()
    assert manifest_rows(ws)["video_id"].to_pylist() == ["good"]
    with h5py.File(writer.final_path) as handle:
        assert list(handle["resnet101"]) == ["good"]


def test_incomplete_arrays_never_enter_the_manifest(ws: Workspace) -> None:
    writer = ShardWriter(ws, "shards/vidstg/resnet101/c.h5", "vidstg")
    handle = writer.begin_video(RESNET, "v", 5.0, np.arange(4), (1, 1, 4))
    writer.write_rows(handle, 0, np.ones((3, 1, 1, 4)))
    with pytest.raises(ValueError, match="3 of 4 rows"):
        writer.finish_video(handle)
    assert writer.commit() == 0 and not writer.final_path.exists()


def test_shard_is_full_after_max_items(ws: Workspace) -> None:
    writer, _ = commit_random_shard(ws, {"a": 6, "b": 6}, StorageConfig(max_items=2))
    assert writer.full


def test_fingerprint_mismatch_is_refused_with_a_way_out(ws: Workspace) -> None:
    commit_random_shard(ws, {"a": 6})
    planned = PlannedRows("", 5.0, (2, 2, 8), "float16", {})
    refuse_other_fingerprint(ws, "vidstg", "resnet101", RESNET.fingerprint, planned)  # same
    refuse_other_fingerprint(ws, "hcstvg-v1", "resnet101", "other", planned)  # other dataset
    with pytest.raises(BadInputError, match="`replace_model_cache`") as caught:
        refuse_other_fingerprint(ws, "vidstg", "resnet101", "other", planned)
    assert "fp-resnet" in str(caught.value) and "\n" not in str(caught.value)


def test_cached_fingerprints_come_from_the_manifest_without_opening_shards(ws: Workspace) -> None:
    writer, _ = commit_random_shard(ws, {"a": 6, "b": 6})
    writer.final_path.write_bytes(b"garbage")  # unreadable now; planning must not care
    planned = PlannedRows("", 5.0, (2, 2, 8), "float16", {})
    other = other_fingerprint(ws, "vidstg", "resnet101", "other", planned)
    assert other is not None and other.startswith(f"fingerprint {RESNET.fingerprint} (2 rows)")


def test_drop_model_removes_rows_then_shards_of_that_model_only(ws: Workspace) -> None:
    writer, _ = commit_random_shard(ws, {"a": 6})
    tokens = ShardWriter(ws, "shards/vidstg/roberta/t.h5", "vidstg")
    tokens.add_query_tokens(ROBERTA, "q", "a", np.arange(2, dtype=np.int32), np.ones((2, 4)))
    tokens.commit()
    assert drop_model(ws, "vidstg", "resnet101", keep_fingerprint=RESNET.fingerprint) == 0
    assert drop_model(ws, "vidstg", "resnet101") == 1
    assert manifest_rows(ws)["model"].to_pylist() == ["roberta"]
    assert not writer.final_path.exists() and tokens.final_path.exists()


def test_work_split_is_disjoint_complete_and_stable() -> None:
    ids = [f"video{i}" for i in range(200)]
    parts = [{v for v in ids if WorkSplit(3, i).owns(v)} for i in range(3)]
    assert set.union(*parts) == set(ids) and sum(map(len, parts)) == len(ids)
    assert all(len(part) > 30 for part in parts)
    assert parts[1] == {v for v in ids if WorkSplit(3, 1).owns(v)}
    with pytest.raises(BadInputError, match="shard index"):
        WorkSplit(2, 2)


def test_one_process_per_shard_index(ws: Workspace) -> None:
    with worker_lock(ws, "vidstg", WorkSplit(2, 0)):
        with (
            pytest.raises(BadInputError, match="another extraction"),
            worker_lock(ws, "vidstg", WorkSplit(2, 0)),
        ):
            pass
        with worker_lock(ws, "vidstg", WorkSplit(2, 1)):
            pass


def test_stale_files_of_this_prefix_are_removed_others_kept(ws: Workspace) -> None:
    mine, other = WorkSplit(2, 0), WorkSplit(2, 1)
    committed, _ = commit_random_shard(
        ws, {"a": 6}, name=new_shard_name("vidstg", "resnet101", mine)
    )
    directory = committed.final_path.parent
    leftovers = [
        directory / f".{mine.prefix}x.h5.tmp-123",  # killed while writing
        directory / f"{mine.prefix}orphan.h5",  # killed between rename and manifest
    ]
    kept = [directory / f".{other.prefix}y.h5.tmp-456", directory / f"{other.prefix}z.h5"]
    for path in leftovers + kept:
        path.write_bytes(b"x")
    assert remove_stale_files(ws, "vidstg", ["resnet101"], mine) == 2
    assert all(p.exists() for p in [*kept, committed.final_path])
    assert not any(p.exists() for p in leftovers)


def test_old_temporary_manifest_parts_are_removed_fresh_ones_kept(ws: Workspace) -> None:
    directory = ws.table_dir("features")
    directory.mkdir(parents=True)
    dead, live = directory / ".part-1.parquet.tmp-aa", directory / ".part-2.parquet.tmp-bb"
    for path in (dead, live):
        path.write_bytes(b"x")
    hours_ago = time.time() - 2 * 3600
    os.utime(dead, (hours_ago, hours_ago))
    assert remove_stale_files(ws, "vidstg", ["resnet101"], WorkSplit()) == 1
    assert live.exists() and not dead.exists()
