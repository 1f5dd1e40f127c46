"""What every vision-language encoder offers, written without torch so readers stay light.

An encoder maps images (region crops, whole frames) and texts into one space of dimension
``dim`` where cosine similarity says how well a text describes an image; every embedding it
returns is float32 and L2-normalized.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

SUBSTITUTE = "stvg-vl-synth"  # the encoder stvg trains offline (stvgdata.encoders.vl_synth)
CLIP = "clip"  # Hugging Face CLIP from a local directory (stvgdata.encoders.clip)


class TextEncoder(Protocol):
    """The text side: sentences and phrases to vectors, and word-level vectors."""

    fingerprint: str  # "<encoder name>:<digest>", the fingerprint of its region sets in the store
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, D) float32 L2-normalized embedding of each text."""
        ...

    def encode_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        """One (L_i, D) float32 L2-normalized array per text: a row per token, in the joint
        space (for word-level matching such as CoSPaL's)."""
        ...


class VisionLanguageEncoder(TextEncoder, Protocol):
    """Both sides; ``image_size`` is the square side crops and frames are resized to, and
    ``context_frames`` how many consecutive sampled frames each image stacks on channels (1 for
    CLIP; more for the motion-aware substitute)."""

    image_size: int
    context_frames: int
    weights: str  # the weights path, stored in the manifest so readers can reload the encoder

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        """(n, D) float32 L2-normalized embeddings of ``images`` (n, S, S, 3c) uint8 RGB."""
        ...
