"""Settings from text: ``--set KEY=VALUE`` and the common options onto any method's config."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from stvg.heads.settings import apply_overrides, configure, parse_overrides
from stvg.stvgdata.errors import BadInputError


@dataclass(frozen=True)
class _Config:
    count: int = 1
    rate: float = 0.5
    flag: bool = False
    path: str | None = None


def test_overrides_coerce_to_the_field_types() -> None:
    config = apply_overrides(
        _Config(), parse_overrides(["count=3", "rate=1e-3", "flag=yes", "path=none"])
    )
    assert config == _Config(count=3, rate=1e-3, flag=True, path=None)
    assert apply_overrides(_Config(), {"path": "/x"}).path == "/x"
    with pytest.raises(BadInputError, match="expected bool"):
        apply_overrides(_Config(), {"flag": "maybe"})


@dataclass(frozen=True)
class _Inner:
    width: int = 8

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError("width must be >= 1")


@dataclass(frozen=True)
class _Outer:
    model: _Inner = field(default_factory=_Inner)
    train: _Config = field(default_factory=_Config)


def test_keys_reach_nested_configs_by_name_or_path() -> None:
    config = apply_overrides(_Outer(), {"width": "16", "train.count": "4"})
    assert config == _Outer(_Inner(16), _Config(count=4))


def test_common_options_the_config_lacks_are_refused_and_bad_values_are_one_line() -> None:
    assert configure(_Outer(), {"rate": 0.1, "flag": None}, {}).train.rate == 0.1
    with pytest.raises(BadInputError) as error:
        configure(_Outer(), {"rate": 0.1, "epochs": 3}, {}, method="e3m")
    assert (error.value.field, str(error.value)) == ("epochs", "epochs: 3: e3m has no such setting")
    with pytest.raises(BadInputError, match="width must be >= 1"):
        configure(_Outer(), {}, {"width": "0"})
    with pytest.raises(BadInputError, match="unknown setting of _Outer"):
        configure(_Outer(), {}, {"nope": "1"})


@dataclass(frozen=True)
class _Deep:
    outer: _Outer = field(default_factory=_Outer)


def test_keys_reach_any_depth_by_unique_name_or_path() -> None:
    config = apply_overrides(_Deep(), {"width": "16", "train.count": "4", "rate": 0.25})
    assert config == _Deep(_Outer(_Inner(16), _Config(count=4, rate=0.25)))


def test_setting_errors_name_the_settings_field_not_a_flag() -> None:
    for bad in (lambda: parse_overrides(["nokey"]), lambda: apply_overrides(_Config(), {"x": "1"})):
        with pytest.raises(BadInputError) as error:
            bad()
        assert error.value.field == "set" and not error.value.file.startswith("-")
