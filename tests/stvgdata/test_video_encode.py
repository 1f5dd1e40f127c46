"""One MP4 writer for the data layer and the pictures: frames stream in, odd sizes are padded to
the even sizes yuv420p needs, and the file decodes back frame for frame."""

from __future__ import annotations

import numpy as np

from stvg.stvgdata.video import probe
from stvg.stvgdata.video.encode import write_mp4


def test_odd_sized_frames_are_padded_and_every_frame_is_written(tmp_path):
    frames = [np.full((33, 47, 3), 40 * i, dtype=np.uint8) for i in range(5)]
    path = tmp_path / "nested" / "clip.mp4"
    assert write_mp4(path, iter(frames), fps=5.0) == 5
    info = probe(path)
    assert (info.width, info.height, info.num_frames) == (48, 34, 5)
