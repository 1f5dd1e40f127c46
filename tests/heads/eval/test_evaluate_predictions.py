"""Prediction files: stvg JSON round trip, TubeDETR-style result files and their id mapping, and
one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from stvg.heads.eval.predictions import (
    TUBEDETR_FRAME_SHIFT,
    QueryPrediction,
    read_predictions,
    read_stvg_predictions,
    read_tubedetr_predictions,
    tubedetr_id_map,
    write_stvg_predictions,
)
from stvg.stvgdata.errors import BadInputError


def tubedetr_result(steds: dict[str, list], boxes: dict[str, dict[int, list]]) -> dict:
    """The two dicts TubeDETR's evaluators hold: per-sentence sted, per-frame boxes."""
    return {
        "video_predictions": {vid: {"sted": sted} for vid, sted in steds.items()},
        "predictions": {
            f"{vid}_{frame}": {"boxes": [box]}
            for vid, frames in boxes.items()
            for frame, box in frames.items()
        },
    }  # fmt: skip


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


ID_MAP = {"0": "vidstg/a", "1": "vidstg/b"}


BOXES = [[0.1, 0.2, 10.5, 20.25], [1, 2, 3, 4], [5, 5, 9, 9]]


def test_stvg_json_round_trips_exactly(tmp_path):
    original = [
        QueryPrediction("q/1", 3, 9, [3, 5, 8], BOXES),
        QueryPrediction("q/2", 0, 1, [], np.zeros((0, 4))),
    ]  # fmt: skip
    path = tmp_path / "preds.json"
    write_stvg_predictions(path, original)
    loaded = read_stvg_predictions(path)
    assert list(loaded) == ["q/1", "q/2"]
    for before in original:
        after = loaded[before.query_id]
        assert (after.start_frame, after.end_frame) == (before.start_frame, before.end_frame)
        assert np.array_equal(after.frame_idx, before.frame_idx)
        assert after.frame_idx.dtype == np.int64
        assert np.array_equal(after.boxes, before.boxes)
    assert read_predictions(path, "auto", {}).keys() == loaded.keys()


def test_tubedetr_file_maps_ids_and_reads_float_steds(tmp_path):
    path = write_json(
        tmp_path / "res.json",
        tubedetr_result(
            {"0": [12.0, 30.0], "1": [0.0, 6.0]},
            {"0": {12: [1, 2, 30, 40], 18: [2, 3, 31, 41]}, "1": {0: [0, 0, 5, 5]}},
        ),
    )
    preds = read_tubedetr_predictions(path, ID_MAP)
    a = preds["vidstg/a"]
    assert (a.start_frame, a.end_frame) == (12, 30)
    assert a.frame_idx.tolist() == [12, 18]
    assert a.boxes[1].tolist() == [2, 3, 31, 41]
    assert preds["vidstg/b"].frame_idx.tolist() == [0]


