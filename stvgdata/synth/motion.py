"""Motions an object can perform during one phase, and the path each one traces.

Positions are the top-left corner (x, y) of the object's box in pixels, kept inside the free
range [0, free_x] x [0, free_y] (frame size minus object size), so boxes never leave the frame.
A path of n frames starts one step after ``start`` and ends where the next phase begins, so the
trajectory is continuous across phases.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

MIN_TRAVEL = 0.25
"""A straight move must cover at least this fraction of the free range on its axis."""
CIRCLE_RADIUS = (0.12, 0.2)
"""Circle radius as a fraction of the frame's shorter side (drawn uniformly)."""
CIRCLE_LAP_SECONDS = (2.5, 4.0)
BOUNCE_HEIGHT = (0.15, 0.25)
"""Hop height as a fraction of the frame height."""
BOUNCE_HOP_SECONDS = (0.6, 1.0)


class Motion(StrEnum):
    STILL = "still"
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"
    CIRCLE = "circle"
    BOUNCE = "bounce"


def _straight_room(motion: Motion, start: np.ndarray, free: np.ndarray) -> float:
    """Pixels available along the direction of a straight motion."""
    room = {
        Motion.LEFT: start[0],
        Motion.RIGHT: free[0] - start[0],
        Motion.UP: start[1],
        Motion.DOWN: free[1] - start[1],
    }
    return float(room[motion])


def _straight_axis(motion: Motion) -> int:
    return 0 if motion in (Motion.LEFT, Motion.RIGHT) else 1


CIRCLE_START_ANGLES = tuple(np.arange(8) * np.pi / 4)


def _circle_centre(
    start: np.ndarray, free: np.ndarray, radius: float, angles: tuple[float, ...]
) -> tuple[np.ndarray, float] | None:
    """The first centre (and start angle) for which a circle through ``start`` stays inside."""
    x, y = float(start[0]), float(start[1])
    free_x, free_y = float(free[0]), float(free[1])
    for angle in angles:
        cx, cy = x - radius * math.cos(angle), y - radius * math.sin(angle)
        if radius <= cx <= free_x - radius and radius <= cy <= free_y - radius:
            return np.array([cx, cy]), float(angle)
    return None


def _bounce_sign(start: np.ndarray, free: np.ndarray, height: float) -> int | None:
    """-1 to hop upwards (preferred, like a ball on the floor), +1 downwards, None if no room."""
    if start[1] >= height:
        return -1
    if free[1] - start[1] >= height:
        return 1
    return None


def feasible_motions(start: np.ndarray, free: np.ndarray, frame_short_side: int) -> set[Motion]:
    """Motions that fit in the frame when started at ``start`` (minimum sizes guaranteed)."""
    feasible = {Motion.STILL}
    for motion in (Motion.LEFT, Motion.RIGHT, Motion.UP, Motion.DOWN):
        if _straight_room(motion, start, free) >= MIN_TRAVEL * free[_straight_axis(motion)]:
            feasible.add(motion)
    min_radius = CIRCLE_RADIUS[0] * frame_short_side
    if _circle_centre(start, free, min_radius, CIRCLE_START_ANGLES) is not None:
        feasible.add(Motion.CIRCLE)
    if _bounce_sign(start, free, BOUNCE_HEIGHT[0] * frame_short_side) is not None:
        feasible.add(Motion.BOUNCE)
    return feasible


def motion_path(
    motion: Motion,
    start: np.ndarray,
    free: np.ndarray,
    n_frames: int,
    fps: float,
    frame_short_side: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Top-left positions (n_frames, 2) of one phase; ``motion`` must be feasible at ``start``."""
    step = np.arange(1, n_frames + 1) / n_frames  # (n,) fraction of the phase done
    path = np.repeat(start[None, :].astype(np.float64), n_frames, axis=0)
    if motion in (Motion.LEFT, Motion.RIGHT, Motion.UP, Motion.DOWN):
        axis = _straight_axis(motion)
        room = _straight_room(motion, start, free)
        travel = rng.uniform(max(MIN_TRAVEL * free[axis], 0.5 * room), room)
        sign = -1.0 if motion in (Motion.LEFT, Motion.UP) else 1.0
        path[:, axis] += sign * travel * step
    elif motion is Motion.CIRCLE:
        angles = tuple(rng.permutation(CIRCLE_START_ANGLES))
        radius = rng.uniform(*CIRCLE_RADIUS) * frame_short_side
        found = _circle_centre(start, free, radius, angles)
        if found is None:
            radius = CIRCLE_RADIUS[0] * frame_short_side
            found = _circle_centre(start, free, radius, angles)
        centre, angle0 = found
        laps = n_frames / (fps * rng.uniform(*CIRCLE_LAP_SECONDS))
        angle = angle0 + rng.choice([-1.0, 1.0]) * 2 * np.pi * laps * step
        path = centre[None, :] + radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    elif motion is Motion.BOUNCE:
        height = rng.uniform(*BOUNCE_HEIGHT) * frame_short_side
        sign = _bounce_sign(start, free, height)
        if sign is None:
            height = BOUNCE_HEIGHT[0] * frame_short_side
            sign = _bounce_sign(start, free, height)
        hops = n_frames / (fps * rng.uniform(*BOUNCE_HOP_SECONDS))
        path[:, 1] += sign * height * np.abs(np.sin(np.pi * hops * step))
    return np.clip(path, 0, free)
