"""The scene model: boxes stay in the frame, motions match the boxes, distractors always exist."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stvg.stvgdata.synth.config import default_config
from stvg.stvgdata.synth.motion import MIN_TRAVEL, Motion
from stvg.stvgdata.synth.scene import draw_phase_bounds, make_scene

CONFIG = replace(default_config("vidstg"), fps=10.0, video_seconds=12.0, tube_seconds=3.0)


def scenes(count: int = 25):
    for seed in range(count):
        rng = np.random.default_rng(seed)
        yield make_scene(rng, CONFIG, frame_count=int(rng.integers(80, 160)))


def test_phases_cover_the_video_with_at_least_two():
    rng = np.random.default_rng(0)
    for frame_count in (8, 40, 97, 300):
        bounds = draw_phase_bounds(rng, frame_count, mean_frames=30)
        assert bounds[0] == 0 and bounds[-1] == frame_count
        assert len(bounds) >= 3
        assert all(b > a for a, b in zip(bounds[:-1], bounds[1:], strict=False))


def test_boxes_are_integer_and_inside_the_frame_on_every_frame():
    for scene in scenes():
        assert scene.boxes.shape == (len(scene.objects), scene.frame_count, 4)
        assert scene.boxes.dtype == np.int32
        x1, y1, x2, y2 = np.moveaxis(scene.boxes, -1, 0)
        assert (x1 >= 0).all() and (y1 >= 0).all()
        assert (x2 <= scene.width).all() and (y2 <= scene.height).all()
        sizes = np.stack([x2 - x1, y2 - y1], axis=-1)
        assert (sizes == sizes[:, :1]).all(), "an object keeps its size"


def test_twins_share_their_size_and_groups_have_two_or_more():
    for scene in scenes():
        by_look = {}
        for obj in scene.objects:
            by_look.setdefault(obj.appearance, set()).add((obj.width, obj.height))
        assert all(len(sizes) == 1 for sizes in by_look.values())
        counts = [sum(o.appearance == a for o in scene.objects) for a in by_look]
        assert min(counts) >= 2


@pytest.mark.parametrize("seed", range(5))
def test_every_object_has_both_distractors_in_every_phase(seed):
    scene = make_scene(np.random.default_rng(seed), CONFIG, frame_count=150)
    for phase in range(scene.num_phases):
        for obj in scene.objects:
            motion = scene.motions[obj.tid][phase]
            others = [o for o in scene.objects if o.tid != obj.tid]
            assert any(
                o.appearance == obj.appearance and scene.motions[o.tid][phase] != motion
                for o in others
            ), "no twin doing something else"
            assert any(
                o.appearance != obj.appearance and scene.motions[o.tid][phase] == motion
                for o in others
            ), "no other-looking object doing the same"


def test_motion_labels_match_the_boxes():
    """Straight moves travel their way, still objects do not move, circles and bounces move."""
    for scene in scenes():
        for obj in scene.objects:
            free = np.array([scene.width - obj.width, scene.height - obj.height])
            for phase in range(scene.num_phases):
                start, end = scene.phase_range(phase)
                before = scene.boxes[obj.tid, max(start - 1, 0), :2].astype(float)
                path = scene.boxes[obj.tid, start:end, :2].astype(float)
                shift = path[-1] - before
                motion = scene.motions[obj.tid][phase]
                if start == 0:
                    continue  # the first frame is already one step into the phase
                if motion is Motion.STILL:
                    assert np.abs(path - before).max() == 0
                elif motion in (Motion.CIRCLE, Motion.BOUNCE):
                    assert np.abs(path - before).max() >= 3
                else:
                    axis = 0 if motion in (Motion.LEFT, Motion.RIGHT) else 1
                    sign = -1 if motion in (Motion.LEFT, Motion.UP) else 1
                    assert sign * shift[axis] >= MIN_TRAVEL * free[axis] - 1
                    assert shift[1 - axis] == 0


def test_same_seed_same_scene_and_different_seed_different_scene():
    a = make_scene(np.random.default_rng(7), CONFIG, 120)
    b = make_scene(np.random.default_rng(7), CONFIG, 120)
    c = make_scene(np.random.default_rng(8), CONFIG, 120)
    assert np.array_equal(a.boxes, b.boxes) and a.motions == b.motions
    assert not np.array_equal(a.boxes, c.boxes)


@pytest.mark.parametrize("objects", [2, 3])
def test_without_twins_every_object_looks_different_and_has_a_same_motion_distractor(objects):
    config = replace(CONFIG, objects_per_video=objects, twins=False, object_scale=1.5)
    for seed in range(10):
        scene = make_scene(np.random.default_rng(seed), config, frame_count=120)
        assert len({obj.appearance for obj in scene.objects}) == objects
        for phase in range(scene.num_phases):
            motions = [scene.motions[obj.tid][phase] for obj in scene.objects]
            assert all(motions.count(motion) >= 2 for motion in motions)


def test_object_scale_multiplies_the_object_sizes():
    plain = make_scene(np.random.default_rng(0), CONFIG, frame_count=100)
    bigger = make_scene(np.random.default_rng(0), replace(CONFIG, object_scale=1.5), 100)
    for small, big in zip(plain.objects, bigger.objects, strict=True):
        assert abs(big.height - 1.5 * small.height) <= 1
