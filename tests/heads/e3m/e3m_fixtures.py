"""Constructed ``VideoRegions`` for the E3M tests: explicit unit vectors, so the right answer of
every step is known by construction."""

from __future__ import annotations

import numpy as np

from stvg.stvgdata.regions import VideoRegions

DIM = 4


def unit(*values: float) -> np.ndarray:
    """A unit vector (DIM,) from its leading components."""
    v = np.zeros(DIM)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def mixed(similarity: float, other_axis: int) -> np.ndarray:
    """A unit vector with cosine ``similarity`` to axis 0, the rest along ``other_axis``."""
    v = np.zeros(DIM)
    v[0], v[other_axis] = similarity, np.sqrt(1 - similarity**2)
    return v


def make_regions(
    instances: list[tuple[int, np.ndarray, np.ndarray]],
    frame_embeddings: np.ndarray,
    frame_idx: np.ndarray | None = None,
) -> VideoRegions:
    """Regions from (tubelet id, boxes (T, 4), embeddings (T, D)) per instance, one region per
    sampled frame each; frames are 0..T-1 unless ``frame_idx`` is given."""
    num_frames = len(frame_embeddings)
    frame_idx = np.arange(num_frames) if frame_idx is None else np.asarray(frame_idx)
    frames, boxes, tubelets, embeddings = [], [], [], []
    for tubelet, inst_boxes, inst_embeddings in instances:
        frames.append(frame_idx)
        boxes.append(inst_boxes)
        tubelets.append(np.full(num_frames, tubelet))
        embeddings.append(inst_embeddings)
    order = np.argsort(np.concatenate(frames), kind="stable")
    count = len(order)
    return VideoRegions(
        dataset="vidstg",
        video_id="v",
        encoder="test",
        frame_idx=frame_idx.astype(np.int32),
        frame_embeddings=np.asarray(frame_embeddings, np.float32),
        region_frame=np.concatenate(frames)[order].astype(np.int32),
        boxes=np.concatenate(boxes)[order].astype(np.float32),
        tubelet_id=np.concatenate(tubelets)[order].astype(np.int64),
        scores=np.ones(count, np.float32),
        labels=np.array(["thing"] * count, dtype=object),
        embeddings=np.concatenate(embeddings)[order].astype(np.float32),
    )


def still_boxes(num_frames: int, x: float) -> np.ndarray:
    """(T, 4) a 20x20 box at ``x`` on every frame."""
    return np.tile([x, 10.0, x + 20.0, 30.0], (num_frames, 1))
