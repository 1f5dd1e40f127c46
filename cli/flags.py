"""Config fields -> command-line flags, for the messages of library errors.

The library names the config field a bad setting came from (``BadInputError.for_field``); the
CLI writes it as the flag that sets that field in the command that ran: the option whose
parameter has the field's name, else the flag in ``FIELD_FLAGS`` (a field whose option has
another name, or that another command sets), else ``--set FIELD`` where the command takes
``--set``, else the field name itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stvg.stvgdata.errors import BadInputError

# Config field -> the flag that sets it, where the option is not named after the field.
FIELD_FLAGS = {
    "models": "--features",
    "input_size": "--size",
    "frame_size": "--size",
    "video_seconds": "--duration",
    "objects_per_video": "--objects",
    "num_layers": "--layers",
    "workspace": "--workspace",
    "context_frames": "--context-frames",
    "replace_model_cache": "--replace-model-cache",
    "replace_region_cache": "--replace-region-cache",
    "preset": "--preset",
    "set": "--set",
    "s2d": "--no-s2d",
    "d2s": "--no-d2s",
    "dynamic_spatial": "--no-spatial",
    "dynamic_mean_pool": "--no-mean-pool",
    "features.frame": "--frame-features",
    "features.clip": "--clip-features",
    "features.text": "--text-features",
}
SET_PARAM = "set_"


def flag_of(command: object | None, field: str) -> str | None:
    """The flag that sets config field ``field`` in ``command`` (None: no flag does)."""
    options = {param.name: param for param in getattr(command, "params", [])}  # a click command
    param = options.get(field)
    if param is not None and param.param_type_name == "option":
        return next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
    if param is not None:
        return field.upper()  # an argument: DATASET
    if field in FIELD_FLAGS:
        return FIELD_FLAGS[field]
    if SET_PARAM in options:
        return f"--set {field}"
    return None


def error_message(error: BadInputError, command: object | None) -> str:
    """``error`` as one line that names flags where the library named config fields."""
    return error.render(lambda field: flag_of(command, field))


def config_options(config: type, params: dict[str, Any]) -> dict[str, Any]:
    """The options given (a click context's ``params``) that are named after a field of
    dataclass ``config``; None means not given, so the field's default applies. Options that
    need parsing are passed beside these and win."""
    names = {field.name for field in dataclasses.fields(config)}
    return {name: value for name, value in params.items() if name in names and value is not None}
