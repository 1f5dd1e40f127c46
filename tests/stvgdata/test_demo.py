"""The data half of the demo: synth -> import -> extract, and a re-run that resumes."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from stvg.stvgdata.catalog import query
from stvg.stvgdata.demo import DemoDataConfig, demo_data_root, demo_synth_config, prepare_demo_data
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

DEMO = DemoDataConfig(random_init=True)  # the demo's defaults, as `make demo` asks for them


@pytest.mark.slow
def test_demo_data_is_generated_imported_and_cached_then_reused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    config = DemoDataConfig(
        videos=3, video_seconds=10.0, tube_seconds=2.0, input_size=(64, 96), random_init=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = prepare_demo_data(ws, config)
        second = prepare_demo_data(ws, config)

    assert first.synth is not None and demo_data_root(ws).is_dir()
    written = sum(split.queries for split in first.synth.splits.values())
    assert first.imported.counts["queries"] == written
    counts = query(ws, "SELECT model, count(*) AS n FROM features GROUP BY model").to_pylist()
    assert {row["model"]: row["n"] for row in counts} == {
        "resnet101": 3,
        "slowfast": 3,
        "roberta": written,
    }
    assert first.extracted.frames > 0 and not first.extracted.failures
    assert first.extracted.random_init  # the demo's tiny backbones, said under its table
    assert {model.weights for model in first.extracted.models} == {"random-init:0"}

    assert second.synth is None  # the generated data is reused, not rewritten
    assert second.extracted.frames == 0  # everything was already cached
    assert all(model.cached == model.owned for model in second.extracted.models)


def test_the_demo_sizes_are_valid_generator_settings() -> None:
    config = demo_synth_config(DEMO)
    assert (config.objects_per_video, config.twins, config.height, config.width) == (
        2,
        False,
        112,
        192,
    )
    assert DEMO.test_seed not in (None, DEMO.seed)  # held-out test split


def test_the_scene_line_says_the_demo_is_easier_than_the_benchmark() -> None:
    line = DEMO.describe()
    assert "2 objects (no look-alikes, size x2)" in line and "seed 1000" in line


def test_random_init_is_asked_for_never_assumed() -> None:
    with pytest.raises(BadInputError) as error:
        DemoDataConfig()  # tiny backbones without --random-init
    assert error.value.field == "random_init"
    assert not DemoDataConfig(tiny_backbones=False).random_init  # full size: the hubs' weights

