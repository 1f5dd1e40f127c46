"""The shared test helpers: random networks are built without their warning, and videos come
out in the splits they are listed under."""

from __future__ import annotations

import warnings

from stvg.stvgdata.extractors import ExtractorConfig
from tests.helpers import build_random, split_videos


def test_build_random_builds_without_the_random_init_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        extractor = build_random("roberta", ExtractorConfig(tiny=True, random_init=True))
    assert extractor.weights.startswith("random-init")


def test_split_videos_lists_each_id_in_its_split(tmp_path):
    videos = split_videos(tmp_path, {"train": ("a", "b"), "test": ("t",)}, frames=4)
    assert [(v.video_id, v.split, v.num_frames) for v in videos] == [
        ("a", "train", 4), ("b", "train", 4), ("t", "test", 4)
    ]  # fmt: skip
    assert all(v.path.is_file() for v in videos)
