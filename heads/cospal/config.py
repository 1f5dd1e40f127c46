"""CoSPaL's options; the ablation switches (``crg``, ``sps``) are fields, not model copies."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CospalConfig:
    """Training, model and inference settings (defaults sized for the synthetic benchmark)."""

    crg: bool = True  # Contextual Referral Grounding on top of Tubelet Phrase Grounding
    sps: bool = True  # Self-Paced Scene understanding curriculum
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    dim: int = 64  # joint word / tubelet space
    heads: int = 4  # temporal self-attention heads
    temperature: float = 0.1  # of every cosine similarity turned into a logit
    crg_weight: float = 1.0  # weight of the CRG contrastive loss
    sps_start: float = 0.4  # fraction of training queries (easiest first) seen in epoch 0
    sps_full_at: float = 0.5  # fraction of the epochs after which every query is seen
    span_quantile: float = 0.3  # relevance level a span's frames must exceed (chosen on val)
    train_frame_stride: int = 4  # training sees every n-th sampled frame (speed; eval: all)
    use_slowfast: bool = True  # SlowFast pooled in each box joins the tubelet dynamics
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if min(self.epochs, self.batch_size, self.dim, self.heads, self.train_frame_stride) < 1:
            raise ValueError("epochs, batch_size, dim, heads and train_frame_stride must be >= 1")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} must be a multiple of heads {self.heads}")
        if not (0 < self.sps_start <= 1 and 0 < self.sps_full_at <= 1):
            raise ValueError("sps_start and sps_full_at must be in (0, 1]")
        if not 0 <= self.span_quantile <= 1:
            raise ValueError(f"span_quantile must be in [0, 1], not {self.span_quantile}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, not {self.temperature}")

    def variant_name(self) -> str:
        """``tpg``, ``tpg+crg``, ``tpg+sps`` or ``tpg+crg+sps`` (the runs table's variant)."""
        return "+".join(["tpg"] + ["crg"] * self.crg + ["sps"] * self.sps)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
