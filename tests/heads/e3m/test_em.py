"""The E-step's suppression and the whole E3M loop on constructed videos."""

from __future__ import annotations

import dataclasses

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.em import Grounding, ground_baseline, ground_e3m, to_prediction
from stvg.heads.e3m.model.estep import e_step, posterior_weights, temporal_relevance
from stvg.heads.e3m.model.spatial import NONE, m_step
from stvg.heads.e3m.model.visual import modulate_regions
from tests.heads.e3m.e3m_fixtures import make_regions, mixed, still_boxes, unit

T = 12
RELEVANT = slice(4, 9)  # the query happens on frames 4..8
QUERY = unit(1)
PLAIN = E3MConfig(visual_modulation=False, text_modulation=False, num_events=3, beta=0.5)


def em_video():
    """A target tubelet (0) that matches the sentence only while the action happens, and looks
    slightly less like it than a distractor (1) on the action's first frame; whole-frame
    embeddings match the sentence during the action only."""
    target = np.stack([mixed(0.0, 1)] * T)
    target[RELEVANT] = mixed(0.9, 1)
    target[4] = mixed(0.45, 1)
    distractor = np.stack([mixed(0.5, 2)] * T)
    frames = np.stack([unit(0, 0, 0, 1)] * T)
    frames[RELEVANT] = QUERY
    return make_regions(
        [(0, still_boxes(T, 0.0), target), (1, still_boxes(T, 50.0), distractor)], frames
    )


def test_relevance_counts_only_the_grounded_instance():
    regions = em_video()
    on_target = np.flatnonzero(regions.tubelet_id == 0)
    on_distractor = np.flatnonzero(regions.tubelet_id == 1)
    frames = np.zeros((T, 4))
    gamma_target = temporal_relevance(regions.embeddings[on_target], frames, QUERY, PLAIN)
    gamma_distractor = temporal_relevance(regions.embeddings[on_distractor], frames, QUERY, PLAIN)
    assert np.argmax(gamma_target) in range(5, 9) and gamma_target[0] == 0.0
    assert np.allclose(gamma_distractor, 1.0)  # a constant look carries no timing


def test_posterior_keeps_gamma_on_the_event_and_damps_it_elsewhere():
    gamma = np.linspace(0.0, 1.0, 6)
    weights = posterior_weights(gamma, (2, 4), 0.25)
    assert np.allclose(weights[2:4], gamma[2:4])
    assert np.allclose(weights[[0, 1, 4, 5]], 0.25 * gamma[[0, 1, 4, 5]])
    assert np.allclose(posterior_weights(gamma, (2, 4), 1.0), gamma)  # 1: plain gamma


def test_damping_off_the_event_lets_the_event_decide_an_ambiguous_frame():
    """A distractor as similar as 0.6 everywhere against a target that matches (0.9) only during
    the event: with plain gamma (0.5 off the event) the target's support is diluted by frames
    where it does not match and the distractor wins the event's ambiguous first frame; with the
    event-damped posterior the event's evidence picks the target there."""
    target = np.zeros((T, 4)) + mixed(0.0, 1)
    target[RELEVANT] = mixed(0.9, 1)
    target[4] = mixed(0.45, 1)
    distractor = np.stack([mixed(0.6, 2)] * T)
    regions = make_regions(
        [(0, still_boxes(T, 0.0), target), (1, still_boxes(T, 50.0), distractor)],
        np.stack([unit(0, 0, 0, 1)] * T),
    )
    positions = np.searchsorted(regions.frame_idx, regions.region_frame)
    gamma = np.where(np.isin(np.arange(T), np.arange(T)[RELEVANT]), 1.0, 0.5)
    embeddings = regions.embeddings.astype(np.float64)

    def first_event_frame_tubelet(outside_event_weight: float) -> int:
        weights = posterior_weights(gamma, (4, 9), outside_event_weight)
        chosen, _ = m_step(embeddings, positions, regions.tubelet_id, QUERY, weights, T, PLAIN)
        return int(regions.tubelet_id[chosen[4]])

    assert first_event_frame_tubelet(1.0) == 1
    assert first_event_frame_tubelet(0.0) == 0


def test_e_step_finds_the_action_from_the_grounded_instances():
    regions = em_video()
    chosen = np.flatnonzero(regions.tubelet_id == 0)
    frames = regions.frame_embeddings.astype(np.float64)
    gamma, segment = e_step(regions.embeddings.astype(np.float64), chosen, frames, QUERY, PLAIN)
    assert segment == (4, 9)
    assert gamma[4:9].min() > gamma[:4].max()


def test_em_fixes_the_baselines_timing_and_its_own_first_round_spatial_mistake():
    regions = em_video()
    embeddings = regions.embeddings.astype(np.float64)
    baseline = ground_baseline(regions, QUERY)
    assert (baseline.start, baseline.end) == (0, T)  # no temporal reasoning
    one_pass = ground_e3m(regions, QUERY, embeddings, dataclasses.replace(PLAIN, iterations=1))
    assert regions.tubelet_id[one_pass.chosen[4]] == 1  # first round: the distractor on frame 4
    em = ground_e3m(regions, QUERY, embeddings, dataclasses.replace(PLAIN, iterations=2))
    assert (em.start, em.end) == (4, 9)
    assert set(regions.tubelet_id[em.chosen[RELEVANT]].tolist()) == {0}


def test_full_e3m_with_both_modulations_grounds_the_action():
    regions = em_video()
    config = dataclasses.replace(PLAIN, visual_modulation=True, text_modulation=True)
    grounding = ground_e3m(regions, QUERY, modulate_regions(regions, config), config)
    assert (grounding.start, grounding.end) == (4, 9)
    assert set(regions.tubelet_id[grounding.chosen[RELEVANT]].tolist()) == {0}


def test_prediction_is_absolute_and_half_open_with_a_box_per_grounded_frame():
    frame_idx = np.arange(T) * 6 + 30  # sampled every 6th frame from frame 30
    regions = make_regions(
        [(0, still_boxes(T, 0.0), np.stack([QUERY] * T))], np.stack([QUERY] * T), frame_idx
    )
    chosen = np.arange(T)
    chosen[0] = NONE
    prediction = to_prediction("q", regions, Grounding(4, T, chosen))
    assert (prediction.start_frame, prediction.end_frame) == (54, 30 + 6 * T)
    assert prediction.frame_idx.tolist() == frame_idx[1:].tolist()
    assert np.allclose(prediction.boxes, still_boxes(T - 1, 0.0))


def test_a_clip_without_regions_gets_an_empty_interval_and_no_boxes():
    regions = dataclasses.replace(
        em_video(),
        region_frame=np.zeros(0, np.int32),
        boxes=np.zeros((0, 4), np.float32),
        tubelet_id=np.zeros(0, np.int64),
        scores=np.zeros(0, np.float32),
        labels=np.zeros(0, object),
        embeddings=np.zeros((0, 4), np.float32),
    )
    for grounding in (
        ground_baseline(regions, QUERY),
        ground_e3m(regions, QUERY, regions.embeddings, PLAIN),
    ):
        prediction = to_prediction("q", regions, grounding)
        assert prediction.end_frame == prediction.start_frame and len(prediction.boxes) == 0
