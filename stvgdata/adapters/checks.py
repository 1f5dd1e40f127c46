"""Checks every adapter applies to what it converted: tubes inside the video, boxes with
positive size inside the frame. Each failure names the file and record it came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stvg.stvgdata.errors import BadInputError

# Annotators' boxes touch the frame border with sub-pixel rounding (x + w = width + 0.5);
# anything further out than this is an annotation error.
EDGE_TOLERANCE_PX = 1.0


def check_range(
    start: int, end: int, num_frames: int, file: Path, record: str, what: str = "tube"
) -> None:
    """``[start, end)`` must be non-empty and lie within the video's ``num_frames`` frames."""
    if end <= start:
        raise BadInputError(file, record, f"{what} end {end} is not after its start {start}")
    if start < 0 or end > num_frames:
        raise BadInputError(
            file,
            record,
            f"{what} [{start}, {end}) reaches beyond the video's frames [0, {num_frames})",
        )


def check_boxes(
    frame_idx: np.ndarray,
    xyxy: np.ndarray,
    width: int,
    height: int,
    num_frames: int,
    file: Path,
    record: str,
    target_ids: np.ndarray | None = None,
) -> None:
    """Boxes ``xyxy (N, 4)`` in pixels at absolute ``frame_idx (N,)`` must fit the video.

    ``target_ids (N,)``, when the boxes of several targets are checked at once, names the
    target of a bad box in the error.
    """
    beyond = (frame_idx < 0) | (frame_idx >= num_frames)
    if beyond.any():
        frame = int(frame_idx[np.argmax(beyond)])
        raise BadInputError(
            file, record, f"frame index {frame} is beyond the video's frames [0, {num_frames})"
        )
    x1, y1, x2, y2 = xyxy.T
    empty = (x2 <= x1) | (y2 <= y1)
    outside = (
        (x1 < -EDGE_TOLERANCE_PX)
        | (y1 < -EDGE_TOLERANCE_PX)
        | (x2 > width + EDGE_TOLERANCE_PX)
        | (y2 > height + EDGE_TOLERANCE_PX)
    )
    problems = (
        (empty, "has x2 <= x1 or y2 <= y1"),
        (outside, f"lies outside the {width}x{height} frame"),
    )
    for bad, reason in problems:
        if bad.any():
            i = int(np.argmax(bad))
            box = ", ".join(f"{v:g}" for v in xyxy[i])
            target = "" if target_ids is None else f", target {int(target_ids[i])}"
            where = f"{record}{target}, frame {int(frame_idx[i])}"
            raise BadInputError(file, where, f"box ({box}) {reason}")
