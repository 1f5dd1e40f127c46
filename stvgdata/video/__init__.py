"""Video decoding: probing, frame sampling at a target fps and streaming decode (PyAV)."""

from stvg.stvgdata.video.decode import (
    VideoDecodeError,
    VideoInfo,
    iter_frames,
    probe,
    sample_frame_indices,
)

__all__ = ["VideoDecodeError", "VideoInfo", "iter_frames", "probe", "sample_frame_indices"]
