"""Importing detector output: both JSON shapes and Parquet, replace-not-duplicate, and every
kind of bad input rejected with file and record named and nothing written."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stvg.stvgdata.catalog import read_table
from stvg.stvgdata.detections import SOURCE_METADATA_KEY, import_detections
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.importer import import_dataset
from stvg.stvgdata.synth import default_config, generate, with_overrides
from stvg.stvgdata.workspace import Workspace

VIDEO = "synth000000"  # HC-STVG v1 synthetic video: 320x180, 100 frames at 5 fps
BOX = [10.0, 20.0, 60.0, 90.0]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """A workspace whose catalog holds two synthetic HC-STVG v1 videos."""
    root = tmp_path / "hc1"
    config = with_overrides("hcstvg-v1", default_config("hcstvg-v1"), fps=5.0)
    generate(root, "hcstvg-v1", 2, 0, write_videos=False, config=config, detections=False)
    workspace = Workspace(tmp_path / "ws")
    import_dataset(workspace, "hcstvg-v1", root, check_videos=False)
    return workspace


def write_json(tmp_path, data, name="dets.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def nested(box=BOX, score=0.9, label="person", video=VIDEO, frame="3"):
    return {video: {frame: [{"box": box, "score": score, "label": label}]}}


def parquet_file(tmp_path, rows, metadata=None, name="dets.parquet"):
    path = tmp_path / name
    table = pa.Table.from_pylist(rows)
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


def row(**changes):
    base = dict(video_id=VIDEO, frame_idx=3, x1=10.0, y1=20.0, x2=60.0, y2=90.0, score=0.9,
                label="person")  # fmt: skip
    return {**base, **changes}


def test_nested_json_is_imported_sorted_with_its_path_as_source(ws, tmp_path):
    data = {VIDEO: {"7": [{"box": BOX, "score": 0.5, "label": "person"}]}}
    data[VIDEO]["2"] = [{"box": BOX, "score": 0.8, "label": "person"}] * 2
    path = write_json(tmp_path, data)
    summary = import_detections(ws, "hcstvg-v1", path)
    assert (summary.detections, summary.videos, summary.frames) == (3, 1, 2)
    table = read_table(ws, "detections")
    assert table.column("frame_idx").to_pylist() == [2, 2, 7]
    assert set(table.column("source").to_pylist()) == {str(path.resolve())}
    assert table.column("x2").to_pylist()[0] == 60.0


def test_flat_json_and_parquet_give_the_same_rows(ws, tmp_path):
    flat = [{"video_id": VIDEO, "frame_idx": 3, "box": BOX, "score": 0.9, "label": "person"}]
    import_detections(ws, "hcstvg-v1", write_json(tmp_path, flat), source="a")
    import_detections(ws, "hcstvg-v1", parquet_file(tmp_path, [row()]), source="b")
    by_source = {}
    for record in read_table(ws, "detections").to_pylist():
        by_source[record.pop("source")] = record
    assert by_source["a"] == by_source["b"]


def test_parquet_metadata_names_the_source(ws, tmp_path):
    path = parquet_file(tmp_path, [row()], {SOURCE_METADATA_KEY: b"my-detector"})
    assert import_detections(ws, "hcstvg-v1", path).source == "my-detector"


def test_reimport_replaces_and_never_duplicates(ws, tmp_path):
    path = write_json(tmp_path, nested())
    import_detections(ws, "hcstvg-v1", path)
    path.write_text(json.dumps(nested(frame="4") | {"synth000001": nested(frame="5")[VIDEO]}))
    import_detections(ws, "hcstvg-v1", path)
    table = read_table(ws, "detections")
    assert sorted(table.column("frame_idx").to_pylist()) == [4, 5]


@pytest.mark.parametrize(
    ("data", "record", "reason"),
    [
        (nested(video="nope"), "video 'nope' frame '3' detection 0", "unknown video 'nope'"),
        (nested(frame="100"), "frame '100'", "frame 100 is outside the video (100 frames)"),
        (nested(frame="-1"), "frame '-1'", "is outside the video"),
        (nested(frame="x"), "frame 'x'", "frame key must be an integer"),
        (nested(box=[300.0, 20.0, 330.0, 90.0]), "detection 0", "outside the 320x180 frame"),
        (nested(box=[-1.0, 20.0, 60.0, 90.0]), "detection 0", "outside the 320x180 frame"),
        (nested(box=[60.0, 20.0, 60.0, 90.0]), "detection 0", "needs x2 > x1"),
        (nested(box=[10.0, 20.0, 60.0]), "detection 0", "box must be 4 numbers"),
        (nested(score=-0.1), "detection 0", "score -0.1 is not a finite number >= 0"),
        (nested(score=None), "detection 0", "score must be a number"),
        (nested(label=3), "detection 0", "label must be a string"),
        ([{"video_id": VIDEO, "frame_idx": 1.5}], "record 0", "frame_idx must be an integer"),
        ([{**row(), "box": BOX}, {**row(frame_idx=1000), "box": BOX}], "record 1", "outside"),
        ("just a string", None, "must be an object keyed by video_id or a list"),
    ],
)
def test_bad_json_names_file_and_record_and_writes_nothing(ws, tmp_path, data, record, reason):
    good = import_detections(ws, "hcstvg-v1", write_json(tmp_path, nested(), "good.json"))
    before = read_table(ws, "detections")
    path = write_json(tmp_path, data, "bad.json")
    with pytest.raises(BadInputError) as error:
        import_detections(ws, "hcstvg-v1", path, source=good.source)
    message = str(error.value)
    assert error.value.file == str(path) and reason in message and "\n" not in message
    if record is not None:
        assert record in error.value.record
    assert read_table(ws, "detections").equals(before)


@pytest.mark.parametrize(
    ("rows", "record", "reason"),
    [
        ([row(), row(score=math.nan)], "row 1", "score nan is not a finite number"),
        ([row(score=None)], "row 0", "score is null"),
        ([row(x2=math.nan)], "row 0", "not a number"),
        ([{k: v for k, v in row().items() if k != "label"}], None, "missing columns ['label']"),
    ],
)
def test_bad_parquet_names_file_and_row(ws, tmp_path, rows, record, reason):
    path = parquet_file(tmp_path, rows)
    with pytest.raises(BadInputError) as error:
        import_detections(ws, "hcstvg-v1", path)
    assert reason in str(error.value) and error.value.record == record
    assert read_table(ws, "detections").num_rows == 0


def test_garbage_files_and_unknown_datasets_are_bad_input(ws, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(BadInputError, match="not valid JSON"):
        import_detections(ws, "hcstvg-v1", broken)
    with pytest.raises(BadInputError, match="not a readable Parquet"):
        import_detections(ws, "hcstvg-v1", write_json(tmp_path, [], "x.parquet"))
    with pytest.raises(BadInputError, match="unknown detections format"):
        import_detections(ws, "hcstvg-v1", write_json(tmp_path, [], "x.csv"))
    with pytest.raises(BadInputError, match="no such file"):
        import_detections(ws, "hcstvg-v1", tmp_path / "missing.json")
    with pytest.raises(BadInputError, match="run `stvg import` first"):
        import_detections(ws, "vidstg", write_json(tmp_path, nested()))
