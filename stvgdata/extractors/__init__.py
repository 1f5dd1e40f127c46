"""Feature extractors behind one registry: ``build_extractor(model, config)``.

Each model is one registry line below: the module and builder that make its extractor, the
layout kind its rows have in the feature store (``schemas.arrays.KINDS``), the channels of its
full-size network and what its features are. Adding an extractor = one module plus one line.
Every extractor carries a fingerprint (digest and readable description) of the model, weights,
preprocessing and fps that produced it, and ``config_record`` (the structured config the
manifest stores). Builders are imported when first built, and this package imports no torch,
so readers of the cache (kinds, configs) do not pay for torchvision, transformers and
pytorchvideo.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from stvg.schemas.arrays import FRAME_MAP, FRAME_TOKENS, KINDS, TEXT_TOKENS
from stvg.stvgdata.extractors.config import ExtractorConfig, config_record, resolve_device


@dataclass(frozen=True)
class Registration:
    """One feature model: where its builder lives and what it writes."""

    module: str
    builder: str  # function of ``module``: ExtractorConfig -> extractor
    kind: str  # layout kind of its rows (a key of schemas.arrays.KINDS)
    channels: int  # C of the full-size network (tiny test configs use fewer)
    doc: str


_PKG = "stvg.stvgdata.extractors"
# fmt: off
EXTRACTORS: dict[str, Registration] = {
    "resnet101": Registration(f"{_PKG}.resnet", "build_resnet101", FRAME_MAP, 2048,
        "ResNet-101 pre-pool map (stride 32) of each sampled frame."),
    "slowfast": Registration(f"{_PKG}.slowfast", "build_slowfast", FRAME_MAP, 2304,
        "SlowFast trunk maps on the frame timeline: fast-pathway channels (256) after the slow "
        "pathway's (2048, repeated over its alpha frames)."),
    "vit": Registration(f"{_PKG}.vit", "build_vit", FRAME_TOKENS, 768,
        "CLIP-style ViT tokens of each sampled frame after layer k (CLS first, then the "
        "patches row-major): the input of the frozen top layers a prompt head runs."),
    "roberta": Registration(f"{_PKG}.roberta", "build_roberta", TEXT_TOKENS, 768,
        "RoBERTa-base last hidden state of each token of a query (with <s> and </s>)."),
    "vl-synth-map": Registration(f"{_PKG}.vl_synth", "build_vl_synth_map", FRAME_MAP, 128,
        "stvg-vl-synth image tower run densely over each sampled frame, cells projected into "
        "the joint image-text space, stride 32 (offline stand-in for MDETR's backbone)."),
    "vl-synth-motion-map": Registration(f"{_PKG}.vl_synth", "build_vl_synth_motion_map",
        FRAME_MAP, 128,
        "motion-aware stvg-vl-synth image tower over each sampled frame stacked with its "
        "neighbours, stride 32 (offline stand-in for SlowFast's clip maps)."),
    "vl-synth-text": Registration(f"{_PKG}.vl_synth", "build_vl_synth_text", TEXT_TOKENS, 128,
        "stvg-vl-synth text tower: each word token of a query in the joint space."),
}
# fmt: on


def registration(model: str) -> Registration:
    """The registry entry of ``model``; ValueError names the known models."""
    if model not in EXTRACTORS:
        raise ValueError(f"unknown feature model {model!r}; choose from {sorted(EXTRACTORS)}")
    return EXTRACTORS[model]


def kind_of(model: str) -> str:
    """The layout kind ``model``'s rows have in the store."""
    return registration(model).kind


def models_of(*kinds: str) -> tuple[str, ...]:
    """The registered models writing any of ``kinds``, in registry order."""
    return tuple(model for model, entry in EXTRACTORS.items() if entry.kind in kinds)


def is_text_model(model: str) -> bool:
    """Whether ``model`` writes one row per text token (its items are queries)."""
    return KINDS[kind_of(model)].timeline == "token"


def build_extractor(model: str, config: ExtractorConfig) -> Any:
    """The extractor registered under ``model`` built from ``config``."""
    entry = registration(model)
    return getattr(importlib.import_module(entry.module), entry.builder)(config)


def __getattr__(name: str) -> Any:
    """The extractor interfaces and the random-init warning, imported (with torch) on use."""
    lazy = {
        "FrameExtractor": f"{_PKG}.base",
        "TextExtractor": f"{_PKG}.base",
        "RandomInitWarning": "stvg.stvgdata.weights.random_init",
    }
    if name in lazy:
        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXTRACTORS",
    "ExtractorConfig",
    "FrameExtractor",
    "RandomInitWarning",
    "Registration",
    "TextExtractor",
    "build_extractor",
    "config_record",
    "is_text_model",
    "kind_of",
    "models_of",
    "registration",
    "resolve_device",
]
