"""Checked and unchecked shard reads: the training path skips fletcher32 and returns the bytes
as stored, checked reads and ``verify --deep`` report damage, and sound data reads the same
either way (whole rows, row subsets, token ids, the loader's row cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.cache import ShardReader, ShardWriter, StorageConfig, manifest_rows, verify_cache
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.loader import CachedQueryDataset
from stvg.stvgdata.query_features import RowCache
from stvg.stvgdata.sample_catalog import DATASET, CatalogVideo, install_catalog
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import RESNET, ROBERTA, commit_random_shard, flip_stored_bytes

FOUR_ROWS = StorageConfig(chunk_bytes=4 * 2 * 3 * 4 * 2)  # chunks of 4 rows of (2, 3, 4) float16
SUBSETS = [
    None,
    np.array([1, 2, 4]),
    np.array([0, 8]),
    np.array([0, 5, 6, 7]),
    np.array([], np.int64),
]


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    ws = Workspace(workspace)
    commit_random_shard(ws, {"v1": 14, "v2": 9}, FOUR_ROWS)
    writer = ShardWriter(ws, "shards/vidstg/roberta/t.h5", "vidstg", FOUR_ROWS)
    for n, query_id in ((3, "q1"), (6, "q2")):
        feats = np.random.default_rng(n).normal(size=(n, 8)).astype(np.float32)
        writer.add_query_tokens(ROBERTA, query_id, "v1", np.arange(n, dtype=np.int32), feats)
    writer.commit()
    return ws


def rows_of(ws: Workspace) -> dict[str, dict]:
    return {r["query_id"] or r["video_id"]: r for r in manifest_rows(ws).to_pylist()}


def test_sound_data_reads_the_same_checked_or_not(ws: Workspace) -> None:
    checked, unchecked = (
        ShardReader(ws.features_dir),
        ShardReader(ws.features_dir, verify_checksums=False),
    )
    cache = RowCache(ShardReader(ws.features_dir, verify_checksums=False), max_bytes=1 << 20)
    rows = rows_of(ws)
    for item in ("v1", "v2"):
        whole = checked.read(rows[item])
        assert whole.shape == (len(rows[item]["frame_idx"]), 2, 3, 4)
        for subset in SUBSETS:
            expected = whole if subset is None else whole[subset]
            np.testing.assert_array_equal(checked.read(rows[item], subset), expected)
            np.testing.assert_array_equal(unchecked.read(rows[item], subset), expected)
            np.testing.assert_array_equal(cache.read(rows[item], subset), expected)
    for query_id in ("q1", "q2"):
        np.testing.assert_array_equal(checked.read(rows[query_id]), unchecked.read(rows[query_id]))
        np.testing.assert_array_equal(
            unchecked.read(rows[query_id], np.array([0, 2])), checked.read(rows[query_id])[[0, 2]]
        )
        assert list(unchecked.read_token_ids(rows[query_id])) == list(
            range(len(checked.read(rows[query_id])))
        )


@pytest.mark.parametrize("item", ["v1", "q2"])
def test_flipped_bytes_are_served_unchecked_and_reported_checked(ws: Workspace, item: str) -> None:
    row = rows_of(ws)[item]
    sound = ShardReader(ws.features_dir).read(row)
    flip_stored_bytes(ws, row)
    served = ShardReader(ws.features_dir, verify_checksums=False).read(row)
    assert served.shape == sound.shape and not np.array_equal(served, sound, equal_nan=True)
    with pytest.raises(BadInputError, match=r"cannot read its features.*stvg verify --deep"):
        ShardReader(ws.features_dir, verify_checksums=True).read(row)
    report = verify_cache(ws, deep=True)
    assert item in {p.item for p in report.problems}  # and the chunk's other items
    assert all(p.reason.startswith("damaged data") for p in report.problems)


def test_the_loader_reads_unchecked(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, [CatalogVideo("v", Path("/none/v.mp4"), 12)], segment_frames=12)
    writer = ShardWriter(ws, "shards/sample/resnet101/a.h5", DATASET, FOUR_ROWS)
    handle = writer.begin_video(RESNET, "v", 10.0, np.arange(12), (2, 3, 4))
    writer.write_rows(handle, 0, np.ones((12, 2, 3, 4), np.float32))
    writer.finish_video(handle)
    writer.commit()
    flip_stored_bytes(ws, manifest_rows(ws).to_pylist()[0])
    data = CachedQueryDataset(
        ws, DATASET, "train", max_frames=12, features=FeatureSet(clip=None, text=None)
    )
    assert data[0]["frame_feats"].shape[0] == 12
    assert not verify_cache(ws, deep=True).ok
