"""One video's plan (scene + annotated entries), derived from (dataset, seed, video index) only.

Every video has its own random stream, so a video does not depend on how many came before it
or on whether videos are rendered; the render stream is separate from the scene stream so that
``--no-videos`` writes byte-identical annotations, and the simulated detector has a third stream
so that adding it changed nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.synth.config import SynthConfig
from stvg.stvgdata.synth.language import declarative, person_centric
from stvg.stvgdata.synth.queries import Entry, design_entries
from stvg.stvgdata.synth.scene import Scene, make_scene

DATASET_KEYS = {"vidstg": 0, "hcstvg-v1": 1, "hcstvg-v2": 2}
SCENE_ATTEMPTS = 50


@dataclass(frozen=True)
class VideoPlan:
    index: int
    split: str
    scene: Scene
    entries: tuple[Entry, ...]
    look_seed: np.random.SeedSequence
    """Seed of the renderer's stream (background texture)."""
    detector_seed: np.random.SeedSequence
    """Seed of the simulated detector's stream (jitter, misses, false positives)."""


def assign_splits(videos: int, weights: dict[str, float]) -> list[str]:
    """Split of each video index: contiguous blocks sized by ``weights`` (largest remainder),
    with every split non-empty when there are at least as many videos as splits."""
    names = list(weights)
    total = sum(weights.values())
    exact = [videos * weights[name] / total for name in names]
    counts = [int(x) for x in exact]
    if videos >= len(names):
        counts = [max(1, c) for c in counts]
    while sum(counts) > videos:
        counts[counts.index(max(counts))] -= 1
    by_remainder = sorted(range(len(names)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: videos - sum(counts)]:
        counts[i] += 1
    return [name for name, count in zip(names, counts, strict=True) for _ in range(count)]


def plan_video(dataset: str, config: SynthConfig, seed: int, index: int, split: str) -> VideoPlan:
    """The scene and entries of video ``index``; redraws the scene in the rare case that no
    entry with a unique description exists."""
    # spawn(3)'s first two children are spawn(2)'s: scenes and renders are as before.
    scene_seed, look_seed, detector_seed = np.random.SeedSequence(
        seed, spawn_key=(DATASET_KEYS[dataset], index)
    ).spawn(3)
    rng = np.random.default_rng(scene_seed)
    spread = config.video_seconds_spread
    seconds = config.video_seconds * rng.uniform(1 - spread, 1 + spread)
    frame_count = round(seconds * config.fps)
    caption = person_centric if dataset.startswith("hcstvg") else declarative
    for _ in range(SCENE_ATTEMPTS):
        scene = make_scene(rng, config, frame_count)
        entries = design_entries(rng, scene, config, caption)
        if entries:
            return VideoPlan(index, split, scene, tuple(entries), look_seed, detector_seed)
    raise RuntimeError(f"video {index}: no describable target in {SCENE_ATTEMPTS} scenes")
