"""Settings of any method's configuration dataclass from text: ``--set KEY=VALUE`` values and
the common named options, with types coerced from the field annotations and one-line errors
for unknown keys and bad values.

A configuration may nest dataclasses (CSDVL's ``Preset`` holds ``model`` and ``train``, and
``train`` its ``features``): a key names a field at any depth (``d_model``; the one nearest the
top when names repeat), or spells the path (``model.d_model``, ``features.frame``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from stvg.stvgdata.errors import BadInputError

Config = TypeVar("Config")
SETTINGS = "set"  # the field errors about KEY=VALUE settings name (the CLI: its --set)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_NONE = ("none", "null")


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` from repeated ``--set`` -> {key: value} (the last one wins)."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError.for_field(SETTINGS, item, "expected KEY=VALUE")
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
    raise BadInputError.for_field(SETTINGS, f"{key}={text}", f"expected {names}")


def _leaves(config: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every field of ``config`` that is not a dataclass itself, at any depth."""
    paths = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            paths += _leaves(value, (*prefix, f.name))
        else:
            paths.append((*prefix, f.name))
    return paths


def _path(config: Any, key: str) -> tuple[str, ...] | None:
    """Where ``key`` (a field name or the dotted tail of a path) lives in ``config``: the one
    field it names nearest the top; None when nowhere (or when two at that depth match)."""
    tail = tuple(key.split("."))
    found = [path for path in _leaves(config) if path[-len(tail) :] == tail]
    nearest = [path for path in found if len(path) == min(map(len, found), default=0)]
    return nearest[0] if len(nearest) == 1 else None


def _settable(config: Any) -> list[str]:
    """Every key a user may set on ``config``."""
    return [path[-1] for path in _leaves(config)]


def _owner(config: Any, path: tuple[str, ...]) -> Any:
    for name in path[:-1]:
        config = getattr(config, name)
    return config


def _replace(config: Config, changes: dict[tuple[str, ...], Any]) -> Config:
    """A copy of ``config`` with each path set to its value (nested dataclasses copied too)."""
    top = {path[0]: value for path, value in changes.items() if len(path) == 1}
    for outer in {path[0] for path in changes if len(path) > 1}:
        inner = {path[1:]: v for path, v in changes.items() if len(path) > 1 and path[0] == outer}
        top[outer] = _replace(getattr(config, outer), inner)
    return dataclasses.replace(config, **top)


def apply_overrides(config: Config, values: dict[str, Any]) -> Config:
    """A copy of the dataclass ``config`` with ``values`` (key -> value, typed or text) set;
    text is coerced to the field's type."""
    changes: dict[tuple[str, ...], Any] = {}
    for key, value in values.items():
        path = _path(config, key)
        if path is None:
            raise BadInputError.for_field(
                SETTINGS,
                key,
                f"unknown setting of {type(config).__name__}; know {_settable(config)}",
            )
        if isinstance(value, str):
            owner = _owner(config, path)
            value = _coerce(typing.get_type_hints(type(owner))[path[-1]], key, value)
        changes[path] = value
    return _replace(config, changes)


def no_such_setting(key: str, value: Any, method: str) -> BadInputError:
    """The error for an option ``method`` has no setting for (a switch shows no value)."""
    record = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
    record = None if isinstance(value, bool) else record
    return BadInputError.for_field(key, record, f"{method} has no such setting")


def refuse_missing(config: Any, common: dict[str, Any], method: str) -> None:
    """One-line error for the first option given (not None) that ``config`` has no field for:
    an option that silently did nothing would mislead."""
    for key, value in common.items():
        if value is not None and _path(config, key) is None:
            raise no_such_setting(key, value, method)


def configure(
    config: Config, common: dict[str, Any], overrides: dict[str, str], method: str | None = None
) -> Config:
    """``config`` with the common options the user gave (name or dotted path -> value; None:
    not given), then the ``--set`` values. A common option the config lacks (E3M trains
    nothing, so it has no ``epochs``) and a value the config rejects are one-line errors naming
    the field and ``method`` (default: the config's type)."""
    given = {key: value for key, value in common.items() if value is not None}
    refuse_missing(config, given, method or type(config).__name__)
    try:
        return apply_overrides(apply_overrides(config, given), overrides)
    except ValueError as error:
        settings = ", ".join(f"{key}={value}" for key, value in (given | overrides).items())
        raise BadInputError("options", settings or type(config).__name__, str(error)) from None
