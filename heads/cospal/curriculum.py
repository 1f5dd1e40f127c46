"""Self-Paced Scene understanding: train on the easiest (least crowded) scenes first and widen
to all of them; ``sps_start`` and ``sps_full_at`` set the schedule."""

from __future__ import annotations

import numpy as np

from stvg.heads.cospal.config import CospalConfig


def sps_fraction(epoch: int, config: CospalConfig) -> float:
    """Fraction of training queries used in ``epoch`` (0-based): linear from ``sps_start`` to 1
    at epoch ``sps_full_at * epochs``; 1 without SPS."""
    if not config.sps:
        return 1.0
    full = max(config.sps_full_at * config.epochs, 1e-9)
    return float(min(1.0, config.sps_start + (1 - config.sps_start) * epoch / full))


def curriculum(difficulty: np.ndarray, epoch: int, config: CospalConfig) -> np.ndarray:
    """Indices of the queries of ``epoch``: the easiest ``sps_fraction`` of them (at least 1)."""
    count = max(1, int(round(sps_fraction(epoch, config) * len(difficulty))))
    return np.sort(np.argsort(difficulty, kind="stable")[:count])
