"""STOP configuration: prompt switches and sizes (the paper's knobs), the frozen ViT it must
match, and training. ``--set KEY=VALUE`` maps onto these fields."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StopConfig:
    """Prompts, heads and training of one STOP run.

    ``vit_*`` describe the frozen network the cached tokens were cut from; the head rebuilds its
    top layers from them and refuses a cache with another ``frozen_top`` identity.
    """

    spatial: bool = True  # intra-frame spatial prompts
    temporal: bool = True  # inter-frame temporal prompts
    alpha: float = 0.5  # W = alpha * A + (1 - alpha) * M
    num_spatial: int = 8  # N_s: prompted regions per frame
    beta: float = 1.0  # extra weight of discriminative regions in W_t
    eta: float = 2.0  # N_t = ceil(eta * W_t) temporal prompts per frame gap
    max_temporal: int = 4  # cap on N_t (prompt slots per gap)
    conv_channels: int = 32  # width of the lightweight 3D-conv networks
    embed_dim: int = 128  # joint text-video space
    text_layers: int = 1  # trainable transformer layers over cached text tokens
    frames: int = 8  # frames sampled per clip (uniform over the query's tube)
    temperature: float = 0.05  # contrastive softmax temperature
    # Classes of the classification head: a CSV or Parquet table (query_id, label), or
    # "synthetic-motion" (the motion a `stvg synth` sentence names); None: retrieval only.
    labels: str | None = None
    class_weight: float = 1.0  # weight of the classification loss (with labels)
    vit_weights: str | None = None  # local HF directory; None: random init (as extracted)
    vit_arch: str = "b32"  # random-init shape (ignored with vit_weights)
    vit_tiny: bool = False  # the tiny test shape (stvg extract --tiny)
    vit_layer: int | None = None  # cut after this layer (None: half the depth)
    vit_seed: int = 0  # random-init seed used at extraction
    # training
    epochs: int = 30
    batch_size: int = 32
    # Batches of whole videos' clips: the clips of one video show the same objects, so as each
    # other's negatives they differ only in target and motion, which the retrieval loss then
    # has to pay for (random batches mostly pit clips of different videos against each other).
    video_batches: bool = False
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0
    train_split: str = "train"
    device: str = "cpu"

    def variant_name(self) -> str:
        """none, spatial, temporal or spatial+temporal (the ablation's row names)."""
        kinds = [
            name for name, on in (("spatial", self.spatial), ("temporal", self.temporal)) if on
        ]
        return "+".join(kinds) or "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
