"""synth -> import -> sql: the catalog holds exactly what ``generate`` says it wrote."""

from __future__ import annotations

import json

import pytest

SQL = """
SELECT q.split,
       count(DISTINCT q.video_id) AS videos,
       count(*) AS queries,
       sum((q.sentence_type = 'declarative')::INT) AS declarative,
       sum((q.sentence_type = 'interrogative')::INT) AS interrogative,
       sum(b.box_rows) AS box_rows
FROM queries q
JOIN (SELECT dataset, query_id, count(*) AS box_rows FROM boxes GROUP BY ALL) b
  USING (dataset, query_id)
WHERE q.dataset = '{dataset}'
GROUP BY q.split
"""


@pytest.mark.parametrize(
    ("dataset", "options"),
    [
        ("vidstg", ["--fps", "5", "--duration", "12", "--tube-seconds", "3"]),
        ("vidstg", ["--fps", "5", "--duration", "12", "--tube-seconds", "3", "--layout", "stcat"]),
        (
            "vidstg",
            ["--fps", "5", "--duration", "12", "--tube-seconds", "3", "--layout", "tubedetr"],
        ),
        ("hcstvg-v1", ["--fps", "5"]),
        ("hcstvg-v2", ["--fps", "5"]),
    ],
)
def test_import_reproduces_the_synth_summary(run_cli, tmp_path, dataset, options):
    root = tmp_path / dataset
    made = run_cli(
        "synth", root, "--dataset", dataset, "--videos", "9", "--seed", "1",
        "--no-videos", "--json", *options,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    expected = json.loads(made.stdout)["splits"]
    imported = run_cli("import", dataset, "--root", root)
    assert imported.exit_code == 0, imported.stderr
    result = run_cli("sql", SQL.format(dataset=dataset), "--format", "json")
    assert result.exit_code == 0, result.stderr
    got = {row.pop("split"): row for row in json.loads(result.stdout)}
    for split, counts in expected.items():
        for key in ("videos", "queries", "declarative", "interrogative", "box_rows"):
            assert int(got[split][key]) == counts[key], (split, key)
    assert got.keys() == expected.keys()
