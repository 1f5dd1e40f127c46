"""``FeatureRows``: per-query resolution of cached rows, the one-line errors for a missing or a
stale feature, and the frame size of a frame model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.cache import drop_items
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.loader import QUERY_COLUMNS, CachedQueryDataset
from stvg.stvgdata.query_features import FeatureRows, query_rows
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import (
    DATASET,
    TINY_SIZE,
    CatalogVideo,
    tiny_config,
    two_video_workspace,
    write_video,
)

MODELS = ("resnet101", "roberta")

pytestmark = pytest.mark.filterwarnings("ignore")  # random-init warnings of tiny networks


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> tuple[Workspace, list[CatalogVideo]]:
    ws, videos = two_video_workspace(tmp_path_factory.mktemp("query"))
    run_extraction(ws, tiny_config(models=MODELS))
    return ws, videos


def feature_rows(ws: Workspace) -> tuple[FeatureRows, list[dict]]:
    queries = query_rows(ws, DATASET, "train", QUERY_COLUMNS)
    return FeatureRows(ws, DATASET, MODELS, queries), queries


def test_each_query_resolves_to_its_videos_and_its_own_rows(extracted) -> None:
    ws, _ = extracted
    features, queries = feature_rows(ws)
    dataset = CachedQueryDataset(
        ws, DATASET, "train", features=FeatureSet(frame="resnet101", clip=None, text="roberta")
    )
    for i, query in enumerate(queries):
        item, positions = dataset[i], dataset.records[i].positions  # the clip's frame rows
        rows = features.for_query(query)
        assert rows["resnet101"]["video_id"] == query["video_id"]
        assert rows["roberta"]["query_id"] == query["query_id"]
        frames = features.read(rows["resnet101"], positions)
        np.testing.assert_array_equal(frames, item["frame_feats"])
        np.testing.assert_array_equal(features.read(rows["roberta"]), item["text_feats"])
        np.testing.assert_array_equal(features.token_ids(rows["roberta"]), item["token_ids"])


def test_a_missing_feature_is_a_one_line_error_naming_the_item(tmp_path: Path) -> None:
    ws, _ = two_video_workspace(tmp_path)
    run_extraction(ws, tiny_config(models=MODELS))
    drop_items(ws, DATASET, "resnet101", {"a"})
    features, queries = feature_rows(ws)
    query = next(q for q in queries if q["video_id"] == "a")
    assert features.for_query(query) is None
    with pytest.raises(BadInputError) as caught:
        features.require("resnet101", query)
    message = str(caught.value)
    assert "\n" not in message
    hint = "not cached; run `stvg extract --features resnet101`"
    assert message.endswith(f"{DATASET}/resnet101/a: {hint}")


def test_a_stale_feature_is_a_one_line_error_wherever_it_is_asked_for(tmp_path: Path) -> None:
    ws, videos = two_video_workspace(tmp_path)
    run_extraction(ws, tiny_config(models=MODELS))
    write_video(videos[0].path, 12, size=(32, 48))  # same name and length, other content
    features, queries = feature_rows(ws)
    query = next(q for q in queries if q["video_id"] == "a")
    for ask in (lambda: features.require("resnet101", query), lambda: features.for_query(query)):
        with pytest.raises(BadInputError, match=r"resnet101 a: stale features.*stvg extract") as e:
            ask()
        assert "\n" not in str(e.value)
    assert features.require("roberta", query)["query_id"] == query["query_id"]  # text unchanged


def test_frame_size_is_the_size_frames_were_resized_to(extracted) -> None:
    ws, _ = extracted
    features, queries = feature_rows(ws)
    assert features.frame_size(features.require("resnet101", queries[0])) == TINY_SIZE
    with pytest.raises(BadInputError, match="--features resnet101 --replace-model-cache`$"):
        features.frame_size({"dataset": DATASET, "model": "resnet101", "config": None})
