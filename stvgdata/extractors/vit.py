"""CLIP-style ViT patch tokens cut at layer k, cached for prompt tuning (STOP).

The network, its shapes and weights live in ``stvgdata.encoders.vit``; this wraps its bottom
half as a frame extractor: frames resized to ``input_size`` (a multiple of the patch size),
tokens after layer k stored per sampled frame, (T, 1 + P, C) with the CLS token first, under a
fingerprint that names the frozen top a head must rebuild.
"""

from __future__ import annotations

import torch

from stvg.stvgdata.encoders.vit import (
    CLIP_NORMALIZATION,
    DEFAULT_WEIGHTS,
    MODEL,
    bottom_tokens,
    frozen_top_digest,
    vit_layer,
    vit_network,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors.base import FrameExtractor, frame_fingerprint
from stvg.stvgdata.extractors.config import ExtractorConfig


class VitExtractor(FrameExtractor):
    model = MODEL

    def __init__(self, *args: object, layer: int, frozen_top: str, **kwargs: object) -> None:
        self.layer = layer  # before the base class runs its calibration forward
        # recorded in the manifest's config: which frozen top layers these tokens feed
        self.config_fields = {"frozen_top": frozen_top}
        super().__init__(*args, **kwargs)

    def output_grid(self) -> tuple[int]:
        """(1 + P,) tokens per frame: CLS and one per patch (H / p) * (W / p)."""
        patch = self.network.config.patch_size
        height, width = self.input_size
        return (1 + (height // patch) * (width // patch),)

    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        return bottom_tokens(self.network, batch, self.layer)


def build_vit(config: ExtractorConfig) -> VitExtractor:
    """The ViT bottom up to ``config.vit_layer`` (``tiny``: the tiny shape; ``vit_arch``
    shapes only a random init)."""
    arch = "tiny" if config.tiny else config.vit_arch
    weights = None if config.random_weights else (config.weights or DEFAULT_WEIGHTS)
    network, source, description = vit_network(weights, arch, config.seed)
    layer = vit_layer(config.vit_layer, network.config.num_hidden_layers)
    patch = network.config.patch_size
    if any(side % patch for side in config.input_size):
        size = "x".join(map(str, config.input_size))
        raise BadInputError.for_field(
            "input_size", size, f"not a multiple of the vit patch size {patch}"
        )
    frozen_top = frozen_top_digest(description, source.fingerprint, layer)
    fingerprint = frame_fingerprint(
        VitExtractor.model,
        f"{description}, tokens after layer {layer} (CLS first)",
        source,
        config,
        CLIP_NORMALIZATION,
        frozen_top=frozen_top,
    )
    return VitExtractor(
        network,
        fingerprint,
        channels=network.config.hidden_size,
        config=config,
        normalization=CLIP_NORMALIZATION,
        layer=layer,
        frozen_top=frozen_top,
    )
