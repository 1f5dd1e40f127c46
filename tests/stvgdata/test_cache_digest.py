"""Input digests: a changed video file or sentence makes its cached rows stale; ``extract``
names and recomputes them, ``verify`` fails on them, the loader refuses them; rows without a
digest (older manifests) are recomputed by ``extract`` and only counted by ``verify``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.cache import manifest_rows, verify_cache
from stvg.stvgdata.catalog import table_files
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.loader import CachedQueryDataset
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import (
    DATASET,
    CatalogVideo,
    install_catalog,
    tiny_config,
    two_video_workspace,
    write_video,
)

MODELS = ("resnet101", "roberta")
FEATURES = FeatureSet(frame="resnet101", clip=None, text="roberta")


pytestmark = pytest.mark.filterwarnings("ignore")  # random-init warnings of tiny networks


@pytest.fixture
def extracted(tmp_path: Path) -> tuple[Workspace, list[CatalogVideo]]:
    ws, videos = two_video_workspace(tmp_path)
    run_extraction(ws, tiny_config(models=MODELS))
    return ws, videos


def redo_of(summary) -> dict[tuple[str, str], str]:
    return {(entry.model, entry.item): entry.reason for entry in summary.redo}


def test_every_row_records_its_input_digest(extracted) -> None:
    ws, _ = extracted
    rows = manifest_rows(ws).to_pylist()
    assert len(rows) == 4 and all(row["input_digest"] for row in rows)
    videos = {row["input_digest"] for row in rows if row["model"] == "resnet101"}
    assert len(videos) == 2  # the two queries share a sentence, so a text digest


def test_a_changed_video_file_is_stale_everywhere_until_extract_recomputes_it(extracted) -> None:
    ws, videos = extracted
    write_video(videos[0].path, 12, size=(32, 48))  # same name and length, other content
    report = verify_cache(ws)
    assert [(p.model, p.item) for p in report.problems] == [("resnet101", "a")]
    assert "changed since extraction" in report.problems[0].reason
    with pytest.raises(BadInputError, match=r"resnet101 a: stale features.*stvg extract"):
        CachedQueryDataset(ws, DATASET, "train", features=FEATURES)

    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert list(redo_of(summary)) == [("resnet101", "a")]
    assert [(m.model, m.redone, m.done) for m in summary.models] == [
        ("resnet101", 1, 1),
        ("roberta", 0, 0),
    ]
    assert verify_cache(ws, deep=True).ok
    assert len(CachedQueryDataset(ws, DATASET, "train", features=FEATURES)) == 2
    assert manifest_rows(ws).num_rows == 4  # the stale row was replaced, not duplicated


def test_a_reimport_pointing_at_other_files_is_stale(extracted, tmp_path: Path) -> None:
    ws, videos = extracted
    moved = tmp_path / "other" / "b.mp4"
    moved.parent.mkdir()
    shutil.copyfile(videos[0].path, moved)  # b now points at a's content: another size
    install_catalog(ws, [videos[0], CatalogVideo("b", moved, 8)])
    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert list(redo_of(summary)) == [("resnet101", "b")]


def test_a_changed_sentence_is_stale_and_only_its_query_is_recomputed(extracted) -> None:
    ws, videos = extracted
    install_catalog(ws, videos, sentences={"b-q0": "the red square wears a hat"})
    report = verify_cache(ws)
    assert [(p.model, p.item) for p in report.problems] == [("roberta", "b-q0")]
    assert "sentence changed" in report.problems[0].reason
    with pytest.raises(BadInputError, match=r"roberta b-q0: stale features"):
        CachedQueryDataset(ws, DATASET, "train", features=FEATURES)

    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert list(redo_of(summary)) == [("roberta", "b-q0")]
    assert verify_cache(ws).ok


def test_a_deleted_video_does_not_make_its_features_stale(extracted) -> None:
    ws, videos = extracted
    videos[1].path.unlink()  # a cache may outlive its videos
    assert verify_cache(ws).ok
    assert len(CachedQueryDataset(ws, DATASET, "train", features=FEATURES)) == 2
    assert run_extraction(ws, tiny_config(models=MODELS)).redo == []


def test_rows_without_a_digest_are_counted_by_verify_and_recomputed_by_extract(
    extracted,
) -> None:
    ws, _ = extracted
    for path in table_files(ws, "features"):  # a manifest written before the column existed
        pq.write_table(pq.read_table(path).drop_columns(["input_digest"]), path)
    report = verify_cache(ws)
    assert report.ok and report.no_digest == 4

    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert set(redo_of(summary).values()) == {"cached before input digests were recorded"}
    assert len(summary.redo) == 4
    assert all(manifest_rows(ws)["input_digest"].to_pylist())
    assert verify_cache(ws).no_digest == 0


def test_a_dry_run_names_the_stale_items_and_changes_nothing(extracted) -> None:
    ws, videos = extracted
    write_video(videos[1].path, 8, size=(32, 48))
    before = manifest_rows(ws)
    summary = run_extraction(ws, tiny_config(models=MODELS, dry_run=True))
    assert list(redo_of(summary)) == [("resnet101", "b")]
    assert manifest_rows(ws).equals(before)
