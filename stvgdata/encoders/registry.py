"""Choosing and reloading a vision-language encoder by name and weights path.

Two encoders: ``clip`` (a Hugging Face CLIP directory or hub name, default OpenAI's ViT-B/32
through the hub's cache) and ``stvg-vl-synth`` (the substitute stvg trains on the synthetic
train split). There is no random-init encoder: region similarities from random weights would
look like results and mean nothing, so missing weights are an error that says what to pass.
"""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.encoders.base import CLIP, SUBSTITUTE, VisionLanguageEncoder
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

ENCODERS = (SUBSTITUTE, CLIP)
DEFAULT_ENCODER = SUBSTITUTE


def substitute_dir(ws: Workspace, dataset: str) -> Path:
    """Where ``stvg train-vl-encoder`` keeps the substitute trained on ``dataset``'s train split."""
    return ws.root / "models" / SUBSTITUTE / dataset


def build_encoder(
    name: str, weights: Path | str | None, device: str = "cpu"
) -> VisionLanguageEncoder:
    """The encoder ``name`` with ``weights`` (never random; for CLIP a hub name or None, the
    default, goes through the hub's cache), computing on ``device`` (cpu, cuda, cuda:1, ...)."""
    if name not in ENCODERS:
        raise BadInputError.for_field(
            "encoder", name, f"unknown encoder; known: {', '.join(ENCODERS)}"
        )
    if name == CLIP:  # transformers is imported only for CLIP: it takes seconds
        from stvg.stvgdata.encoders.clip import ClipEncoder, clip_directory

        return ClipEncoder(clip_directory(weights), device)
    if weights is None:
        raise BadInputError.for_field(
            "weights",
            name,
            f"{name} needs weights (pass `weights` {name}=PATH): train them with "
            "`stvg train-vl-encoder`",
        )
    weights = Path(weights).expanduser()
    if not weights.exists():
        raise BadInputError(
            weights, name, "weights path not found; train one with `stvg train-vl-encoder`"
        )
    from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder

    return SubstituteEncoder(weights, device)


def load_encoder(fingerprint: str, weights: str, device: str = "cpu") -> VisionLanguageEncoder:
    """Reload the encoder a cache was written with, refusing weights changed since then."""
    encoder = build_encoder(fingerprint.split(":", 1)[0], Path(weights), device)
    if encoder.fingerprint != fingerprint:
        raise BadInputError(
            weights,
            None,
            f"weights changed since the regions were cached (now {encoder.fingerprint}, cached "
            f"{fingerprint}); rerun extract-regions with `replace_region_cache`",
        )
    return encoder
