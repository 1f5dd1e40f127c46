"""A tiny workspace for CoSPaL: three train videos and one test video (two queries each) with
two tracked tubelets per video, their region embeddings from an untrained tiny substitute
encoder and, optionally, tiny SlowFast maps on the same frames. The tests check plumbing,
shapes and what training may read - never what the embeddings mean."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.regions.config import RegionExtractConfig
from stvg.stvgdata.regions.extract import run_region_extraction
from stvg.stvgdata.sample_catalog import DATASET, VIDEO_FPS, install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.helpers import quiet_random_init
from tests.stvgdata.cache_fixtures import tiny_config
from tests.stvgdata.regions_fixtures import install_boxes, tiny_substitute

LENGTHS = {"a": 12, "b": 16, "c": 12, "t": 16}
TEST_VIDEOS = ("t",)
# `stvg train --method cospal` settings for this workspace
TINY_SETS = ("--set", "dim=8", "--set", "heads=2", "--set", "batch_size=4")


def build_cospal_workspace(root: Path, with_slowfast: bool = False) -> Workspace:
    ws = Workspace(root / "ws")
    videos = [
        dataclasses.replace(v, split="test" if v.video_id in TEST_VIDEOS else "train")
        for v in make_videos(root / "videos", LENGTHS)
    ]
    install_catalog(ws, videos, queries_per_video=2)
    install_boxes(ws, "tubelets", LENGTHS)
    weights = tiny_substitute(root / "encoder")
    run_region_extraction(
        ws, RegionExtractConfig(dataset=DATASET, weights=weights, fps=float(VIDEO_FPS))
    )
    if with_slowfast:
        with quiet_random_init():
            run_extraction(ws, tiny_config(models=("slowfast",)))
    return ws


__all__ = ["DATASET", "LENGTHS", "TINY_SETS", "build_cospal_workspace"]
