"""Region sets in the one feature store: the same writer lock as feature extraction, the same
verify (shallow and deep, with the repair on the next run), the structured config column, and
a one-line error for regions cached in the layout of older versions."""

from __future__ import annotations

from dataclasses import replace

import h5py
import numpy as np
import pyarrow as pa
import pytest

from stvg.stvgdata.cache import (
    REGIONS_MODEL,
    WorkSplit,
    feature_config,
    manifest_rows,
    verify_cache,
    worker_lock,
)
from stvg.stvgdata.catalog import write_parquet
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.regions import read_video_regions
from stvg.stvgdata.regions.config import RegionExtractConfig
from stvg.stvgdata.regions.extract import run_region_extraction
from stvg.stvgdata.sample_catalog import DATASET
from tests.stvgdata.regions_fixtures import regions_workspace, tiny_substitute


@pytest.fixture
def setup(tmp_path):
    """A workspace with tubelets on two tiny videos, and a tiny encoder's weights."""
    return regions_workspace(tmp_path), tiny_substitute(tmp_path / "encoder")


def extract(ws, weights, **overrides):
    """Tubelet regions at the test videos' own 10 fps."""
    config = RegionExtractConfig(DATASET, ("tubelets",), weights=weights, fps=10.0)
    return run_region_extraction(ws, replace(config, **overrides))


def region_row(ws, part: str, video_id: str) -> dict:
    rows = manifest_rows(ws, DATASET, REGIONS_MODEL).to_pylist()
    return next(
        r for r in rows if r["video_id"] == video_id and r["array_path"].startswith(f"/{part}/")
    )


def test_region_extraction_takes_the_feature_writers_lock(setup) -> None:
    ws, weights = setup
    refused = pytest.raises(BadInputError, match="another extraction .extract or extract-regions")
    with worker_lock(ws, DATASET, WorkSplit()), refused:
        extract(ws, weights)
    assert extract(ws, weights).videos_done == 2  # released: the run goes ahead


def test_verify_checks_region_rows_and_the_next_run_repairs_them(setup) -> None:
    ws, weights = setup
    extract(ws, weights)
    rows = manifest_rows(ws, DATASET, REGIONS_MODEL)
    assert set(rows["kind"].to_pylist()) == {"region-set"}
    report = verify_cache(ws, deep=True)
    assert report.ok and report.rows_checked == rows.num_rows and not report.no_checksum
    row = region_row(ws, "tubelets", "v1")
    with h5py.File(ws.features_dir / row["shard"], "r+") as handle:
        embeddings = handle[row["array_path"]]["embeddings"]
        offset = embeddings.id.get_chunk_info(0).byte_offset
    with open(ws.features_dir / row["shard"], "r+b") as raw:
        raw.seek(offset)
        raw.write(b"\xff" * 8)
    assert verify_cache(ws).ok  # shallow: metadata only
    problems = verify_cache(ws, deep=True).problems
    assert [(p.model, p.item) for p in problems] == [(REGIONS_MODEL, "v1")]
    assert "damaged" in problems[0].reason
    rerun = extract(ws, weights)
    assert (rerun.videos_done, rerun.videos_cached) == (1, 1)
    assert verify_cache(ws, deep=True).ok


def test_verify_names_a_region_group_that_does_not_match(setup) -> None:
    ws, weights = setup
    extract(ws, weights)
    row = region_row(ws, "frames", "v2")
    with h5py.File(ws.features_dir / row["shard"], "r+") as handle:
        del handle[row["array_path"]]["embeddings"]
    problems = verify_cache(ws).problems
    assert [(p.item, p.reason) for p in problems] == [
        ("v2", f"no embeddings in {row['array_path']}")
    ]


def test_region_rows_carry_the_encoder_config(setup) -> None:
    ws, weights = setup
    summary = extract(ws, weights)
    config = feature_config(ws, DATASET, REGIONS_MODEL)
    assert (config["encoder"], config["dim"], config["context_frames"]) == ("stvg-vl-synth", 8, 1)
    assert manifest_rows(ws, DATASET, REGIONS_MODEL)["fingerprint"].unique().to_pylist() == [
        summary.encoder
    ]


def test_regions_of_the_older_layout_are_one_line_saying_re_extract(setup) -> None:
    ws, weights = setup
    old = ws.table_dir("regions") / "part-old.parquet"
    write_parquet(old, pa.table({"dataset": [DATASET], "kind": ["frames"]}))
    (ws.features_dir / "regions" / DATASET).mkdir(parents=True)
    for attempt in (lambda: read_video_regions(ws, DATASET, "v1"), lambda: extract(ws, weights)):
        with pytest.raises(BadInputError, match="older stvg; re-extract") as caught:
            attempt()
        assert "\n" not in str(caught.value) and "replace_region_cache" in str(caught.value)
    assert extract(ws, weights, replace_region_cache=True).videos_done == 2
    assert not old.exists() and not (ws.features_dir / "regions").exists()
    assert read_video_regions(ws, DATASET, "v1").frame_embeddings.shape == (12, 8)
    np.testing.assert_allclose(
        np.linalg.norm(read_video_regions(ws, DATASET, "v2").embeddings, axis=1), 1, atol=1e-5
    )
