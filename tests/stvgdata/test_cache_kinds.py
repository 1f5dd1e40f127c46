"""The store's registries: every extractor names a layout kind, every kind has a writer/reader
pair and a verify check, ``schemas`` names kinds and never models, and a new extractor needs
one registry line only."""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pyarrow.parquet as pq
import pytest

from stvg.schemas import arrays
from stvg.stvgdata.cache import (
    STORAGE,
    ModelIdentity,
    ShardWriter,
    drop_items,
    feature_config,
    lineage,
    manifest_rows,
    verify_cache,
)
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.extractors import EXTRACTORS, Registration, kind_of
from stvg.stvgdata.query_features import FeatureRows
from stvg.stvgdata.sample_catalog import DATASET, install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import commit_random_shard, tiny_config


def test_every_kind_has_storage_and_every_extractor_a_kind() -> None:
    assert set(STORAGE) == set(arrays.KINDS)
    assert {entry.kind for entry in EXTRACTORS.values()} <= set(arrays.KINDS)
    assert kind_of("vit") == arrays.FRAME_TOKENS and kind_of("roberta") == arrays.TEXT_TOKENS


def test_schemas_name_kinds_never_models() -> None:
    source = inspect.getsource(arrays)
    assert not [model for model in EXTRACTORS if f'"{model}"' in source]


def test_a_new_extractor_is_one_registry_line(tmp_path, monkeypatch) -> None:
    entry = EXTRACTORS["resnet101"]
    line = Registration(entry.module, entry.builder, arrays.FRAME_MAP, 2048, "a second trunk")
    monkeypatch.setitem(EXTRACTORS, "trunk-b", line)
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, make_videos(tmp_path / "videos", {"a": 6}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = run_extraction(ws, tiny_config(models=("trunk-b",)))
    assert summary.models[0].done == 1
    rows = manifest_rows(ws, DATASET, "trunk-b").to_pylist()
    assert [(row["kind"], row["video_id"]) for row in rows] == [(arrays.FRAME_MAP, "a")]
    assert feature_config(ws, DATASET, "trunk-b")["size"] == [64, 64]
    assert verify_cache(ws, deep=True).ok


def test_rows_written_before_the_kind_column_get_the_model_kind(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, make_videos(tmp_path / "videos", {"a": 6}))
    commit_random_shard(ws, {"a": 6})
    for path in ws.table_dir("features").glob("part-*.parquet"):  # an older manifest part
        pq.write_table(pq.read_table(path).drop_columns(["kind", "config"]), path)
    rows = manifest_rows(ws, DATASET, "resnet101").to_pylist()
    assert verify_cache(ws).ok and rows[0].get("kind") is None
    with pytest.raises(BadInputError) as caught:
        feature_config(ws, DATASET, "resnet101")
    command = f"stvg extract --dataset {DATASET} --features resnet101 --replace-model-cache"
    assert str(caught.value) == (
        f"{ws.features_dir}: {DATASET}/resnet101: cached before the store recorded extractor "
        f"configs; re-extract with `{command}`"
    )
    with pytest.raises(BadInputError) as per_query:  # the per-query reader: the same line
        FeatureRows(ws, DATASET, ("resnet101",), []).frame_size(rows[0])
    assert str(per_query.value) == str(caught.value)
    assert drop_items(ws, DATASET, "resnet101", {"a"}) == 1  # older parts are rewritten too


def test_manifest_parts_written_before_later_columns_read_them_as_null(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    commit_random_shard(ws, {"a": 6})
    for path in ws.table_dir("features").glob("part-*.parquet"):  # an older manifest part
        pq.write_table(pq.read_table(path).drop_columns(["kind", "config", "weights"]), path)
    assert query(ws, "SELECT model, kind, config, weights FROM features").to_pylist() == [
        {"model": "resnet101", "kind": None, "config": None, "weights": None}
    ]
    assert lineage(ws, DATASET, ["resnet101", "roberta"]) == [
        {"model": "resnet101", "fingerprint": "fp-resnet", "weights": None}
    ]


def test_feature_config_reads_the_config_column(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, make_videos(tmp_path / "videos", {"a": 2}))
    with pytest.raises(BadInputError, match="no features cached"):
        feature_config(ws, DATASET, "vit")
    config = {"size": [224, 384], "fps": 5.0, "dtype": "float32", "tiny": False}
    identity = ModelIdentity("vit", "fp-vit", "model=vit", "IMAGENET1K", json.dumps(config))
    writer = ShardWriter(ws, "shards/vidstg/vit/a.h5", DATASET)
    handle = writer.begin_video(identity, "a", 5.0, np.arange(2), (3, 4))
    writer.write_rows(handle, 0, np.zeros((2, 3, 4), np.float32))
    writer.finish_video(handle)
    writer.commit()
    assert feature_config(ws, DATASET, "vit") == config
    assert manifest_rows(ws, DATASET, "vit")["kind"].to_pylist() == [arrays.FRAME_TOKENS]
