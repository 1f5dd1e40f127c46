"""Region and vision-language embeddings: encoders, the region cache and
its extraction. ``store`` is the reader API the zero-shot and weakly supervised heads call."""

from stvg.stvgdata.regions.base import TextEncoder, VisionLanguageEncoder
from stvg.stvgdata.regions.store import (
    VideoRegions,
    load_text_encoder,
    read_query_embeddings,
    read_video_regions,
)

__all__ = [
    "TextEncoder",
    "VideoRegions",
    "VisionLanguageEncoder",
    "load_text_encoder",
    "read_query_embeddings",
    "read_video_regions",
]
