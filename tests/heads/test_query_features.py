"""Every method reads the feature cache through ``stvgdata.query_features``: the same query
yields the same arrays through STOP's split, CoSPaL's tubelets and the loader CSDVL trains on, a
stale video is refused by STOP as by the loader, and no method calls a store reader itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import stvg.heads
from stvg.heads.cospal.data import MOTION_DIM, pool_in_boxes
from stvg.heads.cospal.data import load_data as load_cospal
from stvg.heads.stop.data import QUERY_COLUMNS, load_split
from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.loader import CachedQueryDataset
from stvg.stvgdata.query_features import FeatureRows, query_rows
from stvg.stvgdata.sample_catalog import write_video
from tests.heads.cospal.cospal_workspace import build_cospal_workspace
from tests.heads.stop.stop_workspace import DATASET, FRAMES, build_stop_workspace

TEXT_ONLY = FeatureSet(frame=None, clip=None, text="roberta")


pytestmark = pytest.mark.filterwarnings("ignore")  # random-init warnings of tiny networks


def test_one_query_yields_the_same_arrays_through_every_methods_path(tmp_path) -> None:
    ws = build_stop_workspace(tmp_path)
    stop = load_split(ws, DATASET, "train", frames=3)
    loader = CachedQueryDataset(ws, DATASET, "train", features=TEXT_ONLY)
    queries = query_rows(ws, DATASET, "train", QUERY_COLUMNS)
    features = FeatureRows(ws, DATASET, ("vit", "roberta"), queries)
    assert [loader[i]["query_id"] for i in range(len(loader))] == stop.query_ids
    for i, query in enumerate(queries):
        text = loader[i]["text_feats"]
        np.testing.assert_array_equal(stop.text[i, : len(text)].numpy(), text.astype(np.float32))
        np.testing.assert_array_equal(features.read(features.require("roberta", query)), text)
        video = features.read(features.require("vit", query))  # (T, 1 + P, C)
        clip = stop.clips[stop.target[i]].numpy()  # (frames, 1 + P, C), rows of that video
        assert any(np.array_equal(clip[0], row) for row in video)


def test_cospal_pools_the_same_slowfast_rows_the_loader_serves(tmp_path) -> None:
    ws = build_cospal_workspace(tmp_path, with_slowfast=True)
    cospal = load_cospal(ws, DATASET, "test", use_slowfast=True)
    loader = CachedQueryDataset(ws, DATASET, "train", features=FeatureSet(None, "slowfast", None))
    for i in range(len(loader)):
        item = loader[i]
        video = cospal.videos[item["video_id"]]
        cols = np.searchsorted(video.frame_idx, item["frame_idx"])
        boxes, present = video.boxes[:, cols], video.present[:, cols]
        pooled = pool_in_boxes(item["clip_feats"], boxes, tuple(item["image_size"].tolist()))
        np.testing.assert_allclose(
            video.dynamics[:, cols, MOTION_DIM:], np.where(present[..., None], pooled, 0)
        )


def test_a_stale_video_is_refused_by_stop_as_by_the_loader(tmp_path) -> None:
    ws = build_stop_workspace(tmp_path)
    write_video(tmp_path / "videos" / "a.mp4", FRAMES, size=(32, 48))  # other content
    with pytest.raises(BadInputError, match=r"vit a: stale features"):
        load_split(ws, DATASET, "train", frames=3)


def test_no_method_calls_a_store_reader_itself() -> None:
    readers = ("ShardReader", "RegionReader", "read_video_regions", "read_query_embeddings")
    sources = Path(stvg.heads.__file__).parent.rglob("*.py")
    calls = {(p.name, r) for p in sources for r in readers if r in p.read_text()}
    assert calls == set()
