"""The scene model: objects with an appearance, a motion script over phases, and their boxes.

A video's timeline is cut into phases; in every phase each object performs one motion. Motions
are assigned so that, in every phase, every object has
- a twin with the same appearance doing a different motion (appearance alone is not enough), and
- an object with a different appearance doing the same motion (motion alone is not enough).
Without twins (``SynthConfig.twins`` False) the first holds for no object: appearance alone is
enough, which makes an easier scene.
The boxes of every object on every frame follow from the seed, so later additions (simulated
detector output: jittered boxes, misses, false positives) can be derived from ``Scene.boxes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.geometry import box_iou
from stvg.stvgdata.synth.config import SynthConfig
from stvg.stvgdata.synth.motion import Motion, feasible_motions, motion_path

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 230),
    "yellow": (240, 220, 30),
    "purple": (140, 40, 190),
    "orange": (250, 130, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
SHAPES = ("square", "circle", "triangle", "diamond")
PERSON = "person"
SHAPE_SIZE = (0.2, 0.3)
"""Side of a geometric shape as a fraction of the frame height: at 320x180 that is 36-54 px,
more than one cell of a stride-32 feature map of a 224 px input."""
PERSON_HEIGHT = (0.3, 0.4)
PERSON_ASPECT = 0.45
PHASE_SPREAD = (0.6, 1.4)
"""Each phase lasts this multiple of the mean tube length (drawn uniformly)."""
KEEP_MOTION_PROBABILITY = 0.15
"""Chance that an object may carry its motion into the next phase (so not every object changes
at every phase boundary, and boundaries are not a global cue)."""
ASSIGNMENT_ATTEMPTS = 500
START_POSITION_DRAWS = 20


@dataclass(frozen=True)
class Appearance:
    colour: str
    shape: str

    @property
    def is_person(self) -> bool:
        return self.shape == PERSON


@dataclass(frozen=True)
class SceneObject:
    tid: int
    appearance: Appearance
    width: int
    height: int


@dataclass(frozen=True)
class Scene:
    """One video's content. ``boxes`` is (K objects, T frames, 4) int32 pixel x1, y1, x2, y2
    with exclusive x2/y2, always inside the frame; object k has tid k."""

    width: int
    height: int
    fps: float
    objects: tuple[SceneObject, ...]
    phase_bounds: tuple[int, ...]
    """Frame boundaries: phase p is [phase_bounds[p], phase_bounds[p + 1])."""
    motions: tuple[tuple[Motion, ...], ...]
    """motions[k][p]: the motion of object k during phase p."""
    boxes: np.ndarray

    @property
    def frame_count(self) -> int:
        return self.phase_bounds[-1]

    @property
    def num_phases(self) -> int:
        return len(self.phase_bounds) - 1

    def phase_range(self, phase: int) -> tuple[int, int]:
        return self.phase_bounds[phase], self.phase_bounds[phase + 1]


def draw_phase_bounds(
    rng: np.random.Generator, frame_count: int, mean_frames: float
) -> tuple[int, ...]:
    """Cut [0, frame_count) into at least two phases of about ``mean_frames`` each."""
    bounds = [0]
    while frame_count - bounds[-1] > 0:
        bounds.append(bounds[-1] + max(4, round(mean_frames * rng.uniform(*PHASE_SPREAD))))
    bounds[-1] = frame_count
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < 0.5 * mean_frames:
        del bounds[-2]  # a short tail joins the previous phase
    if len(bounds) == 2:
        bounds.insert(1, round(frame_count * rng.uniform(0.35, 0.65)))
    return tuple(bounds)


def draw_objects(rng: np.random.Generator, config: SynthConfig) -> tuple[SceneObject, ...]:
    """Objects in appearance groups of two (one group of three when the count is odd), or of
    one without ``twins``."""
    count = config.objects_per_video
    if config.twins:
        group_sizes = [2] * (count // 2)
        group_sizes[-1] += count % 2
    else:
        group_sizes = [1] * count
    appearances: list[Appearance] = []
    while len(appearances) < len(group_sizes):
        shape = PERSON if rng.random() < config.person_probability else str(rng.choice(SHAPES))
        candidate = Appearance(str(rng.choice(list(COLOURS))), shape)
        if candidate not in appearances:
            appearances.append(candidate)
    objects = []
    for appearance, size in zip(appearances, group_sizes, strict=True):
        if appearance.is_person:  # twins share their size too: size is part of appearance
            height = round(rng.uniform(*PERSON_HEIGHT) * config.object_scale * config.height)
            width = round(height * PERSON_ASPECT)
        else:
            height = width = round(rng.uniform(*SHAPE_SIZE) * config.object_scale * config.height)
        for _ in range(size):
            objects.append(SceneObject(len(objects), appearance, width, height))
    return tuple(objects)


def draw_start_positions(
    rng: np.random.Generator, objects: tuple[SceneObject, ...], free: np.ndarray
) -> np.ndarray:
    """(K, 2) top-left corners: the least overlapping of a few uniform draws, so that the
    video does not start as one pile of objects."""
    sizes = np.array([[o.width, o.height] for o in objects], float)  # (K, 2)
    corners = rng.uniform(0, 1, size=(START_POSITION_DRAWS, *free.shape)) * free  # (D, K, 2)
    boxes = np.concatenate([corners, corners + sizes], axis=2)  # (D, K, 4)
    overlap = box_iou(boxes[:, :, None], boxes[:, None, :])  # (D, K, K), 1 on the diagonal
    return corners[int(np.argmin(overlap.sum(axis=(1, 2))))]


def _classes_ok(classes: list[list[int]], objects: tuple[SceneObject, ...]) -> bool:
    """Every motion class mixes at least two appearances."""
    return all(len({objects[k].appearance for k in members}) > 1 for members in classes)


def _twins_differ(motions: list[Motion], objects: tuple[SceneObject, ...]) -> bool:
    """No appearance group of two or more moves all alike."""
    by_appearance: dict[Appearance, list[Motion]] = {}
    for obj, motion in zip(objects, motions, strict=True):
        by_appearance.setdefault(obj.appearance, []).append(motion)
    return all(len(set(moves)) > 1 for moves in by_appearance.values() if len(moves) > 1)


def assign_phase_motions(
    rng: np.random.Generator,
    objects: tuple[SceneObject, ...],
    feasible: list[set[Motion]],
    previous: list[Motion] | None,
) -> list[Motion]:
    """One motion per object for a phase, paired so that both kinds of distractor exist.

    Objects are split into classes of two (one of three) mixing appearances; each class gets
    its own motion, feasible for all its members and mostly different from their last motion.
    """
    count = len(objects)
    for _ in range(ASSIGNMENT_ATTEMPTS):
        order = [int(k) for k in rng.permutation(count)]
        classes = [order[i : i + 2] for i in range(0, count - count % 2, 2)]
        if count % 2:
            classes[-1].append(order[-1])
        if not _classes_ok(classes, objects):
            continue
        motions: list[Motion | None] = [None] * count
        used: set[Motion] = set()
        for members in classes:
            options = set.intersection(*(feasible[k] for k in members)) - used
            if previous is not None and rng.random() > KEEP_MOTION_PROBABILITY:
                options -= {previous[k] for k in members}
            if not options:
                break
            motion = Motion(rng.choice(sorted(options)))
            used.add(motion)
            for k in members:
                motions[k] = motion
        else:
            if _twins_differ(motions, objects):
                return motions
    raise RuntimeError(f"no motion assignment found for {count} objects")


def make_scene(rng: np.random.Generator, config: SynthConfig, frame_count: int) -> Scene:
    """Draw objects, phases and motions, and trace every object's box on every frame."""
    objects = draw_objects(rng, config)
    bounds = draw_phase_bounds(rng, frame_count, config.tube_seconds * config.fps)
    short_side = min(config.width, config.height)
    free = np.array([[config.width - o.width, config.height - o.height] for o in objects], float)
    position = draw_start_positions(rng, objects, free)  # (K, 2) top-left corners
    corners = np.empty((len(objects), frame_count, 2))  # (K, T, 2)
    script: list[list[Motion]] = []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        feasible = [feasible_motions(position[k], free[k], short_side) for k in range(len(objects))]
        motions = assign_phase_motions(rng, objects, feasible, script[-1] if script else None)
        for k, motion in enumerate(motions):
            corners[k, start:end] = motion_path(
                motion, position[k], free[k], end - start, config.fps, short_side, rng
            )
        position = corners[:, end - 1]
        script.append(motions)
    top_left = np.rint(corners).astype(np.int32)
    sizes = np.array([[o.width, o.height] for o in objects], np.int32)[:, None, :]
    boxes = np.concatenate([top_left, top_left + sizes], axis=2)  # (K, T, 4)
    return Scene(
        width=config.width,
        height=config.height,
        fps=config.fps,
        objects=objects,
        phase_bounds=bounds,
        motions=tuple(zip(*script, strict=True)),
        boxes=boxes,
    )
