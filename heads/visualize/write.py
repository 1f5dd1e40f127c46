"""Write a query scene as a picture chosen by the output's extension: ``.png`` (a contact sheet
of at most ``max_frames`` frames), ``.gif`` (at most ``max_frames`` frames, animated) or
``.mp4`` (every shown frame, H.264 through ``stvgdata.video.encode`` at the rate the frames
were sampled)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from stvg.heads.visualize.draw import annotate_frame, contact_sheet, with_title
from stvg.heads.visualize.scene import QueryScene
from stvg.stvgdata.atomic import atomic_output
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.video import iter_frames
from stvg.stvgdata.video.encode import write_mp4

SUFFIXES = (".png", ".gif", ".mp4")


def check_output(out: Path, suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """``out`` when its extension is one of ``suffixes`` and its folder can be written; else a
    one-line error (before any work is done)."""
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise BadInputError(out, None, f"output must end in {', '.join(suffixes)}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise BadInputError(out, None, f"cannot write here ({folder} is not a writable folder)")
    return out


def _rows(count: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` of ``count`` rows, spread evenly."""
    return np.unique(np.linspace(0, count - 1, max(1, min(max_frames, count))).round().astype(int))


def annotated_frames(scene: QueryScene, rows: np.ndarray) -> list[Image.Image]:
    """The scene's frames ``rows``, decoded from its video and annotated."""
    wanted = scene.frame_idx[rows]
    width, height = scene.size
    decoded = iter_frames(scene.video_path, wanted, (height, width))
    pairs = zip(rows, decoded, strict=True)
    return [annotate_frame(scene, int(row), rgb) for row, (_, rgb) in pairs]


def write_scene(scene: QueryScene, out: Path, max_frames: int = 16) -> Path:
    """Write ``scene`` to ``out`` (kind by extension, see the module docstring)."""
    out = check_output(out)
    kind = out.suffix.lower()
    count = len(scene.frame_idx)
    rows = np.arange(count) if kind == ".mp4" else _rows(count, max_frames)
    frames = annotated_frames(scene, rows)
    with atomic_output(out) as tmp:
        if kind == ".png":
            with_title(scene, contact_sheet(frames)).save(tmp, format="PNG")
            return out
        pictures = [with_title(scene, frame) for frame in frames]
        if kind == ".gif":
            duration = round(1000 / scene.shown_fps)
            rest = pictures[1:]
            pictures[0].save(
                tmp, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0
            )
        else:
            write_mp4(tmp, (np.asarray(picture) for picture in pictures), scene.shown_fps)
    return out
