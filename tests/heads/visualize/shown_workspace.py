"""A tiny workspace to draw: two test videos of 20 frames (one query each per sentence type) and
an stvg predictions file whose boxes are the GT shifted right, so every query has a known
vIoU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stvg.heads.eval.evaluate import load_ground_truth
from stvg.heads.eval.predictions import QueryPrediction, write_stvg_predictions
from stvg.stvgdata.sample_catalog import DATASET, CatalogVideo, install_catalog, write_video
from stvg.stvgdata.workspace import Workspace

FRAMES = 20
SHIFTS = {"t0-q0": 0.0, "t0-q1": 2.0, "t1-q0": 6.0, "t1-q1": 12.0}  # query -> box shift (px)


def build_shown_workspace(root: Path) -> tuple[Workspace, Path]:
    """The workspace and its predictions file (predicted span = GT tube)."""
    ws = Workspace(root)
    videos = [
        CatalogVideo(vid, write_video(root / "videos" / f"{vid}.mp4", FRAMES), FRAMES, "test")
        for vid in ("t0", "t1")
    ]
    install_catalog(ws, videos, queries_per_video=2)
    ground_truth = load_ground_truth(ws, DATASET, "test")
    predictions = [
        QueryPrediction(
            query_id,
            gt.tube[0],
            gt.tube[1],
            gt.frame_idx,
            gt.boxes + np.array([SHIFTS[query_id], 0, SHIFTS[query_id], 0]),
        )
        for query_id, gt in ground_truth.by_query.items()
    ]
    path = root / "predictions.json"
    write_stvg_predictions(path, predictions)
    return ws, path


__all__ = ["DATASET", "FRAMES", "SHIFTS", "build_shown_workspace"]
