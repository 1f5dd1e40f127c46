"""``stvg train-vl-encoder``, ``extract-regions`` and ``probe-regions`` end to end on tiny
inputs; bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from stvg.stvgdata.catalog import write_parquet
from tests.stvgdata.regions_fixtures import regions_workspace


@pytest.fixture
def ws(tmp_path):
    return regions_workspace(tmp_path)


def test_train_extract_probe(run_cli, ws):
    trained = run_cli(
        "train-vl-encoder", "--dataset", "vidstg", "--epochs", "1", "--batch-size", "4", "--json",
        workspace_path=ws.root,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["split"] == "train" and summary["fingerprint"].startswith("stvg-vl-synth:")
    extracted = run_cli(
        "extract-regions", "--dataset", "vidstg", "--boxes", "both", "--fps", "10", "--json",
        workspace_path=ws.root,
    )  # fmt: skip
    assert extracted.exit_code == 0, extracted.stderr
    record = json.loads(extracted.stdout)
    assert record["encoder"] == summary["fingerprint"]
    assert (record["videos_done"], record["regions"], record["sentences"]) == (2, 112, 4)
    verified = run_cli("verify", "--deep", "--json", workspace_path=ws.root)  # one verify
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["rows_checked"] == 2 * 3 + 4  # 3 parts per video
    probed = run_cli(
        "diagnose", "probe-regions", "--dataset", "vidstg", "--eval-split", "train",
        "--format", "json",
        workspace_path=ws.root,
    )  # fmt: skip
    assert probed.exit_code == 0, probed.stderr
    rows = {row["sentence_type"]: row for row in json.loads(probed.stdout)}
    assert rows["all"]["queries"] == 4 and 0 < rows["all"]["oracle"] < 1  # GT box grows
    # two regions per frame, the corner one never the target: chance is half the oracle
    assert rows["all"]["chance"] == pytest.approx(rows["all"]["oracle"] / 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract-regions", "--dataset", "nope"], "unknown dataset"),
        (["extract-regions", "--dataset", "vidstg"], "train one with `stvg train-vl-encoder"),
        (
            ["extract-regions", "--dataset", "vidstg", "--weights", "clip=/no/such"],
            "not the chosen --encoder",
        ),
        (
            ["extract-regions", "--dataset", "vidstg", "--encoder", "clip", "--weights", "x"],
            "expected MODEL=PATH",
        ),
        (
            ["diagnose", "probe-regions", "--dataset", "vidstg", "--eval-split", "train"],
            "stvg extract-regions",
        ),
    ],
)
def test_bad_input_is_one_line(run_cli, ws, args, message):
    result = run_cli(*args, workspace_path=ws.root)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_regions_of_an_older_layout_are_one_line_saying_re_extract(run_cli, ws):
    write_parquet(ws.table_dir("regions") / "part-old.parquet", pa.table({"dataset": ["vidstg"]}))
    args = ("diagnose", "probe-regions", "--dataset", "vidstg", "--eval-split", "train")
    result = run_cli(*args, workspace_path=ws.root)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "older stvg; re-extract" in result.stderr and "--replace-region-cache" in result.stderr
