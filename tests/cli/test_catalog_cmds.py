"""stvg import / sql / info: outputs, one-line errors with exit code 2, and no torch import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.stvgdata.dataset_files import (
    hcstvg_sample,
    vidstg_sample,
    write_hcstvg,
    write_vidstg_stcat,
)


def test_import_prints_counts_per_table(run_cli, tmp_path):
    root = write_vidstg_stcat(tmp_path / "v", vidstg_sample())
    result = run_cli("import", "vidstg", "--root", root)
    assert result.exit_code == 0, result.stderr
    assert "vidstg (stcat)" in result.stdout and "imported in" in result.stdout
    assert "boxes" in result.stdout and "21" in result.stdout


def test_import_json_summary(run_cli, tmp_path):
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    (root / "video" / "a.mp4").unlink()
    result = run_cli("import", "hcstvg-v1", "--root", root, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["layout"] == "release"
    assert summary["counts"] == {"videos": 2, "queries": 2, "boxes": 15, "failures": 1}
    result = run_cli("import", "hcstvg-v1", "--root", root, "--json", "--annotations-only")
    assert json.loads(result.stdout)["counts"]["failures"] == 0


def test_layout_option_picks_the_layout(run_cli, tmp_path):
    root = write_vidstg_stcat(tmp_path / "v", vidstg_sample())
    result = run_cli("import", "vidstg", "--root", root, "--layout", "tubedetr")
    assert result.exit_code == 2
    assert "expected TubeDETR's {train,val,test}.json" in result.stderr


def one_line_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.exception is None
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_dataset_is_one_line(run_cli, tmp_path):
    line = one_line_error(run_cli("import", "kinetics", "--root", tmp_path))
    assert line == "error: dataset: kinetics: unknown dataset; known: vidstg, hcstvg-v1, hcstvg-v2"


def test_empty_root_is_one_line(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    line = one_line_error(run_cli("import", "hcstvg-v2", "--root", tmp_path / "empty"))
    assert line.endswith("empty: root is empty")


def test_bad_annotation_is_one_line(run_cli, tmp_path):
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    (root / "anno_v1" / "test.json").write_text("not json")
    line = one_line_error(run_cli("import", "hcstvg-v1", "--root", root))
    assert "test.json: not valid JSON" in line


def test_sql_formats(run_cli, tmp_path):
    run_cli("import", "hcstvg-v1", "--root", write_hcstvg(tmp_path / "h", hcstvg_sample()))
    sql = "SELECT query_id, tube_start_frame FROM queries ORDER BY query_id"
    csv_out = run_cli("sql", sql, "--format", "csv")
    assert csv_out.stdout.splitlines() == ["query_id,tube_start_frame", "a,0", "b,30"]
    json_out = run_cli("sql", sql, "--format", "json")
    assert json.loads(json_out.stdout) == [
        {"query_id": "a", "tube_start_frame": 0},
        {"query_id": "b", "tube_start_frame": 30},
    ]
    table_out = run_cli("sql", sql)
    assert "query_id" in table_out.stdout and "30" in table_out.stdout


def test_tables_print_bracketed_values_as_text(run_cli, tmp_path):
    """Variant names carry "[anchor=...]"; a table must not read it as a style tag."""
    run_cli("import", "hcstvg-v1", "--root", write_hcstvg(tmp_path / "h", hcstvg_sample()))
    sql = "SELECT 'd2s[anchor=static+d2s]' AS variant, '[bold]' AS tag FROM queries LIMIT 1"
    out = run_cli("sql", sql)
    assert "d2s[anchor=static+d2s]" in out.stdout and "[bold]" in out.stdout


def test_writing_sql_is_refused_in_one_line(run_cli):
    line = one_line_error(run_cli("sql", "DROP VIEW queries"))
    assert line == "error: sql: DROP statements are not allowed: the catalog is read-only"


def test_info_per_dataset_and_split(run_cli, tmp_path):
    run_cli("import", "hcstvg-v1", "--root", write_hcstvg(tmp_path / "h", hcstvg_sample()))
    run_cli("import", "vidstg", "--root", write_vidstg_stcat(tmp_path / "v", vidstg_sample()))
    rows = json.loads(run_cli("info", "--format", "json").stdout)
    assert [(r["dataset"], r["split"], r["videos"], r["queries"]) for r in rows] == [
        ("hcstvg-v1", "train", 1, 1),
        ("hcstvg-v1", "test", 1, 1),
        ("vidstg", "train", 1, 3),
        ("vidstg", "val", 1, 1),
    ]
    assert rows[1]["mean_tube_frames"] == 10.0 and rows[1]["mean_tube_seconds"] == 5.0
    header = run_cli("info", "--format", "csv").stdout.splitlines()[0]
    assert header == (
        "dataset,split,videos,queries,declarative,interrogative,"
        "mean_tube_frames,mean_tube_seconds,missing_videos"
    )
    assert "train" in run_cli("info").stdout


def test_catalog_commands_do_not_import_torch(tmp_path):
    root = write_hcstvg(tmp_path / "h", hcstvg_sample())
    script = (
        "import sys\n"
        "from stvg.cli.main import app\n"
        f"ws = {str(tmp_path / 'ws')!r}\n"
        "for args in (['import', 'hcstvg-v1', '--root', sys.argv[1]], ['sql', 'SELECT 1'],"
        " ['info']):\n"
        "    app(['--workspace', ws, *args], standalone_mode=False)\n"
        "heavy = [m for m in ('torch', 'torchvision', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(root)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 0, result.stderr
