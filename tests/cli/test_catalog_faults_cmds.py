"""Catalog commands under faults: one line and an exit code, never a traceback or a silent
empty result; stvg verify-catalog reports and repairs; sql output keeps every column, writes
valid JSON, streams, caps tables and reaches nothing outside the workspace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stvg.stvgdata.adapters import vidor
from tests.stvgdata.dataset_files import (
    hcstvg_sample,
    vidstg_sample,
    write_hcstvg,
    write_vidstg_original,
)


def one_line(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert result.exception is None
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def version_dir(run_cli, workspace, tmp_path) -> Path:
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    result = run_cli("import", "hcstvg-v1", "--root", root, "--json", "--annotations-only")
    return Path(json.loads(result.stdout)["version_dir"])


@pytest.mark.parametrize("args", [("sql", "SELECT 1"), ("info",), ("verify",), ("verify-catalog",)])
def test_reading_a_missing_workspace_says_so(run_cli, tmp_path, args):
    line = one_line(run_cli(*args, workspace_path=tmp_path / "typo"), 2)
    assert line.endswith(
        "typo: workspace does not exist (check --workspace; stvg import creates it)"
    )


def test_import_creates_a_missing_workspace(run_cli, tmp_path):
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    result = run_cli("import", "hcstvg-v1", "--root", root, workspace_path=tmp_path / "new")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "new" / "catalog" / "index.json").is_file()


def test_a_damaged_part_is_one_line_and_other_tables_work(run_cli, version_dir):
    boxes = version_dir / "boxes.parquet"
    boxes.write_bytes(boxes.read_bytes()[:50])
    line = one_line(run_cli("sql", "SELECT * FROM boxes"), 1)
    assert line.startswith(f"error: {boxes}: damaged Parquet file")
    assert line.endswith("run `stvg verify-catalog --repair`")
    assert run_cli("sql", "SELECT count(*) AS n FROM queries", "-f", "csv").stdout == "n\n2\n"
    assert run_cli("info").exit_code == 0
    assert run_cli("verify").exit_code == 0  # the feature cache does not read boxes
    report = run_cli("verify-catalog", "--json")
    assert report.exit_code == 1
    assert [p["path"] for p in json.loads(report.stdout)["problems"]] == [str(boxes)]
    assert run_cli("verify-catalog", "--repair").exit_code == 0
    assert run_cli("verify-catalog").exit_code == 0


def test_a_damaged_manifest_part_is_one_line_in_verify(run_cli, workspace, version_dir):
    part = workspace / "tables" / "features" / "part-x.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 not really")
    line = one_line(run_cli("verify"), 1)
    assert line.startswith(f"error: {part}: damaged Parquet file")


def test_a_truncated_index_is_one_line_until_repaired(run_cli, workspace, version_dir):
    index = workspace / "catalog" / "index.json"
    index.write_text(index.read_text()[:15])
    line = one_line(run_cli("info"), 1)
    assert line.startswith(f"error: {index}: damaged (")
    assert run_cli("sql", "SELECT count(*) FROM runs").exit_code == 0
    assert run_cli("verify-catalog").exit_code == 1
    assert run_cli("verify-catalog", "--repair").exit_code == 0
    rows = json.loads(run_cli("info", "--format", "json").stdout)
    assert sum(row["queries"] for row in rows) == 2


def test_a_missing_version_directory_is_not_an_empty_catalog(run_cli, version_dir):
    for path in version_dir.iterdir():
        path.unlink()
    version_dir.rmdir()
    line = one_line(run_cli("sql", "SELECT count(*) FROM videos"), 1)
    assert line.startswith(f"error: {version_dir}: missing: the catalog of hcstvg-v1 is damaged")


def test_a_disk_error_during_import_is_one_line(run_cli, tmp_path, monkeypatch):
    from stvg.stvgdata import catalog

    def full(*args, **kwargs):
        raise OSError(28, "Error writing bytes to file")

    monkeypatch.setattr(catalog.pq, "write_table", full)
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    line = one_line(run_cli("import", "hcstvg-v1", "--root", root), 1)
    assert line.endswith("videos.parquet: cannot write: No space left on device")


def _killed_reader(job):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_import_worker_is_one_line(run_cli, tmp_path, monkeypatch):
    root = write_vidstg_original(tmp_path / "v", vidstg_sample())
    monkeypatch.setattr(vidor, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(vidor.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(vidor, "read_tubes", _killed_reader)
    line = one_line(run_cli("import", "vidstg", "--root", root), 1)
    assert line == (
        "error: reading VidOR trajectories: a worker process died (killed, or out of memory)"
    )


DUPLICATES = "SELECT 1 AS a, 2 AS a, 'x' AS b"


def test_repeated_column_names_keep_every_column(run_cli):
    assert run_cli("sql", DUPLICATES, "-f", "csv").stdout == "a,a,b\n1,2,x\n"
    assert json.loads(run_cli("sql", DUPLICATES, "-f", "json").stdout) == [
        {"a": 1, "a_1": 2, "b": "x"}
    ]
    table = run_cli("sql", DUPLICATES).stdout
    assert "1" in table and "2" in table


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_null_in_json(run_cli):
    sql = "SELECT 'nan'::DOUBLE AS x, 'inf'::FLOAT AS y, [1.0, 'nan'::DOUBLE] AS l"
    out = run_cli("sql", sql, "-f", "json")
    assert out.exit_code == 0
    assert _strict_json(out.stdout) == [{"x": None, "y": None, "l": [1.0, None]}]
    assert run_cli("sql", sql, "-f", "csv").stdout.splitlines()[1] == 'nan,inf,"[1.0, nan]"'


def test_infinite_dates_are_rendered(run_cli):
    sql = "SELECT 'infinity'::DATE AS d, '-infinity'::TIMESTAMP AS t, DATE '2024-01-02' AS e"
    assert run_cli("sql", sql, "-f", "csv").stdout == "d,t,e\ninfinity,-infinity,2024-01-02\n"
    assert json.loads(run_cli("sql", sql, "-f", "json").stdout) == [
        {"d": "infinity", "t": "-infinity", "e": "2024-01-02"}
    ]
    table = run_cli("sql", sql)
    assert table.exit_code == 0 and "infinity" in table.stdout


def test_a_large_table_is_capped_with_a_notice(tmp_path):
    """A 10M-row table prints its first rows and says so, in seconds (the cap is the point)."""
    (tmp_path / "ws").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "from stvg.cli.main import main; main()", "--workspace"]
        + [tmp_path / "ws", "sql", "SELECT range AS n FROM range(10000000)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "COLUMNS": "80"},
    )
    assert result.returncode == 0, result.stderr
    assert "│ 999 " in result.stdout and "│ 1000 " not in result.stdout
    assert "only the first 1,000 rows are shown" in result.stderr


def test_csv_and_json_stream_every_row(run_cli):
    sql = "SELECT range AS n FROM range(70000)"
    assert len(run_cli("sql", sql, "-f", "csv").stdout.splitlines()) == 70001
    assert len(json.loads(run_cli("sql", sql, "-f", "json").stdout)) == 70000


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('https://example.com/a.parquet')",
        "SELECT * FROM 's3://bucket/a.parquet'",
        "SELECT * FROM read_csv('/etc/hostname')",
    ],
)
def test_sql_reads_nothing_outside_the_workspace(run_cli, sql):
    line = one_line(run_cli("sql", sql), 2)
    assert "disabled by configuration" in line


def test_sql_never_installs_or_loads_extensions(run_cli):
    sql = (
        "SELECT current_setting('autoinstall_known_extensions') AS i, "
        "current_setting('autoload_known_extensions') AS l"
    )
    assert run_cli("sql", sql, "-f", "csv").stdout == "i,l\nFalse,False\n"


def test_show_tables_lists_only_catalog_tables(run_cli):
    names = run_cli("sql", "SHOW TABLES", "-f", "csv").stdout.split()[1:]
    assert "videos" in names and not [name for name in names if name.startswith("_")]
