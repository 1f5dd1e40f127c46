"""Region and vision-language embeddings: encoders and the extraction of region sets into the
feature store. The reader API the zero-shot and weakly supervised heads call is re-exported
here (it lives with the store's region-set kind, ``stvgdata.cache.regions``)."""

from stvg.stvgdata.cache.regions import (
    BoxRegions,
    VideoRegions,
    dataset_encoder,
    read_query_embeddings,
    read_video_regions,
)
from stvg.stvgdata.regions.base import TextEncoder, VisionLanguageEncoder

__all__ = [
    "BoxRegions",
    "TextEncoder",
    "VideoRegions",
    "VisionLanguageEncoder",
    "dataset_encoder",
    "read_query_embeddings",
    "read_video_regions",
]
