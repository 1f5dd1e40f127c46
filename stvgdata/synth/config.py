"""Configuration of the synthetic benchmark, with defaults taken from the real datasets.

Each dataset has a preset whose statistics (queries per video, video and tube durations, fps,
sentence types, split sizes) follow the published numbers; only the resolution is scaled down so
that the demo runs on a laptop. Every number and its source is listed in docs/synthetic.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from stvg.stvgdata.errors import BadInputError

DATASETS = ("vidstg", "hcstvg-v1", "hcstvg-v2")

HCSTVG_VIDEO_SECONDS = 20.0
"""Every HC-STVG clip lasts 20 s (img_num = fps x 20), so importers may derive fps from it."""


@dataclass(frozen=True)
class SynthConfig:
    """What one synthetic dataset looks like. Times are seconds, sizes pixels."""

    width: int = 320
    height: int = 180
    fps: float = 30.0
    video_seconds: float = 30.0
    """Mean video length; each video draws its own within +-``video_seconds_spread``."""
    video_seconds_spread: float = 0.3
    tube_seconds: float = 9.68
    """Mean length of a motion phase, i.e. of a target tube."""
    objects_per_video: int = 6
    """Objects come in appearance twins (groups of 2, one of 3 if odd), so at least 4."""
    twins: bool = True
    """False: every object has its own appearance (at least 2 objects), so colour and shape
    alone tell the target from the others; an easier scene than the benchmark's."""
    object_scale: float = 1.0
    """Multiplies every object's size (shapes 0.2-0.3 of the frame height, people 0.3-0.4)."""
    entries_per_video: float = 6.47
    """Mean number of annotated (target, tube) entries per video; each has one declarative."""
    questions_per_entry: tuple[float, float, float] = (0.17, 0.43, 0.40)
    """Probabilities of 0, 1 and 2 interrogative sentences per entry (mean 1.23)."""
    person_probability: float = 0.25
    """Chance that an appearance group is drawn as people rather than geometric shapes."""
    segment_context_phases: int | None = 1
    """Phases on each side of the tube inside ``used_segment`` (None: the whole video)."""
    split_weights: dict[str, float] = field(default_factory=lambda: {"train": 1.0})
    """Relative split sizes; videos are assigned to splits in this order, in blocks."""
    codec: str = "libx264"
    crf: int = 18
    """x264 quality: low enough that colours survive yuv420p compression."""


def default_config(dataset: str) -> SynthConfig:
    """The preset whose statistics follow ``dataset``'s real release (sources in the docs)."""
    if dataset == "vidstg":
        return SynthConfig(split_weights={"train": 5436, "val": 602, "test": 732})
    hcstvg = SynthConfig(
        video_seconds=HCSTVG_VIDEO_SECONDS,
        video_seconds_spread=0.0,
        tube_seconds=6.0,
        objects_per_video=5,
        entries_per_video=1,
        questions_per_entry=(1.0, 0.0, 0.0),
        person_probability=1.0,
        segment_context_phases=None,
    )
    if dataset == "hcstvg-v1":
        return replace(hcstvg, split_weights={"train": 4500, "test": 1160})
    if dataset == "hcstvg-v2":
        return replace(hcstvg, split_weights={"train": 10131, "val": 2000})
    raise BadInputError.for_field("dataset", dataset, f"unknown dataset; choose one of {DATASETS}")


def with_overrides(dataset: str, config: SynthConfig, **changes: Any) -> SynthConfig:
    """``config`` with the fields given in ``changes`` replaced (None: kept), checked as the
    user's input."""
    given = {name: value for name, value in changes.items() if value is not None}
    if "fps" in given:
        given["fps"] = float(given["fps"])
    if "video_seconds" in given and dataset.startswith("hcstvg"):
        raise BadInputError.for_field(
            "video_seconds",
            given["video_seconds"],
            "HC-STVG clips are 20 s by definition (img_num = fps x 20); lower `fps` instead",
        )
    checked = replace(config, **given)
    check_config(dataset, checked)
    return checked


def check_config(dataset: str, config: SynthConfig) -> None:
    """Reject settings the generator cannot honour, naming the field at fault."""
    fewest_objects = 4 if config.twins else 2
    problems = [
        ("width", config.width, config.width < 96 or config.width % 2, "even and >= 96"),
        ("height", config.height, config.height < 64 or config.height % 2, "even and >= 64"),
        ("fps", config.fps, config.fps <= 0 or config.fps > 120, "in (0, 120]"),
        (
            "objects_per_video",
            config.objects_per_video,
            not fewest_objects <= config.objects_per_video <= 12,
            f"between {fewest_objects} and 12"
            + (" (objects come in appearance twins)" if config.twins else ""),
        ),
        (
            "object_scale",
            config.object_scale,
            not 0.5 <= config.object_scale <= 2,
            "between 0.5 and 2 (objects must fit the frame with room to move)",
        ),
        (
            "tube_seconds",
            config.tube_seconds,
            config.tube_seconds * config.fps < 4,
            "at least 4 frames long at the chosen fps",
        ),
        (
            "video_seconds",
            config.video_seconds,
            config.video_seconds * (1 - config.video_seconds_spread) < 2 * config.tube_seconds,
            "long enough for two tube-length phases (the tube must cover only part of it)",
        ),
    ]
    for name, value, bad, expected in problems:
        if bad:
            raise BadInputError.for_field(name, value, f"must be {expected}")
    frames = config.fps * HCSTVG_VIDEO_SECONDS
    if dataset.startswith("hcstvg") and abs(frames - round(frames)) > 1e-6:
        raise BadInputError.for_field(
            "fps", config.fps, "fps x 20 s must be a whole number of frames"
        )
