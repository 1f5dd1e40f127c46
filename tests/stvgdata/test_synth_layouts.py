"""The written files: real layouts, documented conventions, counts, determinism, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.synth import default_config, generate, with_overrides

SMALL = {"fps": 5.0, "video_seconds": 12.0, "tube_seconds": 3.0}
SENTENCE_KEYS = {
    "vid",
    "fps",
    "frame_count",
    "width",
    "height",
    "subject/objects",
    "used_segment",
    "used_relation",
    "temporal_gt",
    "captions",
    "questions",
}


def small_config(dataset: str):
    overrides = {"fps": 5.0} if dataset.startswith("hcstvg") else SMALL
    return with_overrides(dataset, default_config(dataset), **overrides)


def make(tmp_path, dataset, videos=6, seed=0, name="out", layout=None):
    out = tmp_path / name
    config = small_config(dataset)
    summary = generate(out, dataset, videos, seed, False, config, layout=layout)
    return out, summary


def file_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("dataset", "layout"),
    [
        ("vidstg", "original"),
        ("vidstg", "stcat"),
        ("vidstg", "tubedetr"),
        ("hcstvg-v1", None),
        ("hcstvg-v2", None),
    ],
)
def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path, dataset, layout):
    a, _ = make(tmp_path, dataset, seed=5, name="a", layout=layout)
    b, _ = make(tmp_path, dataset, seed=5, name="b", layout=layout)
    c, _ = make(tmp_path, dataset, seed=6, name="c", layout=layout)
    assert file_bytes(a) == file_bytes(b)
    assert file_bytes(a).keys() == file_bytes(c).keys()
    assert file_bytes(a) != file_bytes(c)


def test_vidstg_layout_fields_and_frame_conventions(tmp_path):
    out, summary = make(tmp_path, "vidstg", videos=10)
    for split, part in (("train", "training"), ("val", "training"), ("test", "validation")):
        vids = json.loads((out / f"{split}_files.json").read_text())
        entries = json.loads((out / f"{split}_annotations.json").read_text())
        assert {e["vid"] for e in entries} == set(vids)
        vidor = {}
        for vid in vids:
            (path,) = (out / "annotation" / part).glob(f"*/{vid}.json")
            vidor[vid] = json.loads(path.read_text())
            assert vidor[vid]["video_path"] == f"{path.parent.name}/{vid}.mp4"
        queries = declarative = box_rows = 0
        for entry in entries:
            assert set(entry) == SENTENCE_KEYS
            video = vidor[entry["vid"]]
            frame_count = video["frame_count"]
            assert frame_count == entry["frame_count"] == len(video["trajectories"])
            tube = entry["temporal_gt"]
            segment = entry["used_segment"]
            assert segment["begin_fid"] <= tube["begin_fid"] < tube["end_fid"]
            assert tube["end_fid"] <= segment["end_fid"] + 1  # tube end exclusive, segment's not
            assert segment["end_fid"] <= frame_count - 1
            assert tube["end_fid"] - tube["begin_fid"] < frame_count
            relation = entry["used_relation"]
            assert (relation["begin_fid"], relation["end_fid"]) == (
                tube["begin_fid"],
                tube["end_fid"],
            )
            assert relation in video["relation_instances"]
            assert len(entry["captions"]) == 1 and len(entry["questions"]) <= 2
            for sentence in entry["captions"] + entry["questions"]:
                assert set(sentence) == {"description", "type", "target_id"}
                assert sentence["target_id"] == relation["subject_tid"]
                for frame in range(tube["begin_fid"], tube["end_fid"]):
                    (box,) = [
                        item["bbox"]
                        for item in video["trajectories"][frame]
                        if item["tid"] == sentence["target_id"]
                    ]
                    assert 0 <= box["xmin"] < box["xmax"] <= video["width"]
                    assert 0 <= box["ymin"] < box["ymax"] <= video["height"]
                    box_rows += 1
            queries += len(entry["captions"]) + len(entry["questions"])
            declarative += len(entry["captions"])
        counts = summary.splits[split]
        assert (counts.videos, counts.queries) == (len(vids), queries)
        assert (counts.declarative, counts.interrogative) == (declarative, queries - declarative)
        assert counts.box_rows == box_rows


@pytest.mark.parametrize(
    ("dataset", "files", "sentence_key"),
    [
        ("hcstvg-v1", {"train": "train.json", "test": "test.json"}, "caption"),
        ("hcstvg-v2", {"train": "train_v2.json", "val": "val_v2.json"}, "English"),
    ],
)
def test_hcstvg_layout_fields_and_frame_conventions(tmp_path, dataset, files, sentence_key):
    out, summary = make(tmp_path, dataset, videos=5)
    assert sorted(p.name for p in out.iterdir()) == sorted([*files.values(), "detections.parquet"])
    for split, name in files.items():
        records = json.loads((out / name).read_text())
        assert len(records) == summary.splits[split].videos
        box_rows = 0
        for key, record in records.items():
            assert key.endswith(".mp4")
            assert isinstance(record[sentence_key], str)
            if dataset == "hcstvg-v1":
                width, height = record["width"], record["height"]
            else:
                height, width = record["img_size"]
            fps = record["img_num"] / 20
            assert fps == 5.0
            start = record["st_frame"] - 1  # documented 1-based
            end = start + len(record["bbox"])
            assert 0 <= start < end <= record["img_num"] and end - start < record["img_num"]
            assert record["st_time"] * fps == pytest.approx(start)
            assert record["ed_time"] * fps == pytest.approx(end)
            for x, y, w, h in record["bbox"]:
                assert x >= 0 and y >= 0 and w > 0 and h > 0
                assert x + w <= width and y + h <= height
            box_rows += len(record["bbox"])
        assert summary.splits[split].box_rows == box_rows
        assert summary.splits[split].queries == summary.splits[split].declarative == len(records)


def test_refuses_a_non_empty_output_directory(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not empty"):
        generate(tmp_path / "taken", "vidstg", 2, 0, write_videos=False)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_writes_into_an_empty_directory_and_leaves_no_temporary_files(tmp_path):
    (tmp_path / "empty").mkdir()
    generate(tmp_path / "empty", "hcstvg-v2", 2, 0, False, small_config("hcstvg-v2"))
    assert (tmp_path / "empty" / "train_v2.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]


@pytest.mark.parametrize(
    ("dataset", "overrides", "field"),
    [
        ("hcstvg-v1", {"video_seconds": 8.0}, "video_seconds"),
        ("vidstg", {"width": 321}, "width"),
        ("vidstg", {"objects_per_video": 3}, "objects_per_video"),
        ("vidstg", {"objects_per_video": 1, "twins": False}, "objects_per_video"),
        ("vidstg", {"object_scale": 3.0}, "object_scale"),
        ("vidstg", {"video_seconds": 5.0, "tube_seconds": 4.0}, "video_seconds"),
        ("hcstvg-v2", {"fps": 2.33}, "fps"),
    ],
)
def test_bad_overrides_name_the_field(dataset, overrides, field):
    with pytest.raises(BadInputError) as error:
        with_overrides(dataset, default_config(dataset), **overrides)
    assert error.value.field == field


def test_without_twins_two_objects_are_enough_and_queries_are_still_written(tmp_path):
    config = with_overrides("vidstg", small_config("vidstg"), objects_per_video=2, twins=False)
    summary = generate(tmp_path / "out", "vidstg", 6, 0, False, config)
    assert sum(split.queries for split in summary.splits.values()) > 0


def test_worker_processes_write_the_same_bytes_as_one_process(tmp_path):
    config = small_config("vidstg")
    one = generate(tmp_path / "one", "vidstg", 20, 9, False, config, workers=1)
    two = generate(tmp_path / "two", "vidstg", 20, 9, False, config, workers=2)
    assert one.splits == two.splits
    assert file_bytes(tmp_path / "one") == file_bytes(tmp_path / "two")


def test_stcat_layout_is_the_original_files_flattened(tmp_path):
    original, _ = make(tmp_path, "vidstg", name="original")
    stcat, _ = make(tmp_path, "vidstg", name="stcat", layout="stcat")
    for split in ("train", "val", "test"):
        name = f"{split}_annotations.json"
        assert (stcat / "sent_annos" / name).read_bytes() == (original / name).read_bytes()
    vidor = {p.name: p.read_bytes() for p in (original / "annotation").glob("*/*/*.json")}
    assert {p.name: p.read_bytes() for p in (stcat / "bbox_annos").iterdir()} == vidor


def test_tubedetr_layout_has_one_record_per_sentence_and_copies_the_inclusive_segment_end(
    tmp_path,
):
    original, summary = make(tmp_path, "vidstg", name="original")
    tubedetr, _ = make(tmp_path, "vidstg", name="tubedetr", layout="tubedetr")
    for split, counts in summary.splits.items():
        data = json.loads((tubedetr / f"{split}.json").read_text())
        entries = json.loads((original / f"{split}_annotations.json").read_text())
        records = data["videos"]
        assert [r["video_id"] for r in records] == list(range(counts.queries))
        assert sum(r["qtype"] == "declarative" for r in records) == counts.declarative
        expected = [
            (e["vid"], s["description"], e["temporal_gt"]["begin_fid"], e["temporal_gt"]["end_fid"])
            for e in entries
            for s in e["captions"] + e["questions"]
        ]
        got = [
            (r["original_video_id"], r["caption"], r["tube_start_frame"], r["tube_end_frame"])
            for r in records
        ]
        assert got == expected
        for record, entry in zip(
            records, (e for e in entries for _ in e["captions"] + e["questions"]), strict=True
        ):
            # TubeDETR's preproc_vidstg.py copies used_segment.end_fid (inclusive) unchanged.
            assert record["end_frame"] == entry["used_segment"]["end_fid"]
            boxes = data["trajectories"][record["original_video_id"]][str(record["target_id"])]
            for frame in range(record["tube_start_frame"], record["tube_end_frame"]):
                x, y, w, h = boxes[str(frame)]["bbox"]
                assert w > 0 and h > 0 and x + w <= record["width"] and y + h <= record["height"]


def test_unknown_layout_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="layouts"):
        generate(tmp_path / "x", "hcstvg-v1", 1, 0, False, layout="tubedetr")


def test_original_and_tubedetr_layouts_of_the_same_data_import_to_the_same_catalog(tmp_path):
    """Row for row, every column the two layouts both carry (TubeDETR has no categories and its
    own sentence ids; video paths differ by root)."""
    from stvg.schemas import schema_for
    from stvg.stvgdata.adapters import ADAPTERS
    from stvg.stvgdata.progress import no_progress

    readers = {adapter.layout: adapter.read for adapter in ADAPTERS["vidstg"]}
    tables = {
        layout: readers[layout](
            make(tmp_path, "vidstg", name=layout, layout=layout)[0], "vidstg", no_progress
        )
        for layout in ("original", "tubedetr")
    }
    original, tubedetr = tables["original"], tables["tubedetr"]
    differ = {"target_category", "source_query_id"}
    columns = [name for name in original.queries.column_names if name not in differ]
    key = [("query_id", "ascending")]
    assert (
        tubedetr.queries.select(columns)
        .sort_by(key)
        .equals(original.queries.select(columns).sort_by(key))
    )
    video_columns = [name for name in original.videos.column_names if name != "path"]
    assert (
        tubedetr.videos.select(video_columns)
        .sort_by([("video_id", "ascending")])
        .equals(original.videos.select(video_columns).sort_by([("video_id", "ascending")]))
    )
    box_key = [("query_id", "ascending"), ("frame_idx", "ascending")]
    plain = schema_for("boxes")  # the ids are dictionary-encoded, which sort_by does not take
    assert (
        tubedetr.boxes.cast(plain)
        .sort_by(box_key)
        .equals(original.boxes.cast(plain).sort_by(box_key))
    )
