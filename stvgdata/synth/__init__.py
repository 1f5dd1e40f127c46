"""The synthetic STVG benchmark: moving shapes and people with appearance/motion distractors,
written in the real on-disk layouts of VidSTG and HC-STVG v1/v2 (see docs/synthetic.md)."""

from stvg.stvgdata.synth.config import DATASETS, SynthConfig, default_config, with_overrides
from stvg.stvgdata.synth.generate import SplitCounts, SynthSummary, generate
from stvg.stvgdata.synth.job import SynthJob, synthesize

__all__ = [
    "DATASETS",
    "SplitCounts",
    "SynthConfig",
    "SynthJob",
    "SynthSummary",
    "default_config",
    "generate",
    "synthesize",
    "with_overrides",
]
