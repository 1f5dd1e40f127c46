"""E3M's two modulations on constructed features where the right answer is known."""

from __future__ import annotations

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.text import modulate_text, select_prototypes
from stvg.heads.e3m.model.visual import context_regions, modulate_regions
from tests.heads.e3m.e3m_fixtures import make_regions, still_boxes, unit

T = 5
TARGET, OTHER = unit(1, 0), unit(0, 1)


def ambiguous_frame_video() -> tuple:
    """A target (tubelet 0, left) matching the sentence on every frame but the middle one,
    where it looks slightly less like the sentence than a distractor (tubelet 1, right)."""
    target = np.tile(TARGET, (T, 1))
    distractor = np.tile(OTHER, (T, 1))
    target[2], distractor[2] = unit(0.5, 1), unit(0.6, 1)
    moving = still_boxes(T, 0.0) + np.arange(T)[:, None] * [4.0, 0, 4.0, 0]
    regions = make_regions(
        [(0, moving, target), (1, still_boxes(T, 60.0), distractor)], np.tile(unit(0, 0, 1), (T, 1))
    )
    return regions, np.flatnonzero(regions.region_frame == 2)


def test_propagated_context_finds_the_same_instance_on_neighbouring_frames():
    regions, (target_2, _) = ambiguous_frame_video()
    context = context_regions(regions, int(target_2), E3MConfig(context_frames=2))
    assert sorted(regions.region_frame[context].tolist()) == [0, 1, 3, 4]
    assert set(regions.tubelet_id[context].tolist()) == {0}


def test_context_disambiguates_an_ambiguous_frame():
    regions, (target_2, distractor_2) = ambiguous_frame_video()
    raw = regions.embeddings @ TARGET
    assert raw[distractor_2] > raw[target_2]  # on its own the frame picks the distractor
    modulated = modulate_regions(regions, E3MConfig()) @ TARGET
    assert modulated[target_2] > modulated[distractor_2]
    assert np.allclose(np.linalg.norm(modulate_regions(regions, E3MConfig()), axis=1), 1.0)


def test_regions_without_context_keep_their_embedding():
    regions, _ = ambiguous_frame_video()
    far = E3MConfig(context_min_iou=1.01)  # no propagated box overlaps enough
    assert np.allclose(modulate_regions(regions, far), regions.embeddings, atol=1e-6)


def test_prototypes_come_from_the_relevant_frames_one_per_stage():
    candidates = np.stack([unit(1, 0, 0, i) for i in range(8)])
    relevance = np.array([0, 0, 0.9, 1.0, 0.8, 0.95, 0, 0])  # frames 2..5 are relevant
    config = E3MConfig(num_prototypes=2, relevant_fraction=0.5)
    prototypes = select_prototypes(unit(1, 0), candidates, relevance, config)
    # stages [2, 3] and [4, 5]; in each, the candidate closest to the sentence (lowest i)
    assert np.allclose(prototypes, candidates[[2, 4]])


def test_text_modulation_moves_the_sentence_toward_its_prototypes():
    query = unit(1, 0)
    relevant_look = unit(1, 1)
    candidates = np.stack([unit(0, 0, 1)] * 3 + [relevant_look] * 3)
    relevance = np.array([0, 0, 0, 1.0, 1.0, 1.0])
    config = E3MConfig(relevant_fraction=0.5, prototype_weight=0.5)
    modulated = modulate_text(query, candidates, relevance, config)
    assert np.isclose(np.linalg.norm(modulated), 1.0)
    assert modulated @ relevant_look > query @ relevant_look
    assert np.isclose(modulated @ unit(0, 0, 1), 0.0)  # irrelevant frames contribute nothing
