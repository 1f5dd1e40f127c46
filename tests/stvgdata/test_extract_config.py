"""``ExtractConfig`` refuses option combinations it cannot run, naming the config field."""

from __future__ import annotations

import pytest

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import ExtractConfig


@pytest.mark.parametrize(
    "settings, field, message",
    [
        ({"input_size": (16, 64)}, "input_size", "16x64: frames must be at least 32x32"),
        ({"models": ("resnet101", "nope")}, "models", "nope: unknown model"),
        ({"models": ("roberta",), "weights": {"resnet101": "r.pth"}}, "weights", "resnet101"),
    ],
)
def test_bad_combinations_name_the_field(settings, field, message) -> None:
    with pytest.raises(BadInputError) as caught:
        ExtractConfig(dataset="vidstg", **settings)
    assert caught.value.field == field and message in str(caught.value)


def test_a_sound_config_builds() -> None:
    config = ExtractConfig(dataset="vidstg", input_size=(32, 64), weights={"roberta": "r"})
    assert config.frame_size == (32, 64)
