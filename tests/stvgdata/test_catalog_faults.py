"""The catalog under faults: damaged files fail only the statements that read them (one line
naming the file) and are repaired; a missing workspace or version is never an empty catalog;
disk errors during an import are one line and leave nothing behind; readers stay pinned to the
version they opened while a re-import runs."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from stvg.stvgdata import catalog
from stvg.stvgdata.catalog import append_rows, query, read_index, read_table
from stvg.stvgdata.catalog_check import repair_catalog, verify_catalog
from stvg.stvgdata.errors import BadInputError, FaultError
from stvg.stvgdata.importer import import_dataset
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.dataset_files import hcstvg_sample, write_hcstvg


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "ws").mkdir()
    return Workspace(tmp_path / "ws")


@pytest.fixture
def imported(ws: Workspace, tmp_path: Path) -> Path:
    """Import the HC-STVG sample; returns the version directory."""
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    return import_dataset(ws, "hcstvg-v1", root, check_videos=False).version_dir


def _truncate(path: Path, size: int = 40) -> None:
    path.write_bytes(path.read_bytes()[:size])


def _count(ws: Workspace, table: str) -> int:
    return query(ws, f"SELECT count(*) AS n FROM {table}")["n"][0].as_py()


def test_a_damaged_part_fails_only_the_statements_that_read_it(ws, imported):
    _truncate(imported / "boxes.parquet")
    with pytest.raises(FaultError, match=r"boxes\.parquet: damaged Parquet file .*--repair"):
        query(ws, "SELECT count(*) FROM boxes")
    with pytest.raises(FaultError, match=r"boxes\.parquet: damaged"):
        query(ws, "SELECT 1 FROM queries WHERE query_id IN (SELECT query_id FROM boxes)")
    with pytest.raises(FaultError, match=r"boxes\.parquet: damaged"):
        read_table(ws, "boxes")
    assert _count(ws, "queries") == 2
    assert "boxes" in query(ws, "SHOW TABLES")["name"].to_pylist()


def test_a_truncated_index_fails_dataset_tables_only_and_is_rebuilt(ws, imported):
    _truncate(ws.catalog_index, 10)
    with pytest.raises(FaultError, match=r"index\.json: damaged"):
        query(ws, "SELECT * FROM videos")
    assert _count(ws, "runs") == 0
    [problem] = verify_catalog(ws)
    assert problem.path == str(ws.catalog_index) and problem.repair == "rebuilt from the versions"
    repair_catalog(ws)
    assert read_index(ws) == {"hcstvg-v1": imported.name}
    assert _count(ws, "queries") == 2 and verify_catalog(ws) == []


def test_a_damaged_version_is_moved_aside_and_the_dataset_must_be_reimported(ws, imported):
    _truncate(imported / "queries.parquet")
    [problem] = verify_catalog(ws)
    assert problem.path == str(imported / "queries.parquet")
    assert "re-import it with `stvg import hcstvg-v1`" in problem.repair
    repair_catalog(ws)
    assert read_index(ws) == {}
    assert (ws.catalog_dir / "damaged" / imported.name / "queries.parquet").is_file()
    assert verify_catalog(ws) == []


def test_a_damaged_append_only_part_is_moved_aside(ws, imported):
    part = append_rows(ws, "failures", pa.Table.from_pylist([_failure("x")]))
    kept = append_rows(ws, "failures", pa.Table.from_pylist([_failure("y")]))
    _truncate(part)
    with pytest.raises(FaultError, match=part.name):
        query(ws, "SELECT * FROM failures")
    assert [p.path for p in verify_catalog(ws)] == [str(part)]
    repair_catalog(ws)
    assert (ws.catalog_dir / "damaged" / "failures" / part.name).is_file() and kept.is_file()
    assert query(ws, "SELECT item FROM failures")["item"].to_pylist() == ["y"]


def _failure(item: str) -> dict[str, object]:
    return catalog.failure_row("extract", "hcstvg-v1", item, "boom")


def test_a_missing_version_directory_is_not_an_empty_catalog(ws, imported):
    for path in imported.iterdir():
        path.unlink()
    imported.rmdir()
    with pytest.raises(FaultError, match=rf"{imported.name}: missing"):
        query(ws, "SELECT count(*) FROM videos")
    assert "missing" in verify_catalog(ws)[0].problem


def test_a_missing_workspace_is_refused(tmp_path):
    ws = Workspace(tmp_path / "typo")
    with pytest.raises(BadInputError, match="typo: workspace does not exist"):
        query(ws, "SELECT 1")
    with pytest.raises(BadInputError, match="workspace does not exist"):
        read_table(ws, "runs")
    with pytest.raises(BadInputError, match="workspace does not exist"):
        verify_catalog(ws)
    assert not ws.root.exists()


def test_a_directory_that_is_not_a_workspace_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BadInputError, match="not a stvg workspace"):
        query(Workspace(tmp_path), "SELECT 1")


def test_an_empty_directory_is_an_empty_workspace(ws):
    assert _count(ws, "videos") == 0


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_disk_errors_during_an_import_are_one_fault_and_leave_nothing(
    ws, tmp_path, monkeypatch, code
):
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    first = import_dataset(ws, "hcstvg-v1", root, check_videos=False).version_dir

    def fail(data, path, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError(code, f"[Errno {code}] Error writing bytes to file")

    monkeypatch.setattr(catalog.pq, "write_table", fail)
    with pytest.raises(FaultError) as caught:
        import_dataset(ws, "hcstvg-v1", root, check_videos=False)
    message = str(caught.value)
    assert "\n" not in message and message.endswith(
        f"videos.parquet: cannot write: {os.strerror(code)}"
    )
    assert [p.name for p in ws.versions_dir.iterdir()] == [first.name]
    assert read_index(ws) == {"hcstvg-v1": first.name}


def test_leftovers_of_killed_imports_are_removed_by_the_next_import(ws, imported, tmp_path):
    staging = ws.versions_dir / ".staging-hcstvg-v1-20200101T000000-0123abcd"
    retired = ws.versions_dir / "hcstvg-v1-20200101T000000-0123abcd"
    for directory in (staging, retired):
        directory.mkdir()
        (directory / "videos.parquet").write_bytes(b"half")
    (ws.catalog_dir / ".index.json.tmp-0123456789ab").write_text("{")
    assert {Path(p.path).name for p in verify_catalog(ws)} == {
        staging.name,
        retired.name,
        ".index.json.tmp-0123456789ab",
    }
    root = write_hcstvg(tmp_path / "h2", hcstvg_sample())
    latest = import_dataset(ws, "hcstvg-v1", root, check_videos=False).version_dir
    assert [p.name for p in ws.versions_dir.iterdir()] == [latest.name]
    assert sorted(p.name for p in ws.catalog_dir.iterdir()) == [".lock", "index.json", "versions"]


def test_a_reader_sees_the_old_or_the_new_version_while_reimports_run(ws, imported, tmp_path):
    root = write_hcstvg(tmp_path / "h2", hcstvg_sample())
    done = threading.Event()
    errors: list[BaseException] = []

    def reimport() -> None:
        try:
            for _ in range(15):
                import_dataset(ws, "hcstvg-v1", root, check_videos=False)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=reimport)
    writer.start()
    counts = set()
    while not done.is_set():
        counts.add(_count(ws, "boxes"))
    writer.join()
    assert not errors and counts == {15}
    # Versions retired while a reader held them go at the next import.
    latest = import_dataset(ws, "hcstvg-v1", root, check_videos=False).version_dir
    assert list(ws.versions_dir.iterdir()) == [latest]
