"""Each layout's conversion to the catalog convention, with the boundary cases of each source."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stvg.schemas import schema_for
from stvg.stvgdata.adapters import ADAPTERS
from stvg.stvgdata.adapters.base import CatalogTables
from stvg.stvgdata.adapters.vidstg_sentences import vidstg_query_id
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.importer import choose_adapter
from stvg.stvgdata.progress import no_progress
from tests.stvgdata.dataset_files import (
    hcstvg_sample,
    to_hcstvg_v2,
    vidstg_sample,
    write_hcstvg,
    write_json,
    write_vidstg_original,
    write_vidstg_stcat,
    write_vidstg_tubedetr,
)

VIDSTG_WRITERS = {
    "original": write_vidstg_original,
    "stcat": write_vidstg_stcat,
    "tubedetr": write_vidstg_tubedetr,
}


def read(dataset: str, root, layout: str | None = None) -> CatalogTables:
    """The adapter's tables, the boxes' dictionary-encoded ids decoded (compared by value)."""
    tables = choose_adapter(dataset, root, layout).read(root, dataset, no_progress)
    return replace(tables, boxes=tables.boxes.cast(schema_for("boxes")))


def rows_by(table, key: str) -> dict:
    return {row[key]: row for row in table.to_pylist()}


def boxes_of(tables: CatalogTables, query_id: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in tables.boxes.to_pylist() if r["query_id"] == query_id]
    frames = np.array([r["frame_idx"] for r in rows])
    xyxy = np.array([[r["x1"], r["y1"], r["x2"], r["y2"]] for r in rows])
    return frames, xyxy


@pytest.mark.parametrize("layout", sorted(VIDSTG_WRITERS))
def test_vidstg_layout_is_detected(tmp_path, layout):
    root = VIDSTG_WRITERS[layout](tmp_path, vidstg_sample())
    assert choose_adapter("vidstg", root).layout == layout


@pytest.mark.parametrize("layout", sorted(VIDSTG_WRITERS))
def test_vidstg_tube_ending_at_frame_count_is_kept_exclusive(tmp_path, layout):
    tables = read("vidstg", VIDSTG_WRITERS[layout](tmp_path, vidstg_sample()))
    query = rows_by(tables.queries, "query_id")["v1@0/d0"]
    # temporal_gt.end_fid = 10 = frame_count: exclusive, so the tube is [4, 10).
    assert (query["tube_start_frame"], query["tube_end_frame"]) == (4, 10)
    frames, xyxy = boxes_of(tables, "v1@0/d0")
    assert frames.tolist() == list(range(4, 10))
    # VidOR box of tid 0 at frame f is [1 + f, 10, 21 + f, 40].
    np.testing.assert_allclose(xyxy[0], [5, 10, 25, 40])


@pytest.mark.parametrize("layout", sorted(VIDSTG_WRITERS))
def test_vidstg_tube_starting_at_frame_zero(tmp_path, layout):
    tables = read("vidstg", VIDSTG_WRITERS[layout](tmp_path, vidstg_sample()))
    query = rows_by(tables.queries, "query_id")["v2@0/d0"]
    assert (query["tube_start_frame"], query["tube_end_frame"]) == (0, 3)
    assert query["split"] == "val"
    assert boxes_of(tables, "v2@0/d0")[0].tolist() == [0, 1, 2]


def test_vidstg_used_segment_end_is_inclusive(tmp_path):
    tables = read("vidstg", write_vidstg_original(tmp_path, vidstg_sample()))
    query = rows_by(tables.queries, "query_id")["v1@0/d0"]
    # used_segment.end_fid = 9 is the last frame: the segment is [0, 10).
    assert (query["segment_start_frame"], query["segment_end_frame"]) == (0, 10)


def test_vidstg_layouts_give_the_same_queries_tubes_and_boxes(tmp_path):
    results = {
        layout: read("vidstg", writer(tmp_path / layout, vidstg_sample()))
        for layout, writer in VIDSTG_WRITERS.items()
    }
    columns = ["query_id", "video_id", "split", "sentence", "sentence_type"]
    columns += ["tube_start_frame", "tube_end_frame", "segment_start_frame", "segment_end_frame"]
    columns += ["target_id"]
    reference = results["original"]
    for layout, tables in results.items():
        assert tables.queries.select(columns).equals(reference.queries.select(columns)), layout
        assert tables.boxes.sort_by([("query_id", "ascending"), ("frame_idx", "ascending")]).equals(
            reference.boxes.sort_by([("query_id", "ascending"), ("frame_idx", "ascending")])
        ), layout


def test_vidstg_sentences_keep_type_target_and_source_ids(tmp_path):
    tables = read("vidstg", write_vidstg_original(tmp_path, vidstg_sample()))
    queries = rows_by(tables.queries, "query_id")
    assert set(queries) == {"v1@0/d0", "v1@0/i0", "v1@0/i1", "v2@0/d0"}
    question = queries["v1@0/i0"]
    assert question["sentence_type"] == "interrogative"
    assert (question["target_id"], question["target_category"]) == (1, "dog")
    assert question["source_query_id"] == "train_annotations.json[0].questions[0]"
    assert vidstg_query_id("v1", 0, "interrogative", 0) == "v1@0/i0"
    # The dog (tid 1) is annotated from frame 2 on; the tube asks for [4, 10).
    assert boxes_of(tables, "v1@0/i0")[0].tolist() == list(range(4, 10))


def test_vidstg_video_rows_point_at_vidor_video_files(tmp_path):
    tables = read("vidstg", write_vidstg_original(tmp_path, vidstg_sample()))
    videos = rows_by(tables.videos, "video_id")
    assert videos["v1"]["path"] == str(tmp_path / "vidor" / "video" / "0000" / "v1.mp4")
    assert (videos["v1"]["num_frames"], videos["v1"]["width"], videos["v1"]["fps"]) == (10, 64, 5.0)


def test_tubedetr_boxes_are_converted_from_xywh(tmp_path):
    tables = read("vidstg", write_vidstg_tubedetr(tmp_path, vidstg_sample()))
    frames, xyxy = boxes_of(tables, "v2@0/d0")
    # tid 1 of v2 at frame f: [5 + f, 10, 25 + f, 40] written as x, y, w, h.
    np.testing.assert_allclose(xyxy, [[5 + f, 10, 25 + f, 40] for f in frames])
    assert rows_by(tables.queries, "query_id")["v2@0/d0"]["source_query_id"] == "3"


def test_layout_override_and_ambiguity(tmp_path):
    root = write_vidstg_original(tmp_path, vidstg_sample())
    write_vidstg_tubedetr(root, vidstg_sample())
    with pytest.raises(BadInputError, match="several vidstg layouts.*`layout`"):
        choose_adapter("vidstg", root)
    assert choose_adapter("vidstg", root, "tubedetr").layout == "tubedetr"
    with pytest.raises(BadInputError, match="unknown layout"):
        choose_adapter("vidstg", root, "nope")


def test_hcstvg_v1_st_frame_is_one_based(tmp_path):
    tables = read("hcstvg-v1", write_hcstvg(tmp_path, hcstvg_sample()))
    queries = rows_by(tables.queries, "query_id")
    # st_frame 1 with 5 boxes -> frames [0, 5); st_frame 31 with 10 boxes ends at img_num = 40.
    assert (queries["a"]["tube_start_frame"], queries["a"]["tube_end_frame"]) == (0, 5)
    assert (queries["b"]["tube_start_frame"], queries["b"]["tube_end_frame"]) == (30, 40)
    assert boxes_of(tables, "b")[0].tolist() == list(range(30, 40))
    frames, xyxy = boxes_of(tables, "a")
    np.testing.assert_allclose(xyxy[1], [3, 4, 23, 34])  # [x, y, w, h] = [3, 4, 20, 30]
    assert queries["b"]["split"] == "test"
    assert queries["b"]["source_query_id"] == "b.mkv"
    assert queries["a"]["sentence_type"] == "declarative"
    assert (queries["a"]["segment_start_frame"], queries["a"]["segment_end_frame"]) == (0, 40)


def test_hcstvg_v1_videos_keep_extension_and_derive_fps(tmp_path):
    tables = read("hcstvg-v1", write_hcstvg(tmp_path, hcstvg_sample()))
    video = rows_by(tables.videos, "video_id")["b"]
    assert video["path"] == str(tmp_path / "video" / "b.mkv")
    assert (video["num_frames"], video["fps"], video["width"], video["height"]) == (40, 2.0, 64, 48)


def test_hcstvg_v2_maps_english_and_img_size(tmp_path):
    v1 = read("hcstvg-v1", write_hcstvg(tmp_path / "v1", hcstvg_sample()))
    v2 = read("hcstvg-v2", write_hcstvg(tmp_path / "v2", to_hcstvg_v2(hcstvg_sample()), 2))
    assert v2.queries.column("split").to_pylist() == ["train", "val"]
    columns = ["query_id", "sentence", "tube_start_frame", "tube_end_frame"]
    assert v2.queries.select(columns).equals(v1.queries.select(columns))
    assert v2.videos.select(["width", "height"]).equals(v1.videos.select(["width", "height"]))
    assert v2.boxes.drop_columns(["dataset"]).equals(v1.boxes.drop_columns(["dataset"]))


def test_hcstvg_v2_accepts_renamed_files(tmp_path):
    sample = to_hcstvg_v2(hcstvg_sample())
    write_json(tmp_path / "train.json", sample["train"])
    assert read("hcstvg-v2", tmp_path).queries.num_rows == 1


def test_every_registered_adapter_has_a_unique_layout_name():
    for dataset, adapters in ADAPTERS.items():
        names = [a.layout for a in adapters]
        assert len(names) == len(set(names)), dataset


def test_hcstvg_videos_are_found_one_folder_down(tmp_path):
    root = write_hcstvg(tmp_path, to_hcstvg_v2(hcstvg_sample()), 2)
    (root / "video").rename(root / "Video-flat")
    (root / "Video" / "part1").mkdir(parents=True)
    (root / "Video-flat" / "a.mp4").rename(root / "Video" / "part1" / "a.mp4")
    videos = rows_by(read("hcstvg-v2", root).videos, "video_id")
    assert videos["a"]["path"] == str(root / "Video" / "part1" / "a.mp4")
    assert videos["b"]["path"] == str(root / "Video" / "b.mkv")  # missing: the expected place


def test_hcstvg_v2_val_renamed_as_test_json(tmp_path):
    sample = to_hcstvg_v2(hcstvg_sample())
    write_json(tmp_path / "train.json", sample["train"])
    write_json(tmp_path / "test.json", sample["val"])
    assert read("hcstvg-v2", tmp_path).queries.column("split").to_pylist() == ["train", "val"]


def test_hcstvg_v2_accepts_tubedetr_file_names(tmp_path):
    """TubeDETR's preprocessing reads trainv2.json / valv2.json."""
    sample = to_hcstvg_v2(hcstvg_sample())
    write_json(tmp_path / "anno" / "trainv2.json", sample["train"])
    write_json(tmp_path / "anno" / "valv2.json", sample["val"])
    assert read("hcstvg-v2", tmp_path).queries.column("split").to_pylist() == ["train", "val"]


def test_hcstvg_v1_in_stcat_layout_finds_v1_video(tmp_path):
    """STCAT keeps HC-STVG v1 as annos/hcstvg_v1/{train,test}.json beside v1_video/."""
    sample = hcstvg_sample()
    for split, records in sample.items():
        write_json(tmp_path / "annos" / "hcstvg_v1" / f"{split}.json", records)
    (tmp_path / "v1_video").mkdir()
    for key in ("a.mp4", "b.mkv"):
        (tmp_path / "v1_video" / key).write_bytes(b"x")
    videos = rows_by(read("hcstvg-v1", tmp_path).videos, "video_id")
    assert videos["a"]["path"] == str(tmp_path / "v1_video" / "a.mp4")
    assert videos["b"]["path"] == str(tmp_path / "v1_video" / "b.mkv")
