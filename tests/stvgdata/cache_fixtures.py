"""Small inputs for the feature-cache tests: tiny encoded videos and a catalog over them,
built here so these tests depend on neither the synthetic generator nor the importers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pyarrow as pa

from stvgdata.cache import ModelIdentity, ShardWriter, StorageConfig, WorkSplit
from stvgdata.cache.plan import new_shard_name
from stvgdata.catalog import replace_dataset
from stvgdata.extract import ExtractConfig
from stvgdata.workspace import Workspace

DATASET = "vidstg"
VIDEO_FPS = 10
VIDEO_SIZE = (48, 64)  # (H, W) of the encoded test videos
TINY_SIZE = (64, 64)  # (H, W) frames are resized to: a 2x2 feature grid
TINY_CLIP = 4  # SlowFast clip length in sampled frames for the tests
# `stvg extract` options of the tiny test configuration (the CLI twin of ``tiny_config``)
TINY_EXTRACT_ARGS = (
    "--dataset", DATASET, "--tiny", "--fps", str(VIDEO_FPS), "--size", "64x64",
    "--clip-frames", str(TINY_CLIP),
)  # fmt: skip


def write_video(
    path: Path, num_frames: int, fps: int = VIDEO_FPS, size: tuple[int, int] = VIDEO_SIZE
) -> Path:
    """An H.264 mp4 of ``num_frames`` frames of ``size`` (H, W) with a moving square; its
    index comes first (faststart), so a cut copy still opens and fails mid-stream."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = size
    with av.open(str(path), mode="w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(num_frames):
            rgb = np.full((height, width, 3), 40, np.uint8)
            x = (3 * t) % (width - 8)
            rgb[height // 5 : height // 2, x : x + 8] = (250, 80, 30)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@dataclass(frozen=True)
class CatalogVideo:
    video_id: str
    path: Path
    num_frames: int  # as the catalog states it
    split: str = "train"


def install_catalog(
    ws: Workspace,
    videos: list[CatalogVideo],
    queries_per_video: int = 1,
    segment_frames: int | None = None,
    sentences: dict[str, str] | None = None,
) -> None:
    """Catalog tables for ``videos``: each query's tube is the middle half of its video, with a
    box on every tube frame; the segment is the whole video except its first frame, or, with
    ``segment_frames``, that many frames at an offset growing with the query number.
    ``sentences`` replaces the sentence of some query ids."""
    height, width = VIDEO_SIZE
    video_rows, query_rows, box_rows = [], [], []
    for video in videos:
        n = video.num_frames
        video_rows.append(
            {
                "dataset": DATASET,
                "video_id": video.video_id,
                "split": video.split,
                "path": str(video.path),
                "width": width,
                "height": height,
                "fps": float(VIDEO_FPS),
                "num_frames": n,
            }
        )
        for q in range(queries_per_video):
            query_id = f"{video.video_id}-q{q}"
            start, end = n // 4, max(n // 4 + 1, 3 * n // 4)
            segment = (1, n)
            if segment_frames is not None:
                offset = q * (n - segment_frames) // max(1, queries_per_video - 1)
                segment = (offset, offset + segment_frames)
                start, end = offset + segment_frames // 4, offset + 3 * segment_frames // 4
            query_rows.append(
                {
                    "dataset": DATASET,
                    "query_id": query_id,
                    "video_id": video.video_id,
                    "split": video.split,
                    "sentence": (sentences or {}).get(
                        query_id, f"the red square moves {q} " * (q + 1)
                    ),
                    "sentence_type": "declarative" if q % 2 == 0 else "interrogative",
                    "tube_start_frame": start,
                    "tube_end_frame": end,
                    "segment_start_frame": segment[0],
                    "segment_end_frame": segment[1],
                    "target_id": 0,
                    "target_category": "square",
                    "source_query_id": None,
                }
            )
            for f in range(start, end):
                box_rows.append(
                    {
                        "dataset": DATASET,
                        "query_id": query_id,
                        "frame_idx": f,
                        "x1": 8.0,
                        "y1": 6.0,
                        "x2": 8.0 + 2 * f % 40 + 4,
                        "y2": 30.0,
                    }
                )
    failures = pa.table(
        {
            name: pa.array([], type=t)
            for name, t in [
                ("stage", pa.string()),
                ("dataset", pa.string()),
                ("item", pa.string()),
                ("error", pa.string()),
                ("file", pa.string()),
                ("model", pa.string()),
                ("created_at", pa.timestamp("us", tz="UTC")),
            ]
        }
    )
    replace_dataset(
        ws,
        DATASET,
        {
            "videos": pa.Table.from_pylist(video_rows),
            "queries": pa.Table.from_pylist(query_rows),
            "boxes": pa.Table.from_pylist(box_rows),
            "failures": failures,
        },
    )


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


def make_videos(root: Path, lengths: dict[str, int]) -> list[CatalogVideo]:
    """Encoded videos named by id with the given frame counts."""
    return [CatalogVideo(vid, write_video(root / f"{vid}.mp4", n), n) for vid, n in lengths.items()]


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
