"""``verify_cache`` passes a sound cache and names every kind of mismatch."""

from __future__ import annotations

import h5py
import numpy as np
import pyarrow as pa
import pytest

from stvg.stvgdata.cache import manifest_rows, verify_cache
from stvg.stvgdata.catalog import append_rows
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import commit_random_shard


@pytest.fixture
def ws(workspace) -> Workspace:
    ws = Workspace(workspace)
    commit_random_shard(ws, {"a": 6, "b": 8})
    return ws


def reasons(ws: Workspace, deep: bool = False) -> list[str]:
    report = verify_cache(ws, deep=deep)
    assert report.rows_checked == manifest_rows(ws).num_rows
    return [problem.reason for problem in report.problems]


def shard_of(ws: Workspace):
    return ws.features_dir / manifest_rows(ws)["shard"][0].as_py()


def test_a_sound_cache_verifies_deeply(ws: Workspace) -> None:
    assert reasons(ws, deep=True) == []


def test_missing_shard(ws: Workspace) -> None:
    shard_of(ws).unlink()
    found = reasons(ws)
    assert len(found) == 2 and all(r == "shard file missing" for r in found)


def test_corrupted_shard(ws: Workspace) -> None:
    path = shard_of(ws)
    path.write_bytes(path.read_bytes()[:200])
    assert all(r.startswith("shard unreadable") for r in reasons(ws)) and len(reasons(ws)) == 2


def test_missing_array_and_wrong_attributes(ws: Workspace) -> None:
    with h5py.File(shard_of(ws), "r+") as handle:
        del handle["resnet101/a"]
        handle["resnet101/b"].attrs["fingerprint"] = "tampered"
    found = reasons(ws)
    assert any("array /resnet101/a missing" in r for r in found)
    assert any("attribute fingerprint" in r for r in found)


def test_row_range_and_duplicate_rows(ws: Workspace) -> None:
    row = manifest_rows(ws).to_pylist()[0]
    append_rows(ws, "features", pa.Table.from_pylist([{**row, "row_end": 99}]))
    found = reasons(ws)
    assert any("outside the array" in r for r in found)
    assert any("2 manifest rows" in r for r in found)


def test_deep_finds_non_finite_values(ws: Workspace) -> None:
    with h5py.File(shard_of(ws), "r+") as handle:
        handle["resnet101/b"][5, 0, 0, 0] = np.inf
    assert reasons(ws) == []
    assert reasons(ws, deep=True) == ["non-finite values in rows from 0"]


def test_unreferenced_shards_are_listed_not_failed(ws: Workspace) -> None:
    stray = shard_of(ws).with_name("w0000of0001-stray.h5")
    stray.write_bytes(b"x")
    report = verify_cache(ws)
    assert report.ok and report.unreferenced == [stray.relative_to(ws.features_dir).as_posix()]
