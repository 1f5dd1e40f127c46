"""Small inputs for the feature-cache tests beyond ``stvgdata.sample_catalog``: faulty videos,
the tiny extraction configuration, a shard committed without a model, and damaged bytes."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from stvg.stvgdata.cache import ModelIdentity, ShardWriter, StorageConfig, WorkSplit
from stvg.stvgdata.cache.plan import new_shard_name
from stvg.stvgdata.extract import ExtractConfig
from stvg.stvgdata.sample_catalog import (
    DATASET,
    VIDEO_FPS,
    CatalogVideo,
    install_catalog,
    make_videos,
    write_video,
)
from stvg.stvgdata.workspace import Workspace

TINY_SIZE = (64, 64)  # (H, W) frames are resized to: a 2x2 feature grid
TINY_CLIP = 4  # SlowFast clip length in sampled frames for the tests
# `stvg extract` options of the tiny test configuration (the CLI twin of ``tiny_config``)
TINY_EXTRACT_ARGS = (
    "--dataset", DATASET, "--tiny", "--random-init", "--fps", str(VIDEO_FPS), "--size", "64x64",
    "--clip-frames", str(TINY_CLIP),
)  # fmt: skip


def make_faulty_videos(root: Path) -> dict[str, CatalogVideo]:
    """One video per fault, keyed by fault: each must become a failures row."""
    root.mkdir(parents=True, exist_ok=True)
    whole = write_video(root / "whole.mp4", 40)
    truncated = root / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size * 4 // 5])  # dies mid-way
    empty = root / "empty.mp4"
    empty.write_bytes(b"")
    no_decoder = root / "no_decoder.mp4"  # a codec tag no decoder knows
    no_decoder.write_bytes(write_video(root / "x.mp4", 20).read_bytes().replace(b"avc1", b"zzzz"))
    short = write_video(root / "short.mp4", TINY_CLIP - 1)
    return {
        "truncated": CatalogVideo("truncated", truncated, 40),
        "zero-length": CatalogVideo("empty", empty, 40),
        "missing": CatalogVideo("missing", root / "missing.mp4", 40),
        "unreadable codec": CatalogVideo("no_decoder", no_decoder, 20),
        "too short": CatalogVideo("short", short, TINY_CLIP - 1),
    }


def tiny_config(storage_max_items: int | None = None, **overrides: object) -> ExtractConfig:
    """Tiny networks on 64x64 frames sampled at the videos' own 10 fps (every frame kept)."""
    if storage_max_items is not None:
        overrides["storage"] = StorageConfig(max_items=storage_max_items)
    values = {
        "dataset": DATASET,
        "fps": float(VIDEO_FPS),
        "input_size": TINY_SIZE,
        "clip_frames": TINY_CLIP,
        "batch_size": 8,
        "tiny": True,
        "random_init": True,
    }
    return ExtractConfig(**{**values, **overrides})


RESNET = ModelIdentity("resnet101", "fp-resnet", "model=resnet101; weights=test")
ROBERTA = ModelIdentity("roberta", "fp-roberta", "model=roberta; weights=test")


def commit_random_shard(
    ws: Workspace,
    videos: dict[str, int],
    storage: StorageConfig | None = None,
    name: str | None = None,
) -> tuple[ShardWriter, dict[str, np.ndarray]]:
    """Commit one resnet101 shard with a random (T, 2, 3, 4) array per video (no model)."""
    name = name or new_shard_name(DATASET, "resnet101", WorkSplit())
    writer = ShardWriter(ws, name, DATASET, storage or StorageConfig())
    arrays = {}
    for video_id, frames in videos.items():
        frame_idx = np.arange(frames) * 6
        rows = np.random.default_rng(frames).normal(size=(frames, 2, 3, 4)).astype(np.float32)
        handle = writer.begin_video(RESNET, video_id, 5.0, frame_idx, (2, 3, 4))
        writer.write_rows(handle, 0, rows[:3])
        writer.write_rows(handle, 3, rows[3:])
        writer.finish_video(handle)
        arrays[video_id] = rows
    writer.commit()
    return writer, arrays


def two_video_workspace(root: Path) -> tuple[Workspace, list[CatalogVideo]]:
    """A workspace under ``root`` whose catalog holds videos a (12 frames) and b (8), one
    query each, nothing extracted yet."""
    ws = Workspace(root / "ws")
    videos = make_videos(root / "videos", {"a": 12, "b": 8})
    install_catalog(ws, videos)
    return ws, videos


def flip_stored_bytes(ws: Workspace, row: dict) -> None:
    """Overwrite bytes of ``row``'s first row, stored in its array's first chunk, behind
    HDF5's back (the chunk's checksum no longer matches)."""
    path = ws.features_dir / row["shard"]
    with h5py.File(path, "r") as handle:
        data = handle[row["array_path"]]
        row_bytes = data.dtype.itemsize * int(np.prod(data.shape[1:]))
        offset = data.id.get_chunk_info(0).byte_offset + row["row_start"] * row_bytes
    with open(path, "r+b") as raw:
        raw.seek(offset + 8)
        data = raw.read(8)
        raw.seek(offset + 8)
        raw.write(bytes(b ^ 0xFF for b in data))
