"""A tiny workspace for STOP: the cache tests' catalog (3 train videos, 1 test video, two
queries on one tube each) with tiny vit tokens and roberta features really extracted."""

from __future__ import annotations

import warnings
from pathlib import Path

from stvg.stvgdata.extract import ExtractConfig, run_extraction
from stvg.stvgdata.extractors import RandomInitWarning
from stvg.stvgdata.sample_catalog import (
    DATASET,
    VIDEO_FPS,
    CatalogVideo,
    install_catalog,
    write_video,
)
from stvg.stvgdata.workspace import Workspace

VIDEOS = {"train": ("a", "b", "c"), "test": ("t",)}
FRAMES = 12
FRAME_SIZE = (64, 96)  # a 4 x 6 patch grid for the tiny ViT (patch 16)
# `stvg train --method stop` settings matching the tiny extraction
TINY_SETS = ("--set", "vit_tiny=true", "--set", "frames=3", "--set", "num_spatial=2")


def build_stop_workspace(root: Path) -> Workspace:
    ws = Workspace(root)
    videos = [
        CatalogVideo(vid, write_video(root / "videos" / f"{vid}.mp4", FRAMES), FRAMES, split)
        for split, ids in VIDEOS.items()
        for vid in ids
    ]
    install_catalog(ws, videos, queries_per_video=2)
    config = ExtractConfig(
        dataset=DATASET,
        models=("vit", "roberta"),
        fps=float(VIDEO_FPS),
        input_size=FRAME_SIZE,
        tiny=True,
        random_init=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomInitWarning)
        run_extraction(ws, config)
    return ws


__all__ = ["DATASET", "FRAME_SIZE", "TINY_SETS", "build_stop_workspace"]
