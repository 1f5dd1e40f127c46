"""The one configuration every extractor is built from (CLI options map onto it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExtractorConfig:
    """How to build one extractor.

    ``input_size`` is the (H, W) frames are resized to (no crop, so normalized boxes map 1:1
    onto the feature grid). Recommended: 224x384 (a 7x12 grid) for 16:9 real videos (VidSTG,
    HC-STVG), a multiple of 32 on both sides; 64x96 or 96x160 for the synthetic demo.
    ``weights`` is a local checkpoint (a file for resnet101/slowfast, an HF directory or hub
    name for roberta); None means seeded random init, loudly warned and named in the
    fingerprint. ``tiny`` builds small test-sized networks with the same interface.
    """

    fps: float = 5.0
    input_size: tuple[int, int] = (224, 384)
    weights: Path | str | None = None
    seed: int = 0
    device: str = "cpu"
    variant: str = "r50"  # slowfast trunk depth: "r50" or "r101"
    tiny: bool = False
    dtype: str = "float32"  # compute dtype of the network ("float16"/"bfloat16" for CUDA)
    clip_frames: int = 32  # slowfast (a multiple of alpha), vl-synth-motion-map: frames per clip
    alpha: int = 4  # slowfast: the slow pathway sees every alpha-th frame of the clip
    text_batch_size: int = 32  # roberta: sentences per forward
    vit_arch: str = "b32"  # vit without --weights: "b32" (CLIP ViT-B/32 shape) or "mini"
    vit_layer: int | None = None  # vit: cache tokens after this many layers (None: half)
