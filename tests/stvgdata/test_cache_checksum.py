"""Shard contents carry fletcher32 checksums: overwritten bytes fail ``verify --deep`` and
checked reads (one line, no traceback), and the next ``extract`` recomputes what ``verify``
flagged or what lost its shard."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pytest

from stvg.stvgdata.cache import ShardReader, manifest_rows, verify_cache
from stvg.stvgdata.catalog import append_rows
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import (
    flip_stored_bytes,
    tiny_config,
    two_video_workspace,
)

MODELS = ("resnet101", "roberta")


pytestmark = pytest.mark.filterwarnings("ignore")  # random-init warnings of tiny networks


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws, _ = two_video_workspace(tmp_path)
    run_extraction(ws, tiny_config(models=MODELS))
    return ws


def row_of(ws: Workspace, model: str, item: str) -> dict:
    column = "query_id" if model == "roberta" else "video_id"
    return next(r for r in manifest_rows(ws, model=model).to_pylist() if r[column] == item)


def test_every_array_is_checksummed(ws: Workspace) -> None:
    for shard in {row["shard"] for row in manifest_rows(ws).to_pylist()}:
        with h5py.File(ws.features_dir / shard, "r") as handle:
            names: list[str] = []
            handle.visit(names.append)
            arrays = [handle[name] for name in names if isinstance(handle[name], h5py.Dataset)]
            assert arrays and all(array.fletcher32 for array in arrays)


@pytest.mark.parametrize(("model", "item"), [("resnet101", "a"), ("roberta", "b-q0")])
def test_flipped_bytes_fail_deep_verify_and_reads_then_extract_repairs(
    ws: Workspace, model: str, item: str
) -> None:
    flip_stored_bytes(ws, row_of(ws, model, item))
    assert verify_cache(ws).ok  # metadata is intact
    report = verify_cache(ws, deep=True)
    assert not report.ok and report.recorded
    assert {(p.model, p.item) for p in report.problems} >= {(model, item)}
    assert all("damaged" in p.reason for p in report.problems)
    with pytest.raises(BadInputError, match=r"cannot read its features.*stvg verify --deep"):
        ShardReader(ws.features_dir).read(row_of(ws, model, item))

    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert (model, item) in {(r.model, r.item) for r in summary.redo}
    assert all(r.reason.startswith("verify found: damaged") for r in summary.redo)
    assert verify_cache(ws, deep=True).ok
    assert run_extraction(ws, tiny_config(models=MODELS)).redo == []  # repaired for good


def test_a_truncated_shard_is_flagged_by_verify_and_recomputed(ws: Workspace) -> None:
    path = ws.features_dir / row_of(ws, "resnet101", "a")["shard"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    report = verify_cache(ws)
    assert {p.item for p in report.problems} == {"a", "b"}
    assert all(p.reason.startswith("shard unreadable") for p in report.problems)
    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert sorted(r.item for r in summary.redo) == ["a", "b"]
    assert verify_cache(ws, deep=True).ok and not path.exists()


def test_a_deleted_shard_is_recomputed_without_verify(ws: Workspace) -> None:
    (ws.features_dir / row_of(ws, "resnet101", "a")["shard"]).unlink()
    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert {r.item: r.reason.split(" shards/")[0] for r in summary.redo} == {
        "a": "its shard",
        "b": "its shard",
    }
    assert verify_cache(ws, deep=True).ok


def test_non_finite_values_are_recomputed_after_deep_verify(ws: Workspace) -> None:
    row = row_of(ws, "resnet101", "b")
    with h5py.File(ws.features_dir / row["shard"], "r+") as handle:
        handle[row["array_path"]][0, 0, 0, 0] = np.nan  # through HDF5: the checksum agrees
    assert [p.item for p in verify_cache(ws, deep=True).problems] == ["b"]
    assert [r.item for r in run_extraction(ws, tiny_config(models=MODELS)).redo] == ["b"]
    assert verify_cache(ws, deep=True).ok


def test_duplicate_rows_are_recomputed_once(ws: Workspace) -> None:
    append_rows(ws, "features", pa.Table.from_pylist([row_of(ws, "resnet101", "a")]))
    assert {p.item for p in verify_cache(ws).problems} == {"a"}
    assert [r.item for r in run_extraction(ws, tiny_config(models=MODELS)).redo] == ["a"]
    assert verify_cache(ws).ok and manifest_rows(ws, model="resnet101").num_rows == 2
