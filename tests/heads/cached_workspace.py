"""A tiny workspace with a catalog (the cache tests' helper) and random features written
through the cache's own writer, for end-to-end tests of train / ablate / show / eval. Besides
the default models it caches vl-synth-map and vl-synth-text, so --frame-features and
--text-features have something to choose."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stvg.stvgdata.cache import ModelIdentity, ShardWriter
from stvg.stvgdata.sample_catalog import (
    DATASET,
    VIDEO_FPS,
    CatalogVideo,
    install_catalog,
)
from stvg.stvgdata.workspace import Workspace
from tests.helpers import split_videos

VIDEOS = {"train": ("a", "b", "c"), "test": ("t",)}
FRAMES = 16
GRID = (2, 2)
CHANNELS = {"resnet101": 12, "slowfast": 10, "vl-synth-map": 6, "roberta": 8, "vl-synth-text": 6}
MAP_MODELS, TEXT_MODELS = ("resnet101", "slowfast", "vl-synth-map"), ("roberta", "vl-synth-text")


def _write_features(
    ws: Workspace,
    videos: list[CatalogVideo],
    query_ids: list[tuple[str, str]],
    weights: str = "",
):
    rng = np.random.default_rng(0)
    writer = ShardWriter(ws, f"{DATASET}/test-shard.h5", DATASET)
    for model in MAP_MODELS:
        identity = ModelIdentity(model, f"test-{model}", "random test features", weights)
        for video in videos:
            frame_idx = np.arange(video.num_frames)
            shape = (*GRID, CHANNELS[model])
            handle = writer.begin_video(identity, video.video_id, VIDEO_FPS, frame_idx, shape)
            writer.write_rows(handle, 0, rng.standard_normal((len(frame_idx), *shape)))
            writer.finish_video(handle)
    for model in TEXT_MODELS:
        identity = ModelIdentity(model, f"test-{model}", "random test features", weights)
        for query_id, video_id in query_ids:
            tokens = rng.integers(4, 200, size=5)
            feats = rng.standard_normal((5, CHANNELS[model]))
            writer.add_query_tokens(identity, query_id, video_id, tokens, feats)
    writer.commit()


def build_cached_workspace(root: Path, weights: str = "") -> Workspace:
    """3 train videos and 1 test video of 16 frames, 2 queries each, features cached (every
    model's ``weights`` label as given)."""
    ws = Workspace(root)
    videos = split_videos(root, VIDEOS, FRAMES)
    install_catalog(ws, videos, queries_per_video=2)
    queries = [(f"{v.video_id}-q{q}", v.video_id) for v in videos for q in range(2)]
    _write_features(ws, videos, queries, weights)
    return ws


__all__ = ["DATASET", "build_cached_workspace"]
