"""Settings of any method's configuration dataclass from text: ``--set KEY=VALUE`` values and
the common named options, with types coerced from the field annotations and one-line errors
for unknown keys and bad values.

A configuration may nest dataclasses (CSDVL's ``Preset`` holds ``model`` and ``train``): a key
names a field of the top level or of one nested dataclass (``d_model``), or spells the path
(``model.d_model``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from stvg.stvgdata.errors import BadInputError

Config = TypeVar("Config")
SET_OPTION = "--set"
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_NONE = ("none", "null")


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` from repeated ``--set`` -> {key: value} (the last one wins)."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError(SET_OPTION, item, "expected KEY=VALUE")
        overrides[key.strip()] = value.strip()
    return overrides


def _coerce(kind: Any, key: str, text: str) -> Any:
    """``text`` as a value of the annotation ``kind`` (int, float, bool, str, or X | None)."""
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if type(None) in options and text.lower() in _NONE:
        return None
    for option in (o for o in options if o is not type(None)):
        if option is bool:
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
        elif option in (int, float, str):
            try:
                return option(text)
            except ValueError:
                continue
    names = " or ".join(getattr(o, "__name__", str(o)) for o in options)
    raise BadInputError(SET_OPTION, f"{key}={text}", f"expected {names}")


def _nested(config: Any) -> list[str]:
    """Names of the fields of ``config`` that hold dataclasses themselves."""
    return [
        f.name
        for f in dataclasses.fields(config)
        if dataclasses.is_dataclass(getattr(config, f.name))
    ]


def _path(config: Any, key: str) -> tuple[str, ...] | None:
    """Where ``key`` lives in ``config``: (field,) or (nested, field); None when nowhere."""
    if "." in key:
        outer, _, inner = key.partition(".")
        if outer in _nested(config) and inner in _names(getattr(config, outer)):
            return (outer, inner)
        return None
    if key in _names(config) and key not in _nested(config):
        return (key,)
    found = [(outer, key) for outer in _nested(config) if key in _names(getattr(config, outer))]
    return found[0] if len(found) == 1 else None


def _names(config: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(config)]


def _settable(config: Any) -> list[str]:
    """Every key a user may set on ``config``."""
    plain = [name for name in _names(config) if name not in _nested(config)]
    inner = [name for outer in _nested(config) for name in _names(getattr(config, outer))]
    return plain + inner


def apply_overrides(config: Config, values: dict[str, Any]) -> Config:
    """A copy of the dataclass ``config`` with ``values`` (key -> value, typed or text) set;
    text is coerced to the field's type."""
    changes: dict[tuple[str, ...], Any] = {}
    for key, value in values.items():
        path = _path(config, key)
        if path is None:
            raise BadInputError(
                SET_OPTION,
                key,
                f"unknown setting of {type(config).__name__}; know {_settable(config)}",
            )
        owner = config if len(path) == 1 else getattr(config, path[0])
        if isinstance(value, str):
            value = _coerce(typing.get_type_hints(type(owner))[path[-1]], key, value)
        changes[path] = value
    inner = {
        outer: dataclasses.replace(
            getattr(config, outer),
            **{p[1]: v for p, v in changes.items() if p[0] == outer and len(p) == 2},
        )
        for outer in {p[0] for p in changes if len(p) == 2}
    }
    top = {p[0]: v for p, v in changes.items() if len(p) == 1}
    return dataclasses.replace(config, **top, **inner)


def configure(config: Config, common: dict[str, Any], overrides: dict[str, str]) -> Config:
    """``config`` with the common options the user gave (name -> value; None: not given; a
    setting the config lacks is ignored: E3M trains nothing, so it has no ``epochs``), then the
    ``--set`` values; a value the config rejects is a one-line error naming it."""
    given = {
        key: value
        for key, value in common.items()
        if value is not None and _path(config, key) is not None
    }
    try:
        return apply_overrides(apply_overrides(config, given), overrides)
    except ValueError as error:
        settings = ", ".join(f"{key}={value}" for key, value in (given | overrides).items())
        raise BadInputError("options", settings or type(config).__name__, str(error)) from None
