"""The M-step: spatial grounding on every sampled frame given the previous E-step's posterior.

An instance's score on a frame is its similarity to the (modulated) sentence plus
``tubelet_weight`` times its tubelet's mean similarity weighted by the posterior frame weights
(gamma, damped off the selected event: ``heads.e3m.model.estep.posterior_weights``): the relevant
frames' evidence about an identity carries to the frames where it is ambiguous. A raw detection
(no tubelet) has only its own similarity. Without an E-step yet (the first round) every frame
counts alike.
"""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.text import modulate_text

NONE = -1  # a frame without any region


def best_per_frame(region_pos: np.ndarray, scores: np.ndarray, num_frames: int) -> np.ndarray:
    """Index (T,) of the highest-scoring region on each frame position, NONE where there is none
    (``region_pos`` (N,) is each region's frame position in 0..T-1)."""
    chosen = np.full(num_frames, NONE, np.int64)
    if len(scores) == 0:
        return chosen
    order = np.lexsort((scores, region_pos))  # by frame, best last
    last_of_frame = np.r_[region_pos[order][1:] != region_pos[order][:-1], True]
    chosen[region_pos[order][last_of_frame]] = order[last_of_frame]
    return chosen


def tubelet_scores(
    tubelet_id: np.ndarray, similarity: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Per region (N,): its tubelet's weighted mean similarity (its own one if tubelet -1)."""
    out = similarity.copy()
    for tubelet in np.unique(tubelet_id[tubelet_id >= 0]):
        members = tubelet_id == tubelet
        w = weights[members]
        mean = (w @ similarity[members]) / w.sum() if w.sum() > 0 else similarity[members].mean()
        out[members] = mean
    return out


def ground_frames(
    embeddings: np.ndarray,
    region_pos: np.ndarray,
    tubelet_id: np.ndarray,
    query: np.ndarray,
    weights: np.ndarray,
    config: E3MConfig,
) -> np.ndarray:
    """Chosen region (T,) per frame position for region ``embeddings`` (N, D) and ``query`` (D,),
    given per-frame weights ``weights`` (T,) of the tubelet evidence."""
    similarity = embeddings @ query
    support = tubelet_scores(tubelet_id, similarity, weights[region_pos])
    return best_per_frame(region_pos, similarity + config.tubelet_weight * support, len(weights))


def m_step(
    embeddings: np.ndarray,
    region_pos: np.ndarray,
    tubelet_id: np.ndarray,
    query: np.ndarray,
    posterior: np.ndarray | None,
    num_frames: int,
    config: E3MConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(chosen region (T,) per frame position, the sentence embedding used (D,)), given the
    previous E-step's frame weights ``posterior`` (T,) or None in the first round. With text
    modulation the prototypes come from a first grounding with the plain sentence, ranked by
    the posterior (or by that grounding's similarity when there is none yet)."""
    weights = np.ones(num_frames) if posterior is None else posterior
    chosen = ground_frames(embeddings, region_pos, tubelet_id, query, weights, config)
    if not config.text_modulation:
        return chosen, query
    has = chosen != NONE
    candidates = embeddings[chosen[has]]
    relevance = candidates @ query if posterior is None else posterior[has]
    modulated = modulate_text(query, candidates, relevance, config)
    return ground_frames(embeddings, region_pos, tubelet_id, modulated, weights, config), modulated
