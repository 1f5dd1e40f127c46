"""``stvg synth`` as one library call: a ``SynthJob`` (what to write, refused when built if the
generator cannot honour it) and ``synthesize``, which writes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.synth.config import SynthConfig, default_config, with_overrides
from stvg.stvgdata.synth.generate import SynthSummary, check_run, generate


@dataclass(frozen=True)
class SynthJob:
    """One synthetic dataset: where it goes, its layout and size, its seeds, and ``scene``, the
    ``SynthConfig`` fields that replace the dataset's preset (None keeps the preset's value)."""

    out: Path
    dataset: str
    videos: int
    seed: int = 0
    test_seed: int | None = None
    """Seed of the test split's videos (a held-out test set); None: ``seed``."""
    write_videos: bool = True
    """False: annotations only (catalog-scale tests)."""
    layout: str | None = None
    detections: bool = True
    """Also write the SIMULATED detector output."""
    workers: int | None = None
    scene: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.config()  # refuse the scene, then the run, before anything is written
        check_run(self.dataset, self.videos, self.seed, self.test_seed, self.layout)

    def config(self) -> SynthConfig:
        """The dataset's preset with ``scene`` applied."""
        return with_overrides(self.dataset, default_config(self.dataset), **self.scene)


def synthesize(job: SynthJob, progress: ProgressFn = no_progress) -> SynthSummary:
    """Write ``job``'s dataset under ``job.out`` (all or nothing, see ``generate``)."""
    return generate(
        job.out,
        job.dataset,
        job.videos,
        job.seed,
        job.write_videos,
        job.config(),
        progress,
        workers=job.workers,
        layout=job.layout,
        detections=job.detections,
        test_seed=job.test_seed,
    )
