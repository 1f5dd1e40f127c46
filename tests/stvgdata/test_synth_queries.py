"""Query design: tubes are one motion phase inside the clip, sentences pin down one target."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stvg.stvgdata.synth.config import default_config
from stvg.stvgdata.synth.plan import assign_splits, plan_video
from stvg.stvgdata.synth.queries import DECLARATIVE, INTERROGATIVE

VIDSTG = replace(default_config("vidstg"), fps=10.0, video_seconds=15.0, tube_seconds=4.0)
HCSTVG = replace(default_config("hcstvg-v1"), fps=5.0)


def plans(dataset, config, count=20):
    return [plan_video(dataset, config, 3, index, "train") for index in range(count)]


def phase_of(scene, tube):
    return scene.phase_bounds.index(tube[0])


def test_tube_is_one_phase_of_the_target_and_only_part_of_its_clip():
    for plan in plans("vidstg", VIDSTG):
        scene = plan.scene
        for entry in plan.entries:
            phase = phase_of(scene, entry.tube)
            assert scene.phase_range(phase) == entry.tube
            seg_start, seg_end = entry.segment
            assert seg_start <= entry.tube[0] < entry.tube[1] <= seg_end <= scene.frame_count
            assert entry.tube[1] - entry.tube[0] < seg_end - seg_start
            motions = scene.motions[entry.target]
            if phase > 0 and entry.tube[0] > seg_start:
                assert motions[phase - 1] != motions[phase]
            if phase < scene.num_phases - 1 and entry.tube[1] < seg_end:
                assert motions[phase + 1] != motions[phase]


def test_each_target_has_both_distractors_during_its_tube():
    for plan in plans("vidstg", VIDSTG) + plans("hcstvg-v1", HCSTVG):
        scene = plan.scene
        for entry in plan.entries:
            phase = phase_of(scene, entry.tube)
            target = scene.objects[entry.target]
            motion = scene.motions[target.tid][phase]
            others = [o for o in scene.objects if o.tid != target.tid]
            same_look = [o for o in others if o.appearance == target.appearance]
            same_move = [o for o in others if scene.motions[o.tid][phase] == motion]
            assert any(scene.motions[o.tid][phase] != motion for o in same_look)
            assert any(o.appearance != target.appearance for o in same_move)


def test_declarative_caption_names_a_unique_appearance_and_motion_in_the_clip():
    for plan in plans("vidstg", VIDSTG):
        scene = plan.scene
        for entry in plan.entries:
            (caption,) = entry.captions
            target = scene.objects[entry.target]
            phase = phase_of(scene, entry.tube)
            assert caption.sentence_type == DECLARATIVE
            assert target.appearance.colour in caption.text
            clip = [
                p
                for p in range(scene.num_phases)
                if entry.segment[0] <= scene.phase_bounds[p] < entry.segment[1]
            ]
            fitting = [
                (o.tid, p)
                for o in scene.objects
                for p in clip
                if o.appearance == target.appearance
                and scene.motions[o.tid][p] == scene.motions[target.tid][phase]
            ]
            assert fitting == [(target.tid, phase)]


def test_vidstg_statistics_follow_the_real_dataset():
    config = replace(VIDSTG, fps=2.0, video_seconds=30.0, tube_seconds=9.68)
    sample = plans("vidstg", config, count=150)
    sentences = [s for p in sample for e in p.entries for s in e.sentences]
    per_video = len(sentences) / len(sample)
    declarative = sum(s.sentence_type == DECLARATIVE for s in sentences) / len(sentences)
    assert 12.0 < per_video < 16.5  # VidSTG: 99,943 / 6,924 = 14.4
    assert 0.40 < declarative < 0.52  # VidSTG: 44.8 %
    assert {s.sentence_type for s in sentences} == {DECLARATIVE, INTERROGATIVE}
    assert any(s.text.startswith("who ") for s in sentences)
    assert any(s.text.startswith("what ") for s in sentences)


def test_hcstvg_has_one_person_centric_declarative_per_video():
    for plan in plans("hcstvg-v1", HCSTVG):
        (entry,) = plan.entries
        (sentence,) = entry.sentences
        assert sentence.sentence_type == DECLARATIVE
        assert sentence.text.startswith("The person in the ") and sentence.text.endswith(".")
        assert all(obj.appearance.is_person for obj in plan.scene.objects)
        assert entry.segment == (0, plan.scene.frame_count)


def test_a_video_does_not_depend_on_the_others_or_on_the_split():
    a = plan_video("vidstg", VIDSTG, 11, 4, "train")
    b = plan_video("vidstg", VIDSTG, 11, 4, "test")
    assert np.array_equal(a.scene.boxes, b.scene.boxes) and a.entries == b.entries
    c = plan_video("vidstg", VIDSTG, 12, 4, "train")
    assert not np.array_equal(a.scene.boxes, c.scene.boxes)


@pytest.mark.parametrize(
    ("videos", "expected"),
    [(1, ["train"]), (3, ["train", "val", "test"]), (10, ["train"] * 8 + ["val", "test"])],
)
def test_splits_are_blocks_with_every_split_present(videos, expected):
    assert assign_splits(videos, {"train": 5436, "val": 602, "test": 732}) == expected


def clip_phases(scene, entry):
    return [
        p
        for p in range(scene.num_phases)
        if entry.segment[0] <= scene.phase_bounds[p] < entry.segment[1]
    ]


def test_shape_and_colour_questions_fit_only_the_target_in_the_clip():
    """'which square is ...' and 'the red thing that ...' pin down one (object, phase)."""
    checked = 0
    for plan in plans("vidstg", VIDSTG, count=30):
        scene = plan.scene
        for entry in plan.entries:
            target = scene.objects[entry.target]
            phase = phase_of(scene, entry.tube)
            motion = scene.motions[target.tid][phase]
            for question in entry.questions:
                if question.text.startswith("which "):
                    attribute = "shape"
                elif question.text.startswith(("what is the ", "who is the person in ")):
                    attribute = "colour"
                else:
                    continue
                said = getattr(target.appearance, attribute)
                fitting = [
                    (o.tid, p)
                    for o in scene.objects
                    for p in clip_phases(scene, entry)
                    if getattr(o.appearance, attribute) == said
                    and scene.motions[o.tid][p] == motion
                ]
                assert fitting == [(target.tid, phase)], question.text
                checked += 1
    assert checked > 20
