"""A tiny workspace for STOP: the cache tests' catalog (3 train videos, 1 test video, two
queries on one tube each) with tiny vit tokens and roberta features really extracted."""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.extract import ExtractConfig, run_extraction
from stvg.stvgdata.sample_catalog import (
    DATASET,
    VIDEO_FPS,
    install_catalog,
)
from stvg.stvgdata.workspace import Workspace
from tests.helpers import quiet_random_init, split_videos

VIDEOS = {"train": ("a", "b", "c"), "test": ("t",)}
FRAMES = 12
FRAME_SIZE = (64, 96)  # a 4 x 6 patch grid for the tiny ViT (patch 16)
# `stvg train --method stop` settings matching the tiny extraction
TINY_SETS = ("--set", "vit_tiny=true", "--set", "frames=3", "--set", "num_spatial=2")


def build_stop_workspace(root: Path) -> Workspace:
    ws = Workspace(root)
    videos = split_videos(root, VIDEOS, FRAMES)
    install_catalog(ws, videos, queries_per_video=2)
    config = ExtractConfig(
        dataset=DATASET,
        models=("vit", "roberta"),
        fps=float(VIDEO_FPS),
        input_size=FRAME_SIZE,
        tiny=True,
        random_init=True,
    )
    with quiet_random_init():
        run_extraction(ws, config)
    return ws


__all__ = ["DATASET", "FRAME_SIZE", "TINY_SETS", "build_stop_workspace"]
