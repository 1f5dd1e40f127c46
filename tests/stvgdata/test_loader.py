"""``CachedQueryDataset`` and ``collate_queries`` over a cache written directly (no models):
feature rows encode their frame index, so alignment is checkable exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from stvg.schemas import BATCH_FIELDS, FeatureSet
from stvg.stvgdata.cache import ModelIdentity, ShardWriter
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import xyxy_to_cxcywh_norm
from stvg.stvgdata.loader import PAD_TOKEN_ID, CachedQueryDataset, clip_positions, collate_queries
from stvg.stvgdata.sample_catalog import DATASET, VIDEO_SIZE, CatalogVideo, install_catalog
from stvg.stvgdata.workspace import Workspace

LENGTHS = {"a": 20, "b": 13, "nofeat": 10}
GRID = (2, 3)


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    """Catalog of 3 videos x 2 queries; features (frames sampled every 2nd frame) for a and b;
    resnet rows hold +frame_idx, slowfast rows -frame_idx, token rows the query number."""
    ws = Workspace(workspace)
    videos = [CatalogVideo(v, Path(f"/nowhere/{v}.mp4"), n) for v, n in LENGTHS.items()]
    install_catalog(ws, videos, queries_per_video=2)
    for model, sign in (("resnet101", 1), ("slowfast", -1)):
        writer = ShardWriter(ws, f"shards/{DATASET}/{model}/s.h5", DATASET)
        for video_id in ("a", "b"):
            frame_idx = np.arange(0, LENGTHS[video_id], 2)
            identity = ModelIdentity(model, f"fp-{model}", "test")
            handle = writer.begin_video(identity, video_id, 5.0, frame_idx, (*GRID, 4))
            rows = sign * np.broadcast_to(
                frame_idx[:, None, None, None], (len(frame_idx), *GRID, 4)
            )
            writer.write_rows(handle, 0, rows)
            writer.finish_video(handle)
        writer.commit()
    writer = ShardWriter(ws, f"shards/{DATASET}/roberta/t.h5", DATASET)
    for video_id in ("a", "b"):
        for q in range(2):
            ids = np.arange(3 + q, dtype=np.int32) + 10
            feats = np.full((3 + q, 8), q, np.float32)
            identity = ModelIdentity("roberta", "fp-roberta", "test")
            writer.add_query_tokens(identity, f"{video_id}-q{q}", video_id, ids, feats)
    writer.commit()
    return ws


def test_clip_positions_restrict_to_the_segment_and_subsample_uniformly() -> None:
    frame_idx = np.arange(0, 40, 2)
    assert list(clip_positions(frame_idx, (5, 13), 10)) == [3, 4, 5, 6]
    picked = clip_positions(frame_idx, (0, 40), 5)
    assert list(picked) == [0, 5, 10, 14, 19]


def test_item_aligns_features_boxes_and_tube(ws: Workspace) -> None:
    data = CachedQueryDataset(ws, DATASET, "train", max_frames=200)
    assert len(data) == 4 and data.missing == 2  # "nofeat" has no features
    item = data[0]  # a-q0: segment [1, 20), tube [5, 15)
    assert list(item["frame_idx"]) == list(range(2, 20, 2))
    assert (item["frame_feats"][:, 0, 0, 0] == item["frame_idx"]).all()
    assert (item["clip_feats"][:, 1, 2, 3] == -item["frame_idx"]).all()
    assert item["frame_feats"].shape == (9, *GRID, 4)
    inside = (item["frame_idx"] >= 5) & (item["frame_idx"] < 15)
    assert (item["box_mask"] == inside).all()
    assert list(item["tube"]) == [2, 7]  # frames 6..14 are positions 2..6
    height, width = VIDEO_SIZE
    first = np.flatnonzero(inside)[0]
    f = item["frame_idx"][first]
    expected = xyxy_to_cxcywh_norm(np.array([8.0, 6.0, 8.0 + 2 * f % 40 + 4, 30.0]), width, height)
    np.testing.assert_allclose(item["boxes"][first], expected, rtol=1e-6)
    assert (item["boxes"][~inside] == 0).all() and (item["boxes"][inside, 2:] > 0).all()
    assert list(item["token_ids"]) == [10, 11, 12] and item["text_feats"].shape == (3, 8)


def test_max_frames_subsamples_and_keeps_the_tube_consistent(ws: Workspace) -> None:
    item = CachedQueryDataset(ws, DATASET, "train", max_frames=4)[0]
    assert list(item["frame_idx"]) == [2, 8, 12, 18]
    assert list(item["box_mask"]) == [False, True, True, False]
    assert list(item["tube"]) == [1, 3]


def test_collate_pads_with_masks_in_the_batch_layout(ws: Workspace) -> None:
    data = CachedQueryDataset(ws, DATASET, "train")
    batch = collate_queries([data[i] for i in range(len(data))])
    assert set(batch) == set(BATCH_FIELDS)
    assert (
        batch["frame_feats"].shape == (4, 9, *GRID, 4)
        and batch["frame_feats"].dtype == torch.float32
    )
    lengths = batch["frame_mask"].sum(dim=1).tolist()
    assert lengths == [9, 9, 6, 6]  # b: frames 2..12 of segment [1, 13)
    assert (batch["frame_idx"][2, 6:] == -1).all() and (batch["frame_feats"][2, 6:] == 0).all()
    assert not batch["box_mask"][2, 6:].any()
    assert batch["text_mask"].sum(dim=1).tolist() == [3, 4, 3, 4]
    assert (batch["token_ids"][0, 3:] == PAD_TOKEN_ID).all()
    assert batch["query_id"] == ["a-q0", "a-q1", "b-q0", "b-q1"]
    for name, (shape, dtype, _) in BATCH_FIELDS.items():
        if dtype != "str":
            assert batch[name].dim() == len(shape.split(",")), name
            assert str(batch[name].dtype) == f"torch.{dtype}", name


def test_workers_open_shards_lazily_and_agree_with_the_main_process(ws: Workspace) -> None:
    data = CachedQueryDataset(ws, DATASET, "train", features=FeatureSet(clip=None))
    assert "clip_feats" not in data[0]  # only the requested models are read
    loader = DataLoader(data, batch_size=2, num_workers=2, collate_fn=collate_queries)
    batches = list(loader)
    direct = collate_queries([data[0], data[1]])
    assert len(batches) == 2
    torch.testing.assert_close(batches[0]["frame_feats"], direct["frame_feats"])
    assert batches[1]["query_id"] == ["b-q0", "b-q1"]


def _write_maps(ws: Workspace, model: str, value: int, grid: tuple[int, int]) -> None:
    """Rows of ``model`` for videos a and b on the fixture's timeline, all equal to ``value``."""
    writer = ShardWriter(ws, f"shards/{DATASET}/{model}/s.h5", DATASET)
    for video_id in ("a", "b"):
        frame_idx = np.arange(0, LENGTHS[video_id], 2)
        handle = writer.begin_video(
            ModelIdentity(model, f"fp-{model}", "test"), video_id, 5.0, frame_idx, (*grid, 6)
        )
        writer.write_rows(handle, 0, np.full((len(frame_idx), *grid, 6), value, np.float32))
        writer.finish_video(handle)
    writer.commit()


