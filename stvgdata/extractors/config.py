"""The one configuration every extractor is built from (CLI options map onto it), and the
structured record of it that the store keeps with every row."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stvg.stvgdata.errors import BadInputError


def resolve_device(device: str, environ: Mapping[str, str] | None = None) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (``cuda:<LOCAL_RANK>`` under torchrun, one GPU
    per process), else ``cpu``; other names unchanged."""
    if device != "auto":
        return device
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    environ = os.environ if environ is None else environ
    return f"cuda:{environ['LOCAL_RANK']}" if "LOCAL_RANK" in environ else "cuda"


AUTOCAST_DTYPES = (None, "bfloat16", "float16")


@dataclass(frozen=True)
class ExtractorConfig:
    """How to build one extractor.

    ``input_size`` is the (H, W) frames are resized to (no crop, so normalized boxes map 1:1
    onto the feature grid). Recommended: 224x384 (a 7x12 grid) for 16:9 real videos (VidSTG,
    HC-STVG), a multiple of 32 on both sides; 64x96 or 96x160 for the synthetic demo.
    ``weights`` names the weights: a published name (``IMAGENET1K_V2``, ``slowfast_r50``,
    ``roberta-base``), a local checkpoint file, or a Hugging Face directory; None means the
    model's standard pretrained weights through its hub's cache (see ``hubs``).
    ``random_init`` (only with ``weights`` None) builds a seeded random network instead, warned
    and named ``random-init:SEED`` in the fingerprint and the manifest. ``tiny`` builds small
    test-sized networks with the same interface; no published weights fit them.
    """

    fps: float = 5.0
    input_size: tuple[int, int] = (224, 384)
    weights: Path | str | None = None
    random_init: bool = False
    seed: int = 0
    device: str = "cpu"
    variant: str = "r50"  # slowfast trunk depth: "r50" or "r101"
    tiny: bool = False
    dtype: str = "float32"  # compute dtype of the network ("float16"/"bfloat16" for CUDA)
    autocast: str | None = None  # frame models: torch.autocast to "bfloat16"/"float16"; None off
    clip_frames: int = 32  # slowfast (a multiple of alpha), vl-synth-motion-map: frames per clip
    alpha: int = 4  # slowfast: the slow pathway sees every alpha-th frame of the clip
    text_batch_size: int = 32  # roberta: sentences per forward
    vit_arch: str = "b32"  # vit without --weights: "b32" (CLIP ViT-B/32 shape) or "mini"
    vit_layer: int | None = None  # vit: cache tokens after this many layers (None: half)

    def __post_init__(self) -> None:
        if self.autocast not in AUTOCAST_DTYPES:
            raise BadInputError.for_field(
                "autocast", self.autocast, "expected none, bfloat16 or float16"
            )
        if self.tiny and self.weights is None and not self.random_init:
            raise BadInputError.for_field(
                "tiny",
                None,
                "tiny networks have no published weights; add `random_init` "
                "(or `weights` MODEL=PATH with a checkpoint of the tiny shape)",
            )

    @property
    def random_weights(self) -> bool:
        """Whether this network is a seeded random init (no weights loaded)."""
        return self.weights is None and self.random_init


def config_record(config: ExtractorConfig, extractor: Any) -> dict[str, Any]:
    """The full configuration an extractor ran with, as the manifest's ``config`` column holds
    it (JSON): every field that shapes the features (not the device), the readable weights
    label beside the weights source given, the output's channels and grid, and any fields the
    extractor adds (``config_fields``, e.g. the ViT's frozen-top digest)."""
    record = {name: getattr(config, name) for name in RECORDED_FIELDS}
    grid = extractor.output_grid() if hasattr(extractor, "output_grid") else None
    return {
        **record,
        "size": list(config.input_size),
        "weights": extractor.weights,
        "weights_source": None if config.weights is None else str(config.weights),
        "channels": int(extractor.channels),
        "grid": None if grid is None else [int(n) for n in grid],
        **getattr(extractor, "config_fields", {}),
    }


RECORDED_FIELDS = (
    "fps",
    "random_init",
    "seed",
    "tiny",
    "dtype",
    "autocast",
    "variant",
    "clip_frames",
    "alpha",
    "vit_arch",
    "vit_layer",
)
