"""CoSPaL's weak inputs: tubelet grids from the region cache, motion descriptors, batches - and
that weak training never reads a GT box, tube boundary or target id."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
import torch

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import (
    MOTION_DIM,
    WEAK_FIELDS,
    clip_present,
    collate_weak,
    load_data,
    motion_descriptors,
    pool_in_boxes,
    strided,
)
from stvg.heads.cospal.model import build_model
from stvg.heads.cospal.train import fit
from stvg.stvgdata.catalog import read_table, replace_dataset
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import no_progress
from tests.heads.cospal.cospal_workspace import DATASET, LENGTHS, build_cospal_workspace

TINY = CospalConfig(dim=8, heads=2, batch_size=4, epochs=2, use_slowfast=False)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_cospal_workspace(tmp_path_factory.mktemp("cospal"), with_slowfast=True)


def test_videos_become_tubelet_grids_on_the_region_frames(ws):
    data = load_data(ws, DATASET, "test", use_slowfast=True)
    assert sorted(data.videos) == sorted(LENGTHS)
    video = data.videos["b"]
    np.testing.assert_array_equal(video.frame_idx, np.arange(16))
    np.testing.assert_array_equal(video.tubelet_ids, [0, 1])
    assert video.present.all()  # both tubelets (incl. the bridged frame 1) on every frame
    assert video.boxes[0, 0].tolist() == [8.0, 6.0, 30.0, 30.0]
    assert video.appearance.shape == (2, 16, 8)
    assert video.dynamics.shape[:2] == (2, 16) and video.dynamics.shape[2] > MOTION_DIM
    assert [q.segment for q in data.eval] == [(1, 16), (1, 16)]


def test_slowfast_missing_is_a_one_line_error(tmp_path):
    ws = build_cospal_workspace(tmp_path, with_slowfast=False)
    with pytest.raises(BadInputError, match="`use_slowfast`=false"):
        load_data(ws, DATASET, "test", use_slowfast=True)


def test_motion_descriptors_give_centre_size_and_velocity():
    frames = np.arange(5, dtype=np.float32)
    boxes = np.stack([10 + 2 * frames, 20 + 0 * frames, 30 + 2 * frames, 40 + 0 * frames], -1)
    present = np.array([[True, True, True, False, True]])
    out = motion_descriptors(boxes[None], present, (100.0, 200.0))
    np.testing.assert_allclose(out[0, 0, :4], [0.2, 0.15, 0.2, 0.1])
    # central differences over present neighbours only: frame 1 (0 and 2 present) moves 0.02
    # image widths per frame (scaled by 10); frame 2's right neighbour is missing
    np.testing.assert_allclose(out[0, 1, 4:], [0.2, 0.0, 0.2], atol=1e-6)
    np.testing.assert_array_equal(out[0, 2, 4:], 0)
    np.testing.assert_array_equal(out[0, 3], 0)  # absent frame: zeros


def test_pool_in_boxes_averages_the_map_inside_each_box():
    feature_map = np.zeros((1, 4, 4, 1), np.float32)
    feature_map[0, :2, :2] = 1.0  # top-left quarter of a 40 x 40 frame
    boxes = np.array([[[0, 0, 20, 20]], [[20, 20, 40, 40]]], np.float32)
    pooled = pool_in_boxes(feature_map, boxes, (40.0, 40.0))
    np.testing.assert_allclose(pooled[:, 0, 0], [1.0, 0.0], atol=1e-6)


def test_batches_hold_only_weak_fields_and_mask_outside_the_clip(ws):
    data = load_data(ws, DATASET, "test", use_slowfast=False)
    query = dataclasses.replace(data.train[0], segment=(4, 8))
    batch = collate_weak([query, *data.train[2:4]], data.videos)
    assert set(batch) == WEAK_FIELDS
    assert batch["present"][0].any(0).nonzero().flatten().tolist() == [4, 5, 6, 7]
    assert batch["appearance"].shape == (3, 2, 16, 8)  # padded to the longest video
    assert not batch["present"][0, :, 12:].any()
    assert batch["video_index"].tolist() == [0, 1, 1]
    np.testing.assert_array_equal(
        clip_present(data.videos[query.video_id], (4, 8)).any(0), np.arange(12) // 4 == 1
    )
    assert strided(batch, 4)["present"].shape == (3, 2, 4)


def _with_constant(table: pa.Table, values: dict[str, object]) -> pa.Table:
    """``table`` with each named column set to one value on every row."""
    for column, value in values.items():
        index = table.schema.get_field_index(column)
        field = table.schema.field(column)
        table = table.set_column(index, field, pa.array([value] * len(table), field.type))
    return table


def _scramble_labels(ws) -> None:
    """Replace every GT tube boundary, target id and box of the catalog by other values."""
    tables = {name: read_table(ws, name) for name in ("videos", "queries", "boxes", "failures")}
    labels = {"tube_start_frame": 3, "tube_end_frame": 5, "target_id": 7}
    queries = _with_constant(tables["queries"], labels)
    boxes = _with_constant(tables["boxes"], {"x1": 0.0, "y1": 0.0})
    replace_dataset(ws, DATASET, {**tables, "queries": queries, "boxes": boxes})


def _trained_weights(ws) -> dict[str, torch.Tensor]:
    data = load_data(ws, DATASET, "test", use_slowfast=False)
    torch.manual_seed(0)
    model = build_model(8, MOTION_DIM, TINY)
    fit(model, data, TINY, no_progress)
    return model.state_dict()


def test_weak_training_is_blind_to_boxes_and_tube_boundaries(tmp_path):
    """Training on a catalog whose GT tubes and boxes were changed gives the same weights."""
    ws = build_cospal_workspace(tmp_path)
    before = _trained_weights(ws)
    _scramble_labels(ws)
    assert read_table(ws, "queries")["tube_start_frame"].to_pylist()[0] == 3
    after = _trained_weights(ws)
    assert before.keys() == after.keys()
    for name, weight in before.items():
        torch.testing.assert_close(weight, after[name], rtol=0, atol=0)
