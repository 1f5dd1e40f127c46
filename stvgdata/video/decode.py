"""Streaming video decoding with PyAV and the frame-sampling rule shared by every extractor.

Frame indices are absolute and count decoded frames in presentation order from 0, the same
numbering the annotations use (VidOR / HC-STVG frame ids). Decoding streams: only the frames
asked for are converted to RGB, one at a time, so memory stays flat in the video's length.
No torch here: the catalog and import commands must not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

RESIZE_INTERPOLATION = "BILINEAR"
"""swscale's bilinear filter: its footprint grows with the downscale factor, so it antialiases."""

_FLOOR_EPS = 1e-9  # keeps f * target / src from landing at 0.999... below an exact integer


class VideoDecodeError(Exception):
    """One video that cannot be used (missing, empty, truncated, unreadable); ``str()`` is the
    one-line reason recorded in the ``failures`` table while the batch carries on."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream."""

    path: Path
    fps: float
    num_frames: int
    width: int
    height: int
    codec: str


def _open(path: Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every way it can fail into a VideoDecodeError."""
    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(path, "missing video file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "zero-length video file (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as err:
        raise VideoDecodeError(path, f"unreadable container or codec: {err}") from err
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(path, "no video stream in the file")
    return container


def _count_packets(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Frame count by demuxing (no decoding) for containers whose header has none (mkv, webm)."""
    return sum(1 for packet in container.demux(stream) if packet.size > 0)


def probe(path: Path) -> VideoInfo:
    """Read fps, frame count, size and codec; raises VideoDecodeError for an unusable file."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        context = stream.codec_context
        if context is None or context.codec is None or not context.is_decoder:
            raise VideoDecodeError(path, "unreadable codec: no decoder")
        rate = stream.average_rate or stream.guessed_rate
        if not rate or float(rate) <= 0:
            raise VideoDecodeError(path, "unknown frame rate")
        num_frames = stream.frames or _count_packets(container, stream)
        if num_frames <= 0:
            raise VideoDecodeError(path, "zero-length video: no frames")
        return VideoInfo(
            path=path,
            fps=float(rate),
            num_frames=int(num_frames),
            width=int(context.width),
            height=int(context.height),
            codec=context.name,
        )
    except av.FFmpegError as err:
        raise VideoDecodeError(path, f"unreadable video: {err}") from err
    finally:
        container.close()


def sample_frame_indices(
    num_frames: int, src_fps: float, target_fps: float, start: int = 0, end: int | None = None
) -> np.ndarray:
    """Absolute indices (int64, increasing) of the frames kept when sampling [start, end) at
    ``target_fps``: TubeDETR's rule, keep frame f when floor(f * target_fps / src_fps) increases
    (``start`` is always kept). 30 -> 5 fps keeps 0, 6, 12, ...; a target at or above the
    source rate keeps every frame."""
    if src_fps <= 0 or target_fps <= 0:
        raise ValueError(f"fps must be positive, got src_fps={src_fps}, target_fps={target_fps}")
    end = num_frames if end is None else min(end, num_frames)
    frame_idx = np.arange(start, end, dtype=np.int64)
    if frame_idx.size == 0:
        return frame_idx
    bins = np.floor(frame_idx * target_fps / src_fps + _FLOOR_EPS).astype(np.int64)
    keep = np.concatenate(([True], bins[1:] > bins[:-1]))
    return frame_idx[keep]


def iter_frames(
    path: Path, frame_idx: np.ndarray, size: tuple[int, int]
) -> Iterator[tuple[int, np.ndarray]]:
    """Decode ``path`` once, front to back, yielding ``(frame_idx, rgb)`` for each requested
    absolute index, ``rgb`` uint8 (H, W, 3) resized (no crop) to ``size = (H, W)``.

    Only the requested frames are converted, one at a time (memory flat in video length).
    Raises VideoDecodeError when the file cannot be decoded or ends before the last requested
    index (truncated).
    """
    path = Path(path)
    wanted = np.asarray(frame_idx, dtype=np.int64)
    if wanted.size == 0:
        return
    if np.any(np.diff(wanted) <= 0) or wanted[0] < 0:
        raise ValueError("frame_idx must be non-negative and strictly increasing")
    height, width = size
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_pos, decoded = 0, 0
        for frame in container.decode(stream):
            if decoded == wanted[next_pos]:
                rgb = frame.to_ndarray(
                    width=width, height=height, format="rgb24", interpolation=RESIZE_INTERPOLATION
                )
                yield decoded, rgb
                next_pos += 1
                if next_pos == wanted.size:
                    return
            decoded += 1
    except av.FFmpegError as err:
        raise VideoDecodeError(path, f"decoding failed at frame {decoded}: {err}") from err
    finally:
        container.close()
    raise VideoDecodeError(
        path,
        f"truncated video: decoded {decoded} frames, frame {int(wanted[next_pos])} was requested",
    )
