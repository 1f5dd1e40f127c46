"""A tiny workspace with a catalog (the cache tests' helper) and random features written
through the cache's own writer, for end-to-end tests of train / ablate / show / eval."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stvgdata.cache import ModelIdentity, ShardWriter
from stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import (
    DATASET,
    VIDEO_FPS,
    CatalogVideo,
    install_catalog,
    write_video,
)

VIDEOS = {"train": ("a", "b", "c"), "test": ("t",)}
FRAMES = 16
GRID = (2, 2)
CHANNELS = {"resnet101": 12, "slowfast": 10, "roberta": 8}


def _write_features(ws: Workspace, videos: list[CatalogVideo], query_ids: list[tuple[str, str]]):
    rng = np.random.default_rng(0)
    writer = ShardWriter(ws, f"{DATASET}/test-shard.h5", DATASET)
    for model in ("resnet101", "slowfast"):
        identity = ModelIdentity(model, f"test-{model}", "random test features")
        for video in videos:
            frame_idx = np.arange(video.num_frames)
            shape = (*GRID, CHANNELS[model])
            handle = writer.begin_video(identity, video.video_id, VIDEO_FPS, frame_idx, shape)
            writer.write_rows(handle, 0, rng.standard_normal((len(frame_idx), *shape)))
            writer.finish_video(handle)
    identity = ModelIdentity("roberta", "test-roberta", "random test features")
    for query_id, video_id in query_ids:
        tokens = rng.integers(4, 200, size=5)
        feats = rng.standard_normal((5, CHANNELS["roberta"]))
        writer.add_query_tokens(identity, query_id, video_id, tokens, feats)
    writer.commit()


def build_cached_workspace(root: Path) -> Workspace:
    """3 train videos and 1 test video of 16 frames, 2 queries each, features cached."""
    ws = Workspace(root)
    videos = [
        CatalogVideo(vid, write_video(root / "videos" / f"{vid}.mp4", FRAMES), FRAMES, split)
        for split, ids in VIDEOS.items()
        for vid in ids
    ]
    install_catalog(ws, videos, queries_per_video=2)
    queries = [(f"{v.video_id}-q{q}", v.video_id) for v in videos for q in range(2)]
    _write_features(ws, videos, queries)
    return ws


__all__ = ["DATASET", "build_cached_workspace"]
