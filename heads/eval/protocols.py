"""The two evaluation protocols in use for STVG (which frames of a query's clip are scored), and
which box stands for each scored frame. See docs/metrics.md for the sources.

- ``sampled-5fps`` (TubeDETR): the clip sampled at 5 fps, at most 200 frames;
- ``all-frames`` (STCAT, CG-STVG, TA-STVG, the official HC-STVG evaluator): every frame of the
  clip.

Under both, a scored frame without a predicted box takes the box of the nearest predicted frame
(heads predict on their own sampled frames; TubeDETR files already hold a box on every frame
``sampled-5fps`` scores, so nothing is filled there). Ground truth is never filled: a scored
frame without a GT box does not count as a GT frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stvg.stvgdata.errors import BadInputError


class EvalProtocol(Protocol):
    """A protocol: its name in every report, whose evaluator it follows, the frames it scores."""

    name: str
    reference: str

    def eval_frames(self, clip_start: int, clip_end: int, src_fps: float) -> np.ndarray:
        """Absolute frame indices (K,) int64, increasing, scored for a clip [start, end)."""
        ...


def boxes_on_frames(
    frame_idx: np.ndarray, src_frame_idx: np.ndarray, src_boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (K, 4) of ``src`` on exactly ``frame_idx`` (K,); rows without one are zero, and
    the mask (K,) says which exist. ``src_frame_idx`` (M,) must be increasing."""
    frame_idx = np.asarray(frame_idx, dtype=np.int64)
    boxes = np.zeros((len(frame_idx), 4), dtype=np.float64)
    if len(src_frame_idx) == 0:
        return boxes, np.zeros(len(frame_idx), dtype=bool)
    pos = np.clip(np.searchsorted(src_frame_idx, frame_idx), 0, len(src_frame_idx) - 1)
    found = src_frame_idx[pos] == frame_idx
    boxes[found] = src_boxes[pos[found]]
    return boxes, found


def boxes_from_nearest(
    frame_idx: np.ndarray, src_frame_idx: np.ndarray, src_boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (K, 4) of the nearest frame of ``src`` (the earlier one on a tie) for every frame
    of ``frame_idx`` (K,); all exist unless ``src`` is empty."""
    if len(src_frame_idx) == 0:
        return boxes_on_frames(frame_idx, src_frame_idx, src_boxes)
    frame_idx = np.asarray(frame_idx, dtype=np.int64)
    after = np.clip(np.searchsorted(src_frame_idx, frame_idx), 1, len(src_frame_idx) - 1)
    before = after - 1
    if len(src_frame_idx) == 1:
        nearest = np.zeros(len(frame_idx), dtype=np.int64)
    else:
        take_after = (src_frame_idx[after] - frame_idx) < (frame_idx - src_frame_idx[before])
        nearest = np.where(take_after, after, before)
    return src_boxes[nearest], np.ones(len(frame_idx), dtype=bool)


def sample_frames(
    clip_start: int, clip_end: int, src_fps: float, target_fps: float, max_frames: int
) -> np.ndarray:
    """TubeDETR's frame sampling of [clip_start, clip_end): keep the first frame and every frame
    where floor(f * (target_fps / src_fps)) increases, then at most ``max_frames`` taken
    uniformly (index j * n // max_frames). Returns absolute frame indices (K,) int64."""
    frames = np.arange(clip_start, max(clip_start + 1, clip_end), dtype=np.int64)
    rate = min(1.0, target_fps / src_fps)
    bucket = np.floor(frames * rate)  # the same float product as the reference, bit for bit
    keep = np.concatenate([[True], bucket[1:] > bucket[:-1]])
    frames = frames[keep]
    if len(frames) > max_frames:
        frames = frames[np.arange(max_frames) * len(frames) // max_frames]
    return frames


@dataclass(frozen=True)
class SampledProtocol:
    """TubeDETR's protocol. Like the reference, the last frame of the clip is never sampled
    (TubeDETR treats VidSTG's inclusive used_segment end as exclusive and samples HC-STVG over
    range(0, frame_count - 1)), so the scored frames are exactly the frames TubeDETR predicts."""

    name: str = "sampled-5fps"
    reference: str = "TubeDETR"
    target_fps: float = 5.0
    max_frames: int = 200

    def eval_frames(self, clip_start: int, clip_end: int, src_fps: float) -> np.ndarray:
        return sample_frames(clip_start, clip_end - 1, src_fps, self.target_fps, self.max_frames)


@dataclass(frozen=True)
class AllFramesProtocol:
    """Every frame of the clip, as STCAT and the official HC-STVG evaluator score."""

    name: str = "all-frames"
    reference: str = "STCAT / HC-STVG official"

    def eval_frames(self, clip_start: int, clip_end: int, src_fps: float) -> np.ndarray:
        return np.arange(clip_start, clip_end, dtype=np.int64)


PROTOCOLS: dict[str, EvalProtocol] = {
    protocol.name: protocol for protocol in (SampledProtocol(), AllFramesProtocol())
}
DEFAULT_PROTOCOL = "all-frames"


def get_protocol(name: str) -> EvalProtocol:
    """The registered protocol called ``name``; a user's unknown name is a BadInputError."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(PROTOCOLS)
        raise BadInputError.for_field(
            "protocol", name, f"unknown protocol; known: {known}"
        ) from None
