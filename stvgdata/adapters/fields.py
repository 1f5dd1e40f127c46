"""Reading annotation JSON: parse errors and missing or mistyped fields become one-line
``BadInputError``s that name the file and the record."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import orjson

from stvgdata.errors import BadInputError

T = TypeVar("T")

_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def load_json(path: Path) -> Any:
    """Parse one annotation file (orjson: the fastest parser at hand for GB-scale annotations)."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise BadInputError(path, None, f"not valid JSON ({exc})") from None
    except OSError as exc:
        raise BadInputError(
            path, None, f"cannot read file ({unreadable_reason(path, exc)})"
        ) from None


def unreadable_reason(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be read, in words (the OS says 'not found' for a dangling symlink)."""
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"symbolic link to missing {os.readlink(path)}"
    return exc.strerror or type(exc).__name__


def has_type(value: object, kind: type) -> bool:
    """JSON-aware isinstance: booleans are not numbers, integers are numbers."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def get_field(record: object, key: str, kind: type[T], file: Path, where: str | None) -> T:
    """``record[key]`` checked to be of ``kind`` (numbers come back as float).

    The common case (a dict holding the right type) costs one lookup and one type test: this
    runs a few million times in a VidSTG-scale import.
    """
    try:
        value = record[key]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        if not isinstance(record, Mapping):
            raise BadInputError(
                file, where, f"expected an object, got {type(record).__name__}"
            ) from None
        raise BadInputError(file, where, f"missing required field {key!r}") from None
    if type(value) is kind:
        return value
    return expect_type(value, kind, file, where, f"field {key!r}")


def expect_type(value: object, kind: type[T], file: Path, where: str | None, what: str) -> T:
    """``value`` checked to be of ``kind`` (numbers come back as float)."""
    if not has_type(value, kind):
        expected = _TYPE_NAMES.get(kind, kind.__name__)
        raise BadInputError(file, where, f"{what} must be {expected}, got {type(value).__name__}")
    return float(value) if kind is float else value  # type: ignore[return-value]
