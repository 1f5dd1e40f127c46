"""Prototype-based text modulation: recalibrate the sentence embedding with visual prototypes.

Prototypes should be exemplary (close to the sentence) and diverse (covering the stages of the
action). The most relevant frames (top ``relevant_fraction`` by temporal relevance) are split, in
time order, into ``num_prototypes`` stages; each stage's prototype is its grounded instance
embedding most similar to the sentence. The sentence embedding moves toward their mean, so words
the encoder maps poorly are complemented by what the matching video content looks like.
"""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.vectors import l2_normalize


def select_prototypes(
    query: np.ndarray, candidates: np.ndarray, relevance: np.ndarray, config: E3MConfig
) -> np.ndarray:
    """Prototypes (P, D) from per-frame candidates (T, D) in time order with relevance (T,):
    the best-matching candidate of each stage of the most relevant frames."""
    count = max(1, int(round(config.relevant_fraction * len(relevance))))
    relevant = np.sort(np.argsort(-relevance, kind="stable")[:count])  # back to time order
    stages = np.array_split(relevant, min(config.num_prototypes, len(relevant)))
    return np.stack([candidates[s[np.argmax(candidates[s] @ query)]] for s in stages])


def modulate_text(
    query: np.ndarray, candidates: np.ndarray, relevance: np.ndarray, config: E3MConfig
) -> np.ndarray:
    """The recalibrated sentence embedding (D,), unit length: q + w * mean(prototypes)."""
    prototypes = select_prototypes(query, candidates, relevance, config)
    return l2_normalize(query + config.prototype_weight * prototypes.mean(axis=0))