def test_feature_set_chooses_which_cached_models_fill_the_batch(ws: Workspace) -> None:
    _write_maps(ws, "vl-synth-map", 7, GRID)
    writer = ShardWriter(ws, f"shards/{DATASET}/vl-synth-text/t.h5", DATASET)
    for video_id in ("a", "b"):
        for q in range(2):
            identity = ModelIdentity("vl-synth-text", "fp-vl", "test")
            ids, feats = np.arange(2, dtype=np.int32), np.full((2, 5), 9.0, np.float32)
            writer.add_query_tokens(identity, f"{video_id}-q{q}", video_id, ids, feats)
    writer.commit()
    chosen = FeatureSet(frame="vl-synth-map", text="vl-synth-text")
    batch = collate_queries([CachedQueryDataset(ws, DATASET, "train", features=chosen)[0]])
    assert (batch["frame_feats"] == 7).all() and batch["frame_feats"].shape[-1] == 6
    assert (batch["clip_feats"] <= 0).all()  # slowfast still fills the clip stream
    assert (batch["text_feats"] == 9).all() and batch["text_feats"].shape[-1] == 5
    default = CachedQueryDataset(ws, DATASET, "train")[0]
    assert default["frame_feats"].shape[-1] == 4 and default["text_feats"].shape[-1] == 8


def test_frame_and_clip_maps_on_different_grids_are_a_user_error(ws: Workspace) -> None:
    _write_maps(ws, "vl-synth-map", 7, (3, 5))
    with pytest.raises(BadInputError, match="grid"):  # found from the manifest, before any read
        CachedQueryDataset(ws, DATASET, "train", features=FeatureSet(frame="vl-synth-map"))


@pytest.mark.parametrize(
    "features", [FeatureSet(frame="roberta"), FeatureSet(text="slowfast"), FeatureSet(clip="x")]
)
def test_a_model_that_cannot_fill_a_field_is_a_user_error(
    ws: Workspace, features: FeatureSet
) -> None:
    with pytest.raises(BadInputError, match="choose from"):
        CachedQueryDataset(ws, DATASET, "train", features=features)
