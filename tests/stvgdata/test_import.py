"""import_dataset: atomic replacement, isolation between datasets, video failures, the
parallel trajectory reader, the per-split summary and read-only SQL over the result."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stvg.schemas import TABLES
from stvg.stvgdata.adapters import vidor
from stvg.stvgdata.catalog import query, read_index, read_table
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.importer import catalog_summary, import_dataset
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.dataset_files import (
    hcstvg_sample,
    vidor_file,
    vidstg_sample,
    write_hcstvg,
    write_vidstg_original,
    write_vidstg_tubedetr,
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "ws").mkdir()
    return Workspace(tmp_path / "ws")


def test_reimport_replaces_the_dataset_in_one_version(ws, tmp_path):
    first = import_dataset(ws, "vidstg", write_vidstg_original(tmp_path / "a", vidstg_sample()))
    sample = vidstg_sample()
    del sample["sentences"]["val"]
    second = import_dataset(ws, "vidstg", write_vidstg_original(tmp_path / "b", sample))
    assert read_index(ws) == {"vidstg": second.version_dir.name}
    assert not first.version_dir.exists()
    assert [p.name for p in ws.versions_dir.iterdir()] == [second.version_dir.name]
    assert read_table(ws, "queries").num_rows == 3
    assert second.counts == {"videos": 1, "queries": 3, "boxes": 18, "failures": 0}


def test_boxes_file_reads_back_with_plain_types(ws, tmp_path):
    """The ids are dictionary-encoded in memory; any reader of the file sees the table's types,
    and the corners are stored byte-stream split without dictionary pages."""
    summary = import_dataset(ws, "vidstg", write_vidstg_original(tmp_path, vidstg_sample()))
    path = summary.version_dir / "boxes.parquet"
    assert pq.read_table(path).schema == TABLES["boxes"]  # types (field docs live in schemas)
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    columns = map(row_group.column, range(row_group.num_columns))
    x1 = next(column for column in columns if column.path_in_schema == "x1")
    assert "BYTE_STREAM_SPLIT" in x1.encodings and not x1.has_dictionary_page
    ids = query(ws, "SELECT DISTINCT query_id FROM boxes ORDER BY 1").column(0)
    assert ids.type == pa.string() and ids.to_pylist()[0] == "v1@0/d0"


def test_importing_another_dataset_leaves_the_first_untouched(ws, tmp_path):
    vidstg = import_dataset(ws, "vidstg", write_vidstg_original(tmp_path / "v", vidstg_sample()))
    files_before = {p.name: p.read_bytes() for p in vidstg.version_dir.iterdir()}
    import_dataset(ws, "hcstvg-v1", write_hcstvg(tmp_path / "h", hcstvg_sample()))
    assert {p.name: p.read_bytes() for p in vidstg.version_dir.iterdir()} == files_before
    counts = query(ws, "SELECT dataset, count(*) AS n FROM queries GROUP BY 1 ORDER BY 1")
    assert counts.to_pylist() == [{"dataset": "hcstvg-v1", "n": 2}, {"dataset": "vidstg", "n": 4}]


def test_missing_and_empty_videos_are_failures_and_the_import_goes_on(ws, tmp_path):
    root = write_hcstvg(tmp_path, hcstvg_sample())
    (root / "video" / "a.mp4").unlink()
    (root / "video" / "b.mkv").write_bytes(b"")
    summary = import_dataset(ws, "hcstvg-v1", root)
    assert summary.counts["queries"] == 2
    failures = {row["item"]: row for row in read_table(ws, "failures").to_pylist()}
    assert failures["a"]["error"] == "video file not found"
    assert failures["a"]["file"] == str(root / "video" / "a.mp4")
    assert failures["b"]["error"] == "video file is empty"
    assert {row["stage"] for row in failures.values()} == {"import"}
    assert catalog_summary(ws).column("missing_videos").to_pylist() == [1, 1]


def test_annotations_only_skips_the_video_check(ws, tmp_path):
    root = write_hcstvg(tmp_path, hcstvg_sample())
    (root / "video" / "a.mp4").unlink()
    assert import_dataset(ws, "hcstvg-v1", root, check_videos=False).counts["failures"] == 0


def test_parallel_trajectory_reading_matches_serial(ws, tmp_path, monkeypatch):
    sample = vidstg_sample()
    for k in range(6):  # more videos, so that both workers get some
        entry = {**sample["sentences"]["train"][0], "vid": f"w{k}"}
        sample["sentences"]["train"].append(entry)
        sample["split_lists"]["train"].append(f"w{k}")
        boxes = {t: {f: [1.0 + k, 2.0, 30.0 + f, 40.0] for f in range(10)} for t in (0, 1)}
        sample["vidor"][f"w{k}"] = vidor_file(f"w{k}", 10, boxes)
    root = write_vidstg_original(tmp_path / "v", sample)
    import_dataset(ws, "vidstg", root)
    serial = read_table(ws, "boxes")
    monkeypatch.setattr(vidor, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(vidor.os, "sched_getaffinity", lambda pid: {0, 1})
    import_dataset(ws, "vidstg", root)
    assert read_table(ws, "boxes").equals(serial)
    assert serial.num_rows == 21 + 6 * 18


def test_progress_reports_each_stage(ws, tmp_path):
    seen: dict[str, tuple[float, float | None]] = {}

    def progress(task: str, completed: float, total: float | None = None, **info: float) -> None:
        seen[task] = (completed, total)

    root = write_vidstg_original(tmp_path, vidstg_sample())
    import_dataset(ws, "vidstg", root, progress=progress)
    assert seen == {
        "read sentences": (2, 2),
        "read trajectories": (2, 2),
        "check videos": (2, 2),
        "write catalog": (1, 1),
    }


def test_summary_counts_sentence_types_and_tube_lengths(ws, tmp_path):
    import_dataset(ws, "vidstg", write_vidstg_tubedetr(tmp_path, vidstg_sample()))
    rows = catalog_summary(ws).to_pylist()
    assert [(r["split"], r["videos"], r["queries"]) for r in rows] == [
        ("train", 1, 3),
        ("val", 1, 1),
    ]
    train = rows[0]
    assert (train["declarative"], train["interrogative"]) == (1, 2)
    assert train["mean_tube_frames"] == 6.0  # [4, 10) for all three sentences
    assert train["mean_tube_seconds"] == 1.2  # at 5 fps


def test_summary_of_an_empty_catalog_is_empty(ws):
    assert catalog_summary(ws).num_rows == 0


@pytest.mark.parametrize(
    "sql",
    [
        "DESCRIBE queries",
        "SHOW TABLES",
        "SELECT * FROM pragma_table_info('boxes')",
        "EXPLAIN SELECT count(*) FROM boxes",
        "EXPLAIN ANALYZE SELECT count(*) FROM boxes",
    ],
)
def test_inspection_statements_are_allowed(ws, tmp_path, sql):
    import_dataset(ws, "hcstvg-v1", write_hcstvg(tmp_path, hcstvg_sample()))
    assert query(ws, sql).num_rows > 0


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DROP VIEW queries", "DROP"),
        ("INSERT INTO queries SELECT * FROM queries", "INSERT"),
        ("COPY (SELECT * FROM queries) TO 'out.csv'", "COPY"),
        ("ATTACH 'other.db'", "ATTACH"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("SET profiling_output = 'out.txt'", "SET"),
        ("SELECT 1; DROP VIEW videos", "DROP"),
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO 'out.csv'", "COPY"),
        ("explain analyze create table t as select 1", "CREATE"),
    ],
)
def test_writing_sql_is_refused(ws, tmp_path, monkeypatch, sql, kind):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInputError, match=f"{kind} statements are not allowed"):
        query(ws, sql)
    assert [path.name for path in tmp_path.iterdir()] == [ws.root.name]


def test_sql_errors_are_bad_input(ws):
    with pytest.raises(BadInputError, match="sql: .*nope"):
        query(ws, "SELECT nope FROM queries")


def test_bad_input_in_a_worker_process_reaches_the_caller(ws, tmp_path, monkeypatch):
    sample = vidstg_sample()
    sample["vidor"]["v2"]["trajectories"][1][0]["bbox"]["xmax"] = 500.0  # beyond 64 px
    root = write_vidstg_original(tmp_path, sample)
    monkeypatch.setattr(vidor, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(vidor.os, "sched_getaffinity", lambda pid: {0, 1})
    with pytest.raises(BadInputError, match=r"v2\.json: video v2, target 1, frame 1: box"):
        import_dataset(ws, "vidstg", root)
    assert read_index(ws) == {}
