"""Feature extractors behind one registry: ``build_extractor(model, config)``.

Frame models yield one row per sampled frame (resnet101, slowfast: an (h, w, C) map; vit: its
(1 + P, C) tokens after layer k); the text model (roberta) yields per-token features per query.
Every extractor carries a fingerprint (digest and readable description) of the model, weights,
preprocessing and fps that produced it.
"""

from __future__ import annotations

from collections.abc import Callable

from stvgdata.extractors.base import FrameExtractor, TextExtractor
from stvgdata.extractors.config import ExtractorConfig
from stvgdata.extractors.random_init import RandomInitWarning
from stvgdata.extractors.resnet import build_resnet101
from stvgdata.extractors.roberta import build_roberta
from stvgdata.extractors.slowfast import build_slowfast
from stvgdata.extractors.vit import build_vit

BUILDERS: dict[str, Callable[[ExtractorConfig], FrameExtractor | TextExtractor]] = {
    "resnet101": build_resnet101,
    "slowfast": build_slowfast,
    "roberta": build_roberta,
    "vit": build_vit,
}
FRAME_MODELS = ("resnet101", "slowfast", "vit")
TEXT_MODELS = ("roberta",)


def build_extractor(model: str, config: ExtractorConfig) -> FrameExtractor | TextExtractor:
    """The extractor registered under ``model`` built from ``config``."""
    if model not in BUILDERS:
        raise ValueError(f"unknown feature model {model!r}; choose from {sorted(BUILDERS)}")
    return BUILDERS[model](config)


__all__ = [
    "BUILDERS",
    "FRAME_MODELS",
    "TEXT_MODELS",
    "ExtractorConfig",
    "FrameExtractor",
    "RandomInitWarning",
    "TextExtractor",
    "build_extractor",
]
