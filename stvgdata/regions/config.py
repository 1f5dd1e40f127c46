"""Configuration of region extraction as a dataclass with defaults, free of torch so the
command line maps its options onto it without importing the models (the encoders' own
configurations are in ``stvgdata.encoders.config``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stvg.stvgdata.adapters.sampling import sampling_of
from stvg.stvgdata.encoders.base import SUBSTITUTE
from stvg.stvgdata.errors import BadInputError


@dataclass(frozen=True)
class RegionExtractConfig:
    """What to embed and with which encoder."""

    dataset: str
    boxes: tuple[str, ...] = ("tubelets",)  # any of tubelets, detections
    encoder: str = SUBSTITUTE
    weights: Path | None = None  # None: the substitute trained on this dataset's train split
    # sampling rate when the feature cache has no timeline for a video; None: the dataset's
    # sampling (stvgdata.adapters.sampling), as for frame models
    fps: float | None = None
    batch_size: int = 256  # crops per encoder forward
    device: str = "auto"  # where the encoder runs: auto (cuda when visible), cpu, cuda:1, ...
    videos_per_shard: int = 16
    replace_region_cache: bool = False  # drop regions of another encoder first

    @property
    def target_fps(self) -> float:
        return self.fps or sampling_of(self.dataset).fps


def encoder_weights(encoder: str, weights: dict[str, str]) -> Path | None:
    """The weights given for ``encoder`` among ``weights`` (encoder -> directory or hub name);
    weights for another encoder would be silently unused, so they are an error."""
    unknown = sorted(set(weights) - {encoder})
    if unknown:
        raise BadInputError.for_field("weights", unknown[0], f"not the chosen `encoder` {encoder}")
    return Path(weights[encoder]) if encoder in weights else None