def test_tubedetr_log_stats_nesting_is_found(tmp_path):
    section = tubedetr_result({"1": [0, 6]}, {"1": {0: [0, 0, 5, 5]}})
    document = {"test_vidstg_vidstg": {"declarative_viou": 0.3, **section}, "n_parameters": 5}
    path = write_json(tmp_path / "log_stats.json", document)
    assert list(read_predictions(path, "tubedetr", ID_MAP)) == ["vidstg/b"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (tubedetr_result({"7": [0, 6]}, {}), r"video_predictions\['7'\]: unknown id"),
        (tubedetr_result({"0": [0, 6]}, {"0": {3: [5, 0, 5, 9]}}), "frame 3: box .* x2 <= x1"),
        (tubedetr_result({"0": [6, 6]}, {}), "end 6 is not after start 6"),
        (tubedetr_result({"0": [0.5, 6]}, {}), "not a whole frame index"),
        (tubedetr_result({"0": [0, 6]}, {"1": {0: [0, 0, 1, 1]}}), "id 1: boxes without"),
        (tubedetr_result({"0": [0, 6]}, {"0": {0: [0, 0, 1]}}), "is not 4 numbers"),
        (tubedetr_result({"0": [0, 6]}, {"0": {0: [0, 0, 1, "2"]}}), "is not 4 numbers"),
        (tubedetr_result({"0": [0, 6]}, {"0": {0: 7}}), r"frame 0: box \[7\] is not 4 numbers"),
        ({"predictions": {}}, "not a TubeDETR result file"),
    ],
)
def test_bad_tubedetr_files_name_file_and_record(tmp_path, document, message):
    path = write_json(tmp_path / "bad.json", document)
    with pytest.raises(BadInputError, match=message) as caught:
        read_tubedetr_predictions(path, ID_MAP)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_malformed_json_is_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"video_predictions": {"0": ')
    with pytest.raises(BadInputError, match="malformed JSON") as caught:
        read_predictions(path, "auto", ID_MAP)
    assert "\n" not in str(caught.value)


def test_missing_file_and_wrong_stvg_version(tmp_path):
    with pytest.raises(BadInputError, match="file not found"):
        read_predictions(tmp_path / "absent.json", "auto", {})
    path = write_json(tmp_path / "v9.json", {"format": "stvg-predictions", "version": 9})
    with pytest.raises(BadInputError, match="unsupported version 9"):
        read_predictions(path, "stvg", {})


def catalog_queries(rows: list[dict]) -> pa.Table:
    defaults = {"tube_start_frame": 0, "tube_end_frame": 10, "source_query_id": None}
    return pa.Table.from_pylist([defaults | row for row in rows])


def test_id_map_uses_source_ids_and_query_ids():
    queries = catalog_queries(
        [
            {"query_id": "vidstg/a", "video_id": "v1", "sentence": "s", "source_query_id": "0"},
            {"query_id": "vidstg/b", "video_id": "v1", "sentence": "t"},
        ]
    )
    assert tubedetr_id_map(queries) == {
        "vidstg/a": "vidstg/a",
        "0": "vidstg/a",
        "vidstg/b": "vidstg/b",
    }


def test_id_map_from_tubedetr_annotations_matches_video_sentence_then_tube(tmp_path):
    queries = catalog_queries(
        [
            {"query_id": "a", "video_id": "v1", "sentence": "the dog runs", "tube_start_frame": 0},
            {"query_id": "b", "video_id": "v1", "sentence": "the dog runs", "tube_start_frame": 5},
            {"query_id": "c", "video_id": "v2", "sentence": "who holds the cup?"},
        ]
    )
    videos = [
        {"video_id": 0, "original_video_id": "v2", "caption": "who holds the cup? ",
         "tube_start_frame": 0, "tube_end_frame": 10},
        {"video_id": 1, "original_video_id": "v1", "caption": "the dog runs",
         "tube_start_frame": 5, "tube_end_frame": 10},
        {"video_id": 2, "original_video_id": "v9", "caption": "elsewhere",
         "tube_start_frame": 0, "tube_end_frame": 1},
    ]  # fmt: skip
    vidstg_style = write_json(tmp_path / "test.json", {"videos": videos, "trajectories": {}})
    hcstvg_style = write_json(tmp_path / "test_proc.json", videos)
    for path in (vidstg_style, hcstvg_style):
        id_map = tubedetr_id_map(queries, path)
        assert (id_map["0"], id_map["1"]) == ("c", "b")
        assert "2" not in id_map  # a sentence of another split stays unknown


@pytest.mark.parametrize("dataset", ["hcstvg-v1", "hcstvg-v2"])
def test_tubedetr_hcstvg_frames_are_one_later_than_the_catalogs(tmp_path, dataset):
    """TubeDETR reads st_frame as 0-based: its frame f holds bbox[f - st_frame], which the
    catalog (1-based st_frame) stores at f - 1. Its frame 0 has no catalog frame."""
    path = write_json(
        tmp_path / "res.json",
        tubedetr_result({"0": [0, 8]}, {"0": {0: [1, 1, 5, 5], 5: [2, 3, 31, 41]}}),
    )
    shift = TUBEDETR_FRAME_SHIFT[dataset]
    pred = read_predictions(path, "tubedetr", ID_MAP, shift)["vidstg/a"]
    assert (pred.start_frame, pred.end_frame) == (0, 7)
    assert pred.frame_idx.tolist() == [4]
    assert pred.boxes.tolist() == [[2, 3, 31, 41]]
    assert TUBEDETR_FRAME_SHIFT.get("vidstg", 0) == 0  # VidSTG frames are the catalog's


def test_id_map_from_tubedetr_hcstvg_annotations_compares_tubes_in_catalog_frames(tmp_path):
    """*_proc.json tubes start at st_frame (TubeDETR's frames): one later than the catalog's."""
    queries = catalog_queries(
        [
            {"query_id": "a", "video_id": "v1", "sentence": "he sits", "tube_start_frame": 4},
            {"query_id": "b", "video_id": "v1", "sentence": "he sits", "tube_start_frame": 5},
        ]
    )
    videos = [
        {"video_id": 0, "original_video_id": "v1", "caption": "he sits",
         "tube_start_frame": 5, "tube_end_frame": 11, "trajectory": []},
    ]  # fmt: skip
    path = write_json(tmp_path / "test_proc.json", videos)
    assert tubedetr_id_map(queries, path, TUBEDETR_FRAME_SHIFT["hcstvg-v1"])["0"] == "a"
