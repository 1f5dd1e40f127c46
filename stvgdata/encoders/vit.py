"""The CLIP-style ViT STOP prompts, cut at layer k: its shapes, weights and the two halves.

A ViT of L layers is split in two: the bottom (patch embedding, position embedding,
pre-LayerNorm, layers 1..k) runs once at extraction and its output tokens are cached per
sampled frame, (T, 1 + P, C) with the CLS token first; the top (layers k+1..L and the final
LayerNorm) is rebuilt by the head (``build_vit_network`` + ``vit_layer``) from the same weights
and runs over cached tokens plus prompts at every training step. A cut at k saves the k bottom
layers and the patch embedding per frame and step; ``frozen_top_digest`` names the top so a
head refuses tokens cut from another network.

Weights: a Hugging Face hub name of a CLIP model (default ``openai/clip-vit-base-patch32``,
OpenAI's ViT-B/32) through the hub's cache, or a local directory of a CLIP model or CLIP vision
model (``--weights vit=NAME_OR_DIR``). On ``--random-init`` the network is a seeded random init
of the chosen shape (warned, ``random-init:SEED`` in the fingerprint): LayerNorm keeps its
activations in range, but its tokens are a fixed random function of the pixels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from transformers import CLIPVisionConfig, CLIPVisionModel

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.weights.fingerprint import DIGEST_CHARS
from stvg.stvgdata.weights.hubs import (
    WeightsSource,
    hf_weights,
    quiet_transformers,
    random_source,
)
from stvg.stvgdata.weights.random_init import seeded, warn_random_init

MODEL = "vit"  # the feature model its cached bottom tokens are stored as
DEFAULT_WEIGHTS = "openai/clip-vit-base-patch32"
CLIP_NORMALIZATION = (
    (0.48145466, 0.4578275, 0.40821073),
    (0.26862954, 0.26130258, 0.27577711),
)  # (mean, std) of OpenAI CLIP's preprocessing

# Shapes of the random-init networks: name -> CLIPVisionConfig fields. "b32" is CLIP ViT-B/32;
# "mini" is small enough to train prompts on 2 CPU cores; "tiny" is for tests.
VIT_ARCHS: dict[str, dict[str, int]] = {
    "b32": {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "patch_size": 32,
        "image_size": 224,
    },
    "mini": {
        "hidden_size": 192,
        "intermediate_size": 768,
        "num_hidden_layers": 4,
        "num_attention_heads": 3,
        "patch_size": 16,
        "image_size": 112,
    },
    "tiny": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "patch_size": 16,
        "image_size": 64,
    },
}


def _load_pretrained(source: Path) -> CLIPVisionModel:
    """The vision tower of a local CLIP (or CLIP vision) Hugging Face directory."""
    if not source.is_dir():
        raise BadInputError(source, None, "vit weights must be a Hugging Face directory")
    try:
        with quiet_transformers():
            return CLIPVisionModel.from_pretrained(str(source))
    except (OSError, ValueError, RuntimeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BadInputError(source, None, f"cannot load a CLIP vision model: {reason}") from err


def vit_network(
    weights: Path | str | None, arch: str, seed: int
) -> tuple[CLIPVisionModel, WeightsSource, str]:
    """(whole ViT in eval mode, weights source, readable architecture) from a local
    directory, a hub name, or (``weights`` None) a seeded random init of ``VIT_ARCHS[arch]``."""
    if weights is None:
        if arch not in VIT_ARCHS:
            raise BadInputError.for_field(
                "vit_arch", arch, f"unknown; choose from {sorted(VIT_ARCHS)}"
            )
        warn_random_init("vit", seed, detail=f", CLIP-style ViT of shape {arch!r}")
        with seeded(seed):
            network = CLIPVisionModel(CLIPVisionConfig(**VIT_ARCHS[arch]))
        source = random_source(seed)
    else:
        directory, source = hf_weights(MODEL, weights)
        network = _load_pretrained(directory)
    shape = network.config
    description = (
        f"clip-vit hidden={shape.hidden_size} layers={shape.num_hidden_layers} "
        f"heads={shape.num_attention_heads} mlp={shape.intermediate_size} "
        f"patch={shape.patch_size} image={shape.image_size}"
    )
    return network.eval(), source, description


def build_vit_network(
    weights: Path | str | None, arch: str, seed: int
) -> tuple[CLIPVisionModel, str, str]:
    """(whole ViT in eval mode, weights tag, readable architecture) from a local directory or
    hub name, or a seeded random init of ``VIT_ARCHS[arch]`` (warned) when ``weights`` is None."""
    network, source, description = vit_network(weights, arch, seed)
    return network, source.fingerprint, description


def vit_layer(requested: int | None, depth: int) -> int:
    """The cut k (1 <= k < depth): the requested one, or half the depth."""
    layer = depth // 2 if requested is None else requested
    if not 1 <= layer < depth:
        raise BadInputError.for_field(
            "vit_layer", requested, f"must be in 1..{depth - 1} (depth {depth})"
        )
    return layer


def frozen_top_digest(arch: str, weights: str, layer: int) -> str:
    """Identity of the frozen top layers k+1..L: which network, which weights, where cut."""
    text = f"{arch}; weights={weights}; cut after layer {layer}"
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def bottom_tokens(network: CLIPVisionModel, images: torch.Tensor, layer: int) -> torch.Tensor:
    """(N, 3, H, W) normalized -> tokens after ``layer`` layers, (N, 1 + P, C), CLS first.
    Positions are interpolated when H x W differs from the network's image size."""
    tokens = network.embeddings(images, interpolate_pos_encoding=True)
    tokens = network.pre_layrnorm(tokens)
    for block in network.encoder.layers[:layer]:
        tokens = block(tokens, None)
    return tokens
