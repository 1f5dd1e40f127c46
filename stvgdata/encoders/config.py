"""Configuration of the ``stvg-vl-synth`` encoder and its training as dataclasses with
defaults, free of torch so the command line maps its options onto them without importing the
models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SubstituteConfig:
    """Sizes of the dual encoder (small enough to train in minutes on one CPU core)."""

    dim: int = 128  # joint embedding dimension D
    image_size: int = 48  # crops are resized to (S, S); synthetic objects are ~40 px
    channels: tuple[int, ...] = (24, 48, 96, 128)  # CNN widths, each stage halves the side
    text_width: int = 128
    text_layers: int = 2
    text_heads: int = 4
    max_words: int = 32
    # consecutive sampled frames a region is seen on (1 = one frame, like CLIP); 3 = t-1, t, t+1
    # stacked on channels, the motion-aware stand-in for a video-language region encoder
    context_frames: int = 1

    def __post_init__(self) -> None:
        if self.context_frames < 1:
            raise ValueError(f"context_frames must be at least 1, not {self.context_frames}")


@dataclass(frozen=True)
class TrainVLConfig:
    """What to train on and how long (defaults: about 5 minutes on one CPU core for the
    80-video synthetic benchmark)."""

    dataset: str
    split: str = "train"
    epochs: int = 12
    batch_size: int = 64  # (crop, sentence) pairs per step
    frames_per_query: int = 4  # GT frames sampled per query, evenly over its tube
    negatives: int = 4  # hard negatives per pair (other objects on the same frame)
    negative_iou: float = 0.3  # a detection overlapping the target less is another object
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
    sample_fps: float = 5.0  # extraction's sampling rate: context frames are 1/sample_fps apart
    output: Path | None = None  # default: <workspace>/models/stvg-vl-synth/<dataset>
    model: SubstituteConfig = field(default_factory=SubstituteConfig)
