"""How each dataset's videos are sampled for feature extraction, beside the adapters that
import them: TubeDETR samples every dataset at 5 fps; frames are resized (no crop) to 224x384,
which suits the 16:9 videos of VidOR and HC-STVG and gives a 7x12 feature grid at stride 32."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sampling:
    """Default sampling rate and frame size of one dataset's extraction."""

    fps: float = 5.0
    frame_size: tuple[int, int] = (224, 384)  # (H, W) frames are resized to


SAMPLING: dict[str, Sampling] = {
    "vidstg": Sampling(5.0, (224, 384)),
    "hcstvg-v1": Sampling(5.0, (224, 384)),
    "hcstvg-v2": Sampling(5.0, (224, 384)),
}


def sampling_of(dataset: str) -> Sampling:
    """The dataset's sampling (other datasets, e.g. synthetic ones: the TubeDETR default)."""
    return SAMPLING.get(dataset, Sampling())
