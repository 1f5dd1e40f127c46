"""``--method`` dispatch of ``stvg train`` and ``stvg ablate``: one registry entry per head
besides CSDVL (whose options are the commands' own flags).

A method gets the options common to all methods as ``MethodArgs``; its own settings come from
repeatable ``--set KEY=VALUE`` options mapped onto its config dataclass by ``apply_overrides``
(types coerced from the field annotations, one-line errors for unknown keys and bad values).
A method module imports ``MethodArgs`` for typing only (``if TYPE_CHECKING``) and calls
``args.apply_overrides(config)``, so it never imports this registry at load time.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import typer

from cli import cospal_cmds, e3m_cmds, stop_cmds
from stvgdata.errors import BadInputError
from stvgdata.workspace import Workspace

Config = TypeVar("Config")
SET_OPTION = "--set"
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_NONE = ("none", "null")


@dataclass(frozen=True)
class MethodArgs:
    """Options every method understands (None: the method's default)."""

    dataset: str
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    seeds: int = 1
    split: str | None = None  # evaluation split (None: test, else val)
    device: str = "cpu"
    num_workers: int = 0
    overrides: dict[str, str] = field(default_factory=dict)  # from --set KEY=VALUE
    as_json: bool = False

    def apply_overrides(self, config: Config) -> Config:
        """``config`` with this run's ``--set`` values (see ``apply_overrides``)."""
        return apply_overrides(config, self.overrides)

    def configure(self, config: Config) -> Config:
        """``config`` with the common training options the user gave (epochs, batch size,
        learning rate), then the ``--set`` values."""
        common = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}
        given = {key: value for key, value in common.items() if value is not None}
        return self.apply_overrides(dataclasses.replace(config, **given))

    def eval_split(self, ws: Workspace) -> str:
        """The split to score: the one given, else test (val when the dataset has no test)."""
        from heads.eval.evaluate import default_eval_split

        return self.split or default_eval_split(ws, self.dataset)


MethodCommand = Callable[[typer.Context, MethodArgs], None]


@dataclass(frozen=True)
class MethodCommands:
    """What a method provides: a ``stvg train`` and/or a ``stvg ablate`` implementation."""

    train: MethodCommand | None = None
    ablate: MethodCommand | None = None


METHODS: dict[str, MethodCommands] = {
    "stop": MethodCommands(train=stop_cmds.train_stop, ablate=stop_cmds.ablate_stop),
    "e3m": MethodCommands(ablate=e3m_cmds.ablate_e3m),  # training-free: `stvg eval --method e3m`
    "cospal": MethodCommands(train=cospal_cmds.train_cospal, ablate=cospal_cmds.ablate_cospal),
}


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


def apply_overrides(config: Config, overrides: dict[str, str]) -> Config:
    """A copy of the dataclass ``config`` with ``overrides`` (field name -> text) applied."""
    hints = typing.get_type_hints(type(config))
    names = [f.name for f in dataclasses.fields(config)]
    changes = {}
    for key, text in overrides.items():
        if key not in names:
            raise BadInputError(
                SET_OPTION, key, f"unknown setting of {type(config).__name__}; know {names}"
            )
        changes[key] = _coerce(hints[key], key, text)
    return dataclasses.replace(config, **changes)


def method_commands(method: str, command: str) -> MethodCommand:
    """The ``command`` ("train" or "ablate") of ``method``; one-line error if there is none."""
    if method not in METHODS:
        raise BadInputError("--method", method, f"unknown; choose from csdvl, {', '.join(METHODS)}")
    chosen = getattr(METHODS[method], command)
    if chosen is None:
        raise BadInputError("--method", method, f"has no `stvg {command}`")
    return chosen


def reject_csdvl_only(method: str, given: dict[str, bool]) -> None:
    """One-line error when a CSDVL-only flag (name -> was it given) comes with another method."""
    flag = next((name for name, used in given.items() if used), None)
    if flag is not None:
        raise BadInputError(flag, method, "is a csdvl option; use --set KEY=VALUE for this method")
