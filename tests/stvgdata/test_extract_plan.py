"""Planning helpers: what differs between a cached fingerprint's rows and the planned ones,
and sizes and durations in human units."""

from __future__ import annotations

import json

from stvg.stvgdata.adapters import sampling
from stvg.stvgdata.extract import ExtractConfig
from stvg.stvgdata.extract_plan import PlannedRows, differences, human_bytes, human_seconds


def test_rows_before_the_config_column_differ_in_weights_size_fps_and_dtype():
    cached = {"weights": "IMAGENET1K_V2", "fps": 5.0, "shape": [7, 12, 2048], "dtype": "float16"}
    same = PlannedRows("IMAGENET1K_V2", 5.0, (7, 12, 2048), "float16", {})
    assert differences(cached, same) == []
    other = PlannedRows("random-init:0", 2.0, (4, 6, 2048), "float32", {})
    assert differences(cached, other) == [
        "weights IMAGENET1K_V2 -> random-init:0",
        "fps 5.0 -> 2.0",
        "size [7, 12, 2048] -> [4, 6, 2048]",
        "dtype float16 -> float32",
    ]
    assert differences(cached | {"weights": None}, same) == ["weights unrecorded -> IMAGENET1K_V2"]


def test_recorded_configs_differ_in_every_field_that_changed():
    record = {"size": [224, 384], "fps": 5.0, "dtype": "float16", "autocast": "none"}
    cached = {"config": json.dumps({**record, "weights_source": "a.pth"}), "shape": [7, 12, 2048]}
    planned = PlannedRows("x", 5.0, (7, 12, 2048), "float16", {**record, "size": [220, 380]})
    assert differences(cached, planned) == ["size [224, 384] -> [220, 380]"]  # same grid
    bf16 = PlannedRows("x", 5.0, (7, 12, 2048), "float16", {**record, "autocast": "bfloat16"})
    assert differences(cached, bf16) == ["autocast none -> bfloat16"]


def test_human_units():
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**4) == "3.0 TiB"
    assert human_seconds(42) == "42 s"
    assert human_seconds(5400) == "1 h 30 min"
    assert human_seconds(3 * 86400 + 7200) == "3 d 2 h"


def test_sampling_defaults_come_from_the_dataset_adapters(monkeypatch) -> None:
    monkeypatch.setitem(sampling.SAMPLING, "hcstvg-v1", sampling.Sampling(3.2, (448, 448)))
    config = ExtractConfig(dataset="hcstvg-v1")
    assert (config.target_fps, config.frame_size) == (3.2, (448, 448))
    assert ExtractConfig(dataset="hcstvg-v1", fps=5.0).target_fps == 5.0  # options win
    other = ExtractConfig(dataset="synthetic")
    assert (other.target_fps, other.frame_size) == (5.0, (224, 384))
