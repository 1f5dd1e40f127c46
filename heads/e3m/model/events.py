"""Atomic events: k-means over frame features plus a time embedding, then the most relevant
event grown by its adjacent events whose relevance is at least ``beta`` times the best one's.

The k-means is our own small seeded NumPy implementation (k-means++ initialisation), so results
repeat exactly. Clusters may interleave in time; an event is a maximal run of consecutive frames
of one cluster, so "adjacent" is well defined.
"""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig


def kmeans(points: np.ndarray, k: int, seed: int, iterations: int) -> np.ndarray:
    """Cluster labels (T,) of ``points`` (T, F) into at most ``k`` clusters."""
    rng = np.random.default_rng(seed)
    k = min(k, len(points))
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        distance = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        if distance.sum() <= 0:
            break
        centres.append(points[rng.choice(len(points), p=distance / distance.sum())])
    centres = np.array(centres)
    labels = np.full(len(points), -1)
    for _ in range(iterations):
        new = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for cluster in range(len(centres)):
            members = points[labels == cluster]
            if len(members):
                centres[cluster] = members.mean(axis=0)
    return labels


def event_features(features: np.ndarray, config: E3MConfig) -> np.ndarray:
    """Frame features (T, D) with the time embedding appended: position in [0, 1] times
    ``time_weight``, so nearby frames cluster together unless their content differs a lot."""
    position = np.linspace(0.0, 1.0, len(features)) if len(features) > 1 else np.zeros(1)
    return np.hstack([features, config.time_weight * position[:, None]])


def runs_of(labels: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of equal consecutive labels, in time order."""
    cuts = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], cuts, [len(labels)]])
    return [(int(s), int(e)) for s, e in zip(bounds[:-1], bounds[1:], strict=True)]


def select_event(
    runs: list[tuple[int, int]], relevance: np.ndarray, beta: float
) -> tuple[int, int]:
    """[start, end) frame positions: the run of highest mean relevance, grown over adjacent runs
    while the next one's mean relevance is >= beta * the best run's."""
    means = np.array([relevance[s:e].mean() for s, e in runs])
    best = int(np.argmax(means))
    threshold = beta * means[best]
    lo = hi = best
    while lo > 0 and means[lo - 1] >= threshold:
        lo -= 1
    while hi < len(runs) - 1 and means[hi + 1] >= threshold:
        hi += 1
    return runs[lo][0], runs[hi][1]


def temporal_segment(
    features: np.ndarray, relevance: np.ndarray, config: E3MConfig
) -> tuple[int, int]:
    """[start, end) positions among the T frames of the selected (merged) atomic event."""
    labels = kmeans(
        event_features(features, config), config.num_events, config.seed, config.kmeans_iterations
    )
    return select_event(runs_of(labels), relevance, config.beta)
