"""Helpers the test packages share: building random-init networks without their (deliberately
loud) warning, and tiny encoded videos listed by split for a sample catalog."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stvg.stvgdata.extractors import ExtractorConfig, RandomInitWarning, build_extractor
from stvg.stvgdata.sample_catalog import CatalogVideo, write_video


@contextmanager
def quiet_random_init() -> Iterator[None]:
    """Silence ``RandomInitWarning`` inside the block (tests build random networks on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomInitWarning)
        yield


def build_random(model: str, config: ExtractorConfig):  # noqa: ANN201 - any extractor
    """``build_extractor`` without the random-init warning."""
    with quiet_random_init():
        return build_extractor(model, config)


def split_videos(root: Path, videos: dict[str, tuple[str, ...]], frames: int) -> list[CatalogVideo]:
    """One encoded video of ``frames`` frames per id under ``root/videos``, in the split it is
    listed under (split -> ids)."""
    return [
        CatalogVideo(vid, write_video(root / "videos" / f"{vid}.mp4", frames), frames, split)
        for split, ids in videos.items()
        for vid in ids
    ]
