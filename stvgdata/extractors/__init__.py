"""Feature extractors behind one registry: ``build_extractor(model, config)``.

Frame models yield one row per sampled frame (resnet101, slowfast: an (h, w, C) map; vit: its
(1 + P, C) tokens after layer k; vl-synth-map: text-aligned (h, w, D) cells of the trained
stvg-vl-synth substitute; vl-synth-motion-map: the same from its motion-aware variant, over
windows of consecutive frames); the text models (roberta, vl-synth-text) yield per-token
features per query.
Every extractor carries a fingerprint (digest and readable description) of the model, weights,
preprocessing and fps that produced it. Builders are imported when first built, so readers of
the cache (fingerprints, configs) do not pay for torchvision, transformers and pytorchvideo.
"""

from __future__ import annotations

import importlib

from stvg.stvgdata.extractors.base import FrameExtractor, TextExtractor
from stvg.stvgdata.extractors.config import ExtractorConfig, resolve_device
from stvg.stvgdata.extractors.random_init import RandomInitWarning

# model name -> (module, builder function), imported on first use
BUILDERS: dict[str, tuple[str, str]] = {
    "resnet101": ("stvg.stvgdata.extractors.resnet", "build_resnet101"),
    "slowfast": ("stvg.stvgdata.extractors.slowfast", "build_slowfast"),
    "roberta": ("stvg.stvgdata.extractors.roberta", "build_roberta"),
    "vit": ("stvg.stvgdata.extractors.vit", "build_vit"),
    "vl-synth-map": ("stvg.stvgdata.extractors.vl_synth", "build_vl_synth_map"),
    "vl-synth-motion-map": ("stvg.stvgdata.extractors.vl_synth", "build_vl_synth_motion_map"),
    "vl-synth-text": ("stvg.stvgdata.extractors.vl_synth", "build_vl_synth_text"),
}
FRAME_MODELS = ("resnet101", "slowfast", "vit", "vl-synth-map", "vl-synth-motion-map")
TEXT_MODELS = ("roberta", "vl-synth-text")


def build_extractor(model: str, config: ExtractorConfig) -> FrameExtractor | TextExtractor:
    """The extractor registered under ``model`` built from ``config``."""
    if model not in BUILDERS:
        raise ValueError(f"unknown feature model {model!r}; choose from {sorted(BUILDERS)}")
    module, builder = BUILDERS[model]
    return getattr(importlib.import_module(module), builder)(config)


__all__ = [
    "BUILDERS",
    "FRAME_MODELS",
    "TEXT_MODELS",
    "ExtractorConfig",
    "FrameExtractor",
    "RandomInitWarning",
    "TextExtractor",
    "build_extractor",
    "resolve_device",
]
