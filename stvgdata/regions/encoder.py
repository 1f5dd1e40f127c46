"""The vision-language encoder a dataset's region cache was written with, reloaded for the
heads that embed phrases and prototypes with the same text side."""

from __future__ import annotations

from stvg.stvgdata.cache.regions import dataset_encoder
from stvg.stvgdata.encoders.base import VisionLanguageEncoder
from stvg.stvgdata.encoders.registry import load_encoder
from stvg.stvgdata.workspace import Workspace


def load_text_encoder(ws: Workspace, dataset: str, device: str = "cpu") -> VisionLanguageEncoder:
    """The encoder ``dataset``'s regions were cached with (its text side is what the heads call
    for phrases, prototypes and word-level features), computing on ``device``."""
    fingerprint, weights = dataset_encoder(ws, dataset)
    return load_encoder(fingerprint, weights, device)
