"""NumPy renderer: a textured background and one sprite per object pasted at its box.

Each frame is the background with the sprites pasted in tid order (later objects occlude
earlier ones, as people and things do). Sprites are made once per object, so drawing a frame
costs one background copy plus one masked copy per object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.synth.scene import COLOURS, Scene, SceneObject

SKIN = (224, 172, 135)
TROUSERS = (45, 45, 60)
OUTLINE_DARKEN = 0.6
"""Sprites get a darker 1-px rim so that objects stand out from a similar background."""


@dataclass(frozen=True)
class Sprite:
    rgb: np.ndarray
    """(h, w, 3) uint8 colours."""
    mask: np.ndarray
    """(h, w) bool: which pixels of the box belong to the object."""


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """(H, W, 3) float noise in [-1, 1], bilinearly interpolated from a coarse random grid."""
    grid_h, grid_w = cells, max(2, round(cells * width / height))
    grid = rng.uniform(-1, 1, size=(grid_h + 1, grid_w + 1, 3))
    ys = np.linspace(0, grid_h, height, endpoint=False)
    xs = np.linspace(0, grid_w, width, endpoint=False)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def draw_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 muted texture: blotches at two scales, faint stripes and grain, so that
    the background is neither flat nor confusable with the saturated objects."""
    base = rng.uniform(95, 150, size=3)
    yy, xx = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(12, 30)
    stripes = np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    texture = (
        28 * _smooth_noise(rng, height, width, 3)
        + 12 * _smooth_noise(rng, height, width, 12)
        + 6 * stripes[..., None]
        + rng.normal(0, 4, size=(height, width, 3))
    )
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def shape_mask(shape: str, height: int, width: int) -> np.ndarray:
    """(h, w) bool mask of a geometric shape filling an h x w box (sampled at pixel centres)."""
    y = (np.arange(height)[:, None] + 0.5) / height  # (h, 1) in (0, 1)
    x = (np.arange(width)[None, :] + 0.5) / width  # (1, w)
    if shape == "square":
        return np.ones((height, width), bool)
    if shape == "circle":
        return (x - 0.5) ** 2 + (y - 0.5) ** 2 <= 0.25
    if shape == "triangle":
        return np.abs(x - 0.5) <= y / 2
    if shape == "diamond":
        return np.abs(x - 0.5) + np.abs(y - 0.5) <= 0.5
    raise ValueError(f"unknown shape {shape!r}")


def _outlined(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Darken the mask's border pixels (those with a 4-neighbour outside the mask)."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    rim = mask & ~inner
    out = rgb.copy()
    out[rim] = (out[rim] * OUTLINE_DARKEN).astype(np.uint8)
    return out


def make_sprite(obj: SceneObject) -> Sprite:
    """The object's pixels inside its box. People: head (skin), shirt (their colour), legs."""
    h, w = obj.height, obj.width
    colour = np.array(COLOURS[obj.appearance.colour], np.uint8)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:] = colour
    if not obj.appearance.is_person:
        mask = shape_mask(obj.appearance.shape, h, w)
        return Sprite(_outlined(rgb, mask), mask)
    y = (np.arange(h)[:, None] + 0.5) / h
    x = (np.arange(w)[None, :] + 0.5) / w
    head = ((x - 0.5) / 0.3) ** 2 + ((y - 0.11) / 0.11) ** 2 <= 1
    shirt = (y >= 0.22) & (y < 0.62) & (np.abs(x - 0.5) <= 0.5)
    legs = (y >= 0.62) & (np.abs(x - 0.5) <= 0.4) & (np.abs(x - 0.5) >= 0.06)
    rgb[np.broadcast_to(head, (h, w))] = SKIN
    rgb[np.broadcast_to(legs, (h, w))] = TROUSERS
    mask = head | shirt | legs
    return Sprite(_outlined(rgb, mask), mask)


def render_frames(scene: Scene, look_seed: np.random.SeedSequence) -> Iterator[np.ndarray]:
    """Yield the video's frames one at a time, each (H, W, 3) uint8 RGB."""
    background = draw_background(np.random.default_rng(look_seed), scene.width, scene.height)
    sprites = [make_sprite(obj) for obj in scene.objects]
    for frame_idx in range(scene.frame_count):
        frame = background.copy()
        for sprite, box in zip(sprites, scene.boxes[:, frame_idx], strict=True):
            x1, y1, x2, y2 = box
            region = frame[y1:y2, x1:x2]
            np.copyto(region, sprite.rgb, where=sprite.mask[..., None])
        yield frame
