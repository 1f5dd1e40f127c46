"""E3M's atomic events: seeded k-means, runs, and the beta rule for merging adjacent events."""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.events import kmeans, runs_of, select_event, temporal_segment


def test_kmeans_separates_well_separated_groups_and_repeats_with_its_seed():
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(0, 0.05, (10, 2)), rng.normal(5, 0.05, (10, 2))])
    labels = kmeans(points, 2, seed=3, iterations=20)
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1
    assert labels[0] != labels[10]
    assert np.array_equal(labels, kmeans(points, 2, seed=3, iterations=20))


def test_kmeans_never_makes_more_clusters_than_points():
    assert len(set(kmeans(np.eye(3), 10, seed=0, iterations=5))) == 3


def test_runs_are_maximal_and_in_time_order():
    assert runs_of(np.array([2, 2, 0, 0, 0, 2, 1])) == [(0, 2), (2, 5), (5, 6), (6, 7)]


RUNS = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
MEANS = [0.1, 0.6, 1.0, 0.4, 0.9]  # per run


def relevance() -> np.ndarray:
    return np.repeat(MEANS, 2)


def test_the_best_event_grows_over_adjacent_events_above_beta_times_the_best():
    assert select_event(RUNS, relevance(), beta=0.5) == (2, 6)  # 0.6 joins, 0.1 and 0.4 do not


def test_merging_stops_at_the_first_adjacent_event_below_the_threshold():
    assert select_event(RUNS, relevance(), beta=0.3) == (2, 10)  # 0.4 joins, then 0.9 beyond it
    assert select_event(RUNS, relevance(), beta=1.0) == (4, 6)


def test_segment_is_the_content_change_with_the_relevant_frames():
    features = np.repeat(np.eye(3), [4, 5, 3], axis=0)  # three scenes of 4, 5, 3 frames
    gamma = np.repeat([0.1, 1.0, 0.2], [4, 5, 3])
    assert temporal_segment(features, gamma, E3MConfig(num_events=3, beta=0.5)) == (4, 9)
