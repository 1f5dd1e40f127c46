"""Streaming H.264 (or MPEG-4) encoding with PyAV: frames go in one at a time, so memory does
not grow with the video's length. Synthetic datasets and ``stvg show`` both write through it."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def _even(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) padded with black to even H and W: yuv420p halves both for chroma."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)))


def write_mp4(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: float,
    codec: str = "libx264",
    crf: int = 18,
) -> int:
    """Encode (H, W, 3) uint8 RGB frames to ``path``; returns the number of frames written.

    yuv420p keeps the files playable everywhere (odd sizes are padded to even). One encoder
    thread and no macroblock-tree rate control keep the output identical from run to run:
    x264's mbtree code gives different bytes for the same frames now and then, even
    single-threaded.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.pix_fmt = "yuv420p"
        stream.thread_count = 1
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "mbtree=0"}
        for frame in frames:
            frame = _even(frame)
            if written == 0:
                stream.height, stream.width = frame.shape[:2]
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            container.mux(stream.encode(video_frame))
            written += 1
        container.mux(stream.encode(None))
    return written
