"""Planning an extraction before running it: what a model's rows will look like (to name what
differs from a cache of another fingerprint), a short timed probe of the model on the chosen
device (to estimate the time of a dry run), and sizes in human units.

The comparison reads the manifest's structured ``config`` column (input size, fps, dtype,
weights, autocast, ... as the extractor recorded them), or for rows written before it the
``weights``, ``fps``, ``shape`` and ``dtype`` columns; never the fingerprint's description text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from stvg.stvgdata.cache.manifest import (
    cached_fingerprints,
    config_differences,
    describe_fingerprint,
)
from stvg.stvgdata.cache.manifest import refuse_other_fingerprint as store_refusal
from stvg.stvgdata.workspace import Workspace

PROBE_FRAMES = 8  # frames per timed forward (rounded up to whole chunks)
PROBE_SENTENCES = 8
PROBE_SENTENCE = "the adult in a red shirt walks towards the dog on the left"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


@dataclass(frozen=True)
class PlannedRows:
    """What one model's manifest rows will hold: weights label, sampling fps (None for text),
    the shape of one row, the stored dtype and the extractor's config record."""

    weights: str
    fps: float | None
    shape: tuple[int, ...]
    dtype: str
    config: dict[str, Any]


def planned_rows(
    extractor: Any, fps: float | None, dtype: str, config: dict[str, Any]
) -> PlannedRows:
    """The rows ``extractor`` writes: (h, w, C) or (tokens, C) per frame, (C,) per text token;
    ``config``: the record its rows will carry (``extractors.config_record``)."""
    grid = tuple(extractor.output_grid()) if hasattr(extractor, "output_grid") else ()
    return PlannedRows(extractor.weights, fps, (*grid, extractor.channels), dtype, config)


def differences(cached: dict[str, Any], planned: PlannedRows) -> list[str]:
    """Readable ``what old -> new`` for each recorded config field (size, fps, dtype, weights,
    autocast, ...) that differs between a cached fingerprint's manifest row and the planned
    rows; rows cached before the ``config`` column are compared on their other columns."""
    if cached.get("config") is not None:
        return config_differences(cached["config"], planned.config)
    pairs = {
        "weights": (cached["weights"] or "unrecorded", planned.weights),
        "fps": (cached["fps"], planned.fps),
        "size": (list(cached["shape"] or []), list(planned.shape)),
        "dtype": (cached["dtype"], planned.dtype),
    }
    return [f"{what} {old} -> {new}" for what, (old, new) in pairs.items() if old != new]


def other_fingerprint(
    ws: Workspace, dataset: str, model: str, fingerprint: str, planned: PlannedRows
) -> str | None:
    """When ``dataset``'s cache holds ``model`` under another fingerprint: that fingerprint, its
    row count and what differs, in words; None otherwise."""
    cached = cached_fingerprints(ws, dataset, model, fingerprint)
    return describe_fingerprint(cached[0], differences(cached[0], planned)) if cached else None


def refuse_other_fingerprint(
    ws: Workspace, dataset: str, model: str, fingerprint: str, planned: PlannedRows
) -> None:
    """Refuse to mix two configurations of ``model`` in ``dataset``'s cache, naming what
    differs (the store's one fingerprint check)."""
    store_refusal(ws, dataset, model, fingerprint, lambda old: differences(old, planned))


def probe_seconds_per_row(extractor: Any) -> float:
    """Seconds per output row of ``extractor`` on its device, timed on a second forward of a
    small batch (the first warms up kernels and caches): frames for frame models, tokens for
    text models."""
    if hasattr(extractor, "forward"):
        frames = extractor.pad_chunk(
            np.zeros((PROBE_FRAMES, *extractor.input_size, 3), dtype=np.uint8)
        )

        def run() -> int:
            extractor.forward(extractor.preprocess(frames))  # returns on the CPU: synchronized
            return len(frames)
    else:
        sentences = [PROBE_SENTENCE] * PROBE_SENTENCES

        def run() -> int:
            return sum(len(ids) for ids, _ in extractor.encode(sentences))

    run()
    started = time.perf_counter()
    rows = run()
    return (time.perf_counter() - started) / max(rows, 1)


def human_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB`` (binary units)."""
    for unit in _UNITS:
        if abs(count) < 1024 or unit == _UNITS[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def human_seconds(seconds: float) -> str:
    """``5400`` -> ``1 h 30 min``; under a minute in seconds."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
