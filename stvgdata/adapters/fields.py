"""Reading annotation JSON: parse errors, repeated keys and missing, mistyped or out-of-range
fields become one-line ``BadInputError``s that name the file and the record. Nothing is coerced:
a string, boolean, null or float where an integer belongs is an error, not a conversion."""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Iterable, Mapping
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson

from stvg.stvgdata.errors import BadInputError

T = TypeVar("T")

_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}
# What a parsed JSON value was, for error messages.
_GOT_NAMES: dict[type, str] = {float: "float", bool: "a boolean", type(None): "null"}
# The catalog stores every integer field as int32 (schemas): larger values cannot be stored.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
XYWH = ("x", "y", "w", "h")  # the fields of a box given as [x, y, w, h]
NUMBERS = frozenset((int, float))  # JSON numbers as parsed; bool is not among them


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's dict, refusing a key given twice (a dict would keep only the last value)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):  # rare: find the key for the message
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_file(path: Path) -> bytes:
    """The bytes of one annotation file; ``BadInputError`` saying why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInputError(
            path, None, f"cannot read file ({unreadable_reason(path, exc)})"
        ) from None


def load_json(path: Path, unique_keys: bool = True, data: bytes | None = None) -> Any:
    """Parse one annotation file (``data``: its bytes, when already read).

    ``unique_keys`` refuses an object holding one key twice, which every parser resolves by
    silently dropping all but one value (HC-STVG files are objects keyed by video: a repeated key
    loses a video). That check parses about twice as slowly as orjson, so the bulk files made of
    fixed-field records (VidOR's per-video files) skip it.
    """
    if data is None:
        data = read_file(path)
    try:
        if not unique_keys:
            return orjson.loads(data)
        return json.loads(data, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _RepeatedKey as exc:
        raise BadInputError(
            path, None, f"key {exc.key!r} appears twice in one object (a value would be lost)"
        ) from None
    except (ValueError, RecursionError) as exc:  # orjson's and json's decode errors included
        raise BadInputError(path, None, f"not valid JSON ({exc})") from None


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
                file, where, f"expected an object, got {_got_name(record)}"
            ) from None
        raise BadInputError(file, where, f"missing required field {key!r}") from None
    if type(value) is kind and (kind is not int or INT32_MIN <= value <= INT32_MAX):
        return value
    return expect_type(value, kind, file, where, f"field {key!r}")


def expect_type(value: object, kind: type[T], file: Path, where: str | None, what: str) -> T:
    """``value`` checked to be of ``kind`` (numbers come back as float); integers must fit the
    catalog's int32 columns and numbers must be finite."""
    if not has_type(value, kind):
        expected = _TYPE_NAMES.get(kind, kind.__name__)
        raise BadInputError(file, where, f"{what} must be {expected}, got {_got_name(value)}")
    if kind is int and not INT32_MIN <= value <= INT32_MAX:  # type: ignore[operator]
        raise BadInputError(file, where, f"{what} {value} does not fit a 32-bit integer")
    if kind is float and not math.isfinite(value):  # type: ignore[arg-type]
        raise BadInputError(file, where, f"{what} must be a finite number, got {value}")
    return float(value) if kind is float else value  # type: ignore[return-value]


def _got_name(value: object) -> str:
    return _GOT_NAMES.get(type(value)) or _TYPE_NAMES.get(type(value), type(value).__name__)


def get_positive(record: object, key: str, kind: type[T], file: Path, where: str) -> T:
    """``record[key]`` as ``get_field`` reads it, and > 0 (frame rates, sizes, frame counts)."""
    value = get_field(record, key, kind, file, where)
    if not value > 0:  # type: ignore[operator]
        raise BadInputError(file, where, f"field {key!r} must be > 0, got {value}")
    return value


def get_text(record: object, key: str, file: Path, where: str) -> str:
    """``record[key]``, a string with something besides whitespace (a sentence)."""
    value = get_field(record, key, str, file, where)
    if not value.strip():
        raise BadInputError(file, where, f"field {key!r} is empty")
    return value


def check_id(value: str, what: str, file: Path, where: str) -> str:
    """An id used in file paths and as a feature-cache (HDF5) key: non-empty, no surrounding
    whitespace or control characters, no path separator, not ``.`` or ``..``. Without ``/`` the
    cache's escaping of ids is one-to-one, and no id can point outside the dataset root."""
    reason = None
    if not value.strip():
        reason = "is empty"
    elif value != value.strip() or not value.isprintable():
        reason = "has surrounding whitespace or control characters"
    elif "/" in value or "\\" in value:
        reason = "contains a path separator"
    elif value in (".", ".."):
        reason = "is a relative path"
    if reason:
        raise BadInputError(file, where, f"{what} {value!r} {reason}")
    return value


def check_relative_path(value: str, what: str, file: Path, where: str) -> str:
    """A path inside the dataset root: relative, without ``..`` or empty parts."""
    parts = value.split("/")
    if not value or value.startswith("/") or "\\" in value or {"", ".", ".."} & set(parts):
        raise BadInputError(file, where, f"{what} {value!r} is not a path inside the root")
    return value


def only_types(values: Iterable[object], types: frozenset[type]) -> bool:
    """Whether every value's exact type is in ``types`` (a C-level pass: no bool as int)."""
    return set(map(type, values)) <= types


def number_rows(
    rows: object, names: tuple[str, ...], file: Path, where: str, what: str
) -> np.ndarray:
    """``rows``, a list of lists of JSON numbers ``names``, as float64 ``(N, len(names))``."""
    width = len(names)
    if (
        isinstance(rows, list)
        and only_types(rows, frozenset((list,)))
        and set(map(len, rows)) <= {width}
        and only_types(chain.from_iterable(rows), NUMBERS)
    ):
        try:
            return np.array(rows, np.float64).reshape(-1, width)
        except OverflowError:
            pass
    raise BadInputError(file, where, f"{what} must be a list of [{', '.join(names)}] numbers")
