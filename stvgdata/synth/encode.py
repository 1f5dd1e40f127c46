"""The synthetic videos' MP4 writer: the data layer's one (``stvgdata.video.encode``)."""

from stvg.stvgdata.video.encode import write_mp4

__all__ = ["write_mp4"]
