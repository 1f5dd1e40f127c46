"""Small encoded videos and a catalog over them, for benchmarks and tests that need a feature
cache's inputs without the synthetic generator or a dataset importer: each video is an H.264 mp4
with a moving square, each query's tube the middle half of its video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pyarrow as pa

from stvg.schemas.tables import empty_table
from stvg.stvgdata.catalog import replace_dataset
from stvg.stvgdata.workspace import Workspace

DATASET = "vidstg"
VIDEO_FPS = 10
VIDEO_SIZE = (48, 64)  # (H, W) of the encoded test videos


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
    replace_dataset(
        ws,
        DATASET,
        {
            "videos": pa.Table.from_pylist(video_rows),
            "queries": pa.Table.from_pylist(query_rows),
            "boxes": pa.Table.from_pylist(box_rows),
            "failures": empty_table("failures"),
        },
    )


def make_videos(root: Path, lengths: dict[str, int]) -> list[CatalogVideo]:
    """Encoded videos named by id with the given frame counts."""
    return [CatalogVideo(vid, write_video(root / f"{vid}.mp4", n), n) for vid, n in lengths.items()]
