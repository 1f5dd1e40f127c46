"""Small vector helpers shared by E3M's steps (embeddings are L2-normalized rows)."""

from __future__ import annotations

import numpy as np


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (..., D) scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def softmax(x: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of the 1-D ``x`` / ``temperature`` (numerically stable)."""
    z = np.asarray(x, dtype=np.float64) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def min_max(x: np.ndarray) -> np.ndarray:
    """``x`` rescaled to [0, 1] (all ones when it is constant: nothing to prefer)."""
    x = np.asarray(x, dtype=np.float64)
    span = x.max() - x.min() if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.ones_like(x)
