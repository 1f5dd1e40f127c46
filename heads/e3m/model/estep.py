"""The E-step: temporal relevance gamma of every sampled frame, then the selected event.

Pixel blurring of irrelevant instances is replaced, on cached features, by suppression: the
instance-level term uses only the instance grounded on the frame by the M-step, so other objects
that resemble the sentence raise neither gamma nor the event features.
gamma_t = minmax(cos(q, v*_t) + frame_weight * cos(q, f_t)), v*_t the grounded instance's
(modulated) embedding, f_t the whole-frame embedding.
"""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.events import temporal_segment
from stvg.heads.e3m.model.spatial import NONE
from stvg.heads.e3m.model.vectors import l2_normalize, min_max


def grounded_embeddings(embeddings: np.ndarray, chosen: np.ndarray, dim: int) -> np.ndarray:
    """(T, D) embedding of each frame's grounded instance, zero where no region was grounded."""
    out = np.zeros((len(chosen), dim))
    has = chosen != NONE
    out[has] = embeddings[chosen[has]]
    return out


def temporal_relevance(
    instance: np.ndarray, frames: np.ndarray, query: np.ndarray, config: E3MConfig
) -> np.ndarray:
    """gamma (T,) in [0, 1] from grounded-instance (T, D) and whole-frame (T, D) embeddings;
    a frame without a grounded instance gets the lowest instance similarity of the video."""
    has = np.linalg.norm(instance, axis=1) > 0
    instance_sim = instance @ query
    if has.any():
        instance_sim[~has] = instance_sim[has].min()
    return min_max(instance_sim + config.frame_weight * (frames @ query))


def posterior_weights(
    gamma: np.ndarray, event: tuple[int, int], outside_event_weight: float
) -> np.ndarray:
    """The next M-step's frame weights (T,): gamma on the selected event's frames and
    ``outside_event_weight`` x gamma elsewhere. The E-step's decision, not only its scores, feeds
    spatial grounding, so evidence about an identity comes mostly from the moment the sentence
    describes (1 keeps plain gamma)."""
    weights = outside_event_weight * gamma
    weights[event[0] : event[1]] = gamma[event[0] : event[1]]
    return weights


def e_step(
    embeddings: np.ndarray,
    chosen: np.ndarray,
    frame_embeddings: np.ndarray,
    query: np.ndarray,
    config: E3MConfig,
) -> tuple[np.ndarray, tuple[int, int]]:
    """(gamma (T,), selected [start, end) frame positions); the k-means features of a frame are
    its whole-frame embedding plus its grounded instance's (the "blurred" frame)."""
    instance = grounded_embeddings(embeddings, chosen, frame_embeddings.shape[1])
    gamma = temporal_relevance(instance, frame_embeddings, query, config)
    features = l2_normalize(frame_embeddings + instance)
    return gamma, temporal_segment(features, gamma, config)
