"""Cutting region crops and whole-frame thumbnails out of decoded frames, for an encoder.

A crop is the box enlarged by ``CONTEXT`` of its size on each side (a little surround helps an
image encoder read the object's outline), bilinearly resampled to (S, S) without keeping the
aspect ratio, as CLIP sees its input; parts outside the frame read as black.

With ``context_frames`` c > 1 (the motion-aware substitute) a region's input is the crop of the
SAME box on c consecutive sampled frames, stacked on channels (n, S, S, 3c): an object that
moves shifts inside the fixed window, so the stack shows the direction of motion. Frames before
the first or after the last one repeat the edge frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torchvision.ops import roi_align

CONTEXT = 0.1  # fraction of the box's width/height added on each side


def crop_regions(frame: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Crops (n, S, S, 3) uint8 of ``boxes`` (n, 4) pixel xyxy on ``frame`` (H, W, 3) uint8."""
    if len(boxes) == 0:
        return np.zeros((0, size, size, 3), np.uint8)
    boxes = np.asarray(boxes, np.float32)
    size_xy = boxes[:, 2:] - boxes[:, :2]  # (n, 2) width, height
    grown = boxes + CONTEXT * np.concatenate([-size_xy, size_xy], 1)
    image = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    rois = torch.cat([torch.zeros(len(grown), 1), torch.from_numpy(grown)], 1)  # (n, 5)
    crops = roi_align(image, rois, (size, size), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    return crops.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def whole_frame(frame: np.ndarray, size: int) -> np.ndarray:
    """The frame (H, W, 3) resampled to (1, S, S, 3): the crop of its full box, no context."""
    image = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    resized = torch.nn.functional.interpolate(
        image, size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    return resized.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def context_offsets(context_frames: int) -> np.ndarray:
    """Offsets (c,) of a window's frames from its centre, e.g. 3 -> [-1, 0, 1], 1 -> [0]."""
    return np.arange(context_frames) - (context_frames - 1) // 2


def window_positions(position: int, count: int, context_frames: int) -> np.ndarray:
    """Positions (c,) among ``count`` frames of the window centred on ``position``, clamped to
    [0, count) so the edge frame repeats at the start and end."""
    return np.clip(position + context_offsets(context_frames), 0, count - 1)


def stack_crops(frames: Sequence[np.ndarray], boxes: np.ndarray, size: int) -> np.ndarray:
    """Crops (n, S, S, 3c) of the same ``boxes`` (n, 4) on each of the c ``frames`` (H, W, 3),
    in time order on the channel axis."""
    return np.concatenate([crop_regions(frame, boxes, size) for frame in frames], axis=-1)


def stack_whole_frames(frames: Sequence[np.ndarray], size: int) -> np.ndarray:
    """The c ``frames`` resampled and stacked on channels: (1, S, S, 3c)."""
    return np.concatenate([whole_frame(frame, size) for frame in frames], axis=-1)


def sliding_windows(
    frames: Iterator[tuple[int, np.ndarray]], context_frames: int
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """(frame_idx, its window of c frames (H, W, 3)) for each (frame_idx, rgb) of a stream,
    keeping only the frames a window still needs, so decoding stays one streaming pass."""
    after = context_frames - 1 - (context_frames - 1) // 2  # frames needed past the centre
    kept: dict[int, tuple[int, np.ndarray]] = {}  # position -> (frame_idx, rgb)
    seen = emitted = 0

    def window(position: int, count: int) -> tuple[int, list[np.ndarray]]:
        positions = window_positions(position, count, context_frames)
        return kept[position][0], [kept[int(p)][1] for p in positions]

    for item in frames:
        kept[seen] = item
        seen += 1
        if emitted + after < seen:
            yield window(emitted, seen)
            emitted += 1
            first_needed = emitted + int(context_offsets(context_frames)[0])
            for stale in [p for p in kept if p < first_needed]:
                del kept[stale]
    while emitted < seen:
        yield window(emitted, seen)
        emitted += 1


def images_to_tensor(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, S, S, C) uint8 -> (n, C, S, S) float32 in [0, 1] on ``device`` (C = 3c)."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    return tensor.permute(0, 3, 1, 2).float() / 255.0
