"""Loading PyTorch checkpoints into a backbone trunk, with one-line errors for the user.

A checkpoint may be a bare state dict or nest it under ``model_state`` (pytorchvideo),
``state_dict`` or ``model``; a ``module.`` prefix (DataParallel) is dropped. Every parameter and
buffer of the trunk must be present with its exact shape; classifier-head keys are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.weights.hubs import (
    WeightsSource,
    file_source,
    random_source,
    torch_hub_checkpoint,
)
from stvg.stvgdata.weights.random_init import warn_random_init

_NESTING_KEYS = ("model_state", "state_dict", "model")
_OPTIONAL_SUFFIXES = ("num_batches_tracked",)  # absent from old torchvision checkpoints


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The flat ``name -> tensor`` mapping inside a checkpoint file (tensors only, never code)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, None, "weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any parse failure of a user's file is bad input, not a bug
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BadInputError(path, None, f"not a PyTorch checkpoint: {reason}") from err
    while isinstance(state, Mapping):
        nested = next((state[key] for key in _NESTING_KEYS if key in state), None)
        if not isinstance(nested, Mapping):
            break
        state = nested
    if not isinstance(state, Mapping) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise BadInputError(path, None, "checkpoint holds no state dict of tensors")
    return {key.removeprefix("module."): value for key, value in state.items()}


def load_trunk_weights(
    trunk: nn.Module,
    path: Path,
    architecture: str,
    ignored_prefixes: tuple[str, ...],
    remap: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> None:
    """Load ``path`` into ``trunk`` strictly; keys under ``ignored_prefixes`` (the classifier
    head) are skipped, after ``remap`` renamed the keys of another project's layout. The
    first missing, unexpected or wrongly shaped key is reported."""
    state = read_state_dict(path)
    if remap is not None:
        state = remap(state)
    state = {k: v for k, v in state.items() if not k.startswith(ignored_prefixes)}
    expected = trunk.state_dict()
    hint = f"not a {architecture} checkpoint"
    for key, tensor in expected.items():
        if key not in state:
            if key.endswith(_OPTIONAL_SUFFIXES):
                continue
            raise BadInputError(path, key, f"missing key ({hint})")
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise BadInputError(
                path,
                key,
                f"shape {tuple(state[key].shape)} does not match the expected "
                f"{tuple(tensor.shape)} ({hint})",
            )
    unexpected = next((key for key in state if key not in expected), None)
    if unexpected is not None:
        raise BadInputError(path, unexpected, f"unexpected key ({hint})")
    trunk.load_state_dict(state, strict=False)


def trunk_weights(
    trunk: nn.Module,
    config: ExtractorConfig,
    model: str,
    architecture: str,
    ignored_prefixes: tuple[str, ...],
    published: Mapping[str, str],
    default: str,
    remap: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> WeightsSource:
    """Load ``trunk``'s weights as ``config`` names them: ``default`` when it names none, a
    ``published`` name (-> URL) through torch.hub's cache, or a local checkpoint file (whose
    keys ``remap`` may rename); or leave it a seeded random init on ``config.random_init``
    (warned; the caller then calibrates BatchNorm)."""
    if config.random_weights:
        warn_random_init(model, config.seed)
        return random_source(config.seed)
    name = default if config.weights is None else str(config.weights)
    if name in published:
        path = torch_hub_checkpoint(model, name, published[name])
        load_trunk_weights(trunk, path, architecture, ignored_prefixes)
        return file_source(path, name)
    path = Path(name)
    if not path.exists():
        raise BadInputError.for_field(
            "weights",
            f"{model}={name}",
            f"weights file not found, and not one of {sorted(published)}",
        )
    load_trunk_weights(trunk, path, architecture, ignored_prefixes, remap)
    return file_source(path)
