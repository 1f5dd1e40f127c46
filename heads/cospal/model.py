"""CoSPaL's model: Tubelet Phrase Grounding (words vs tubelet appearance, temporal
self-attention inside each tubelet) and Contextual Referral Grounding (context words vs
tubelet dynamics, attention over frames). Every score is a cosine over ``temperature``.

Scores are computed for every (query i, batch item j) pair, so the losses can contrast a
query's own video against the other videos of the batch: tensors are indexed [i, j, ...].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import MOTION_DIM

NEG = -1e4  # logit of a masked tubelet or frame


class TemporalSelfAttention(nn.Module):
    """One transformer layer over each tubelet's frames: (N, T, d) -> (N, T, d)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, 0.1, batch_first=True)

    def forward(self, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        alive = present.any(dim=1)  # rows without any frame would make attention NaN
        out = torch.zeros_like(x)
        if alive.any():
            out[alive] = self.layer(x[alive], src_key_padding_mask=~present[alive])
        return out


@dataclass
class CospalScores:
    """Scores of queries i against the tubelets of batch items j."""

    tpg: torch.Tensor  # (B, B, L, K) word-to-tubelet logits
    tubelet_valid: torch.Tensor  # (B, K) the tubelet is present in item j's clip
    word_mask: torch.Tensor  # (B, L)
    frame_tpg: torch.Tensor  # (B, K, T) own-video per-frame mean-word logits
    crg: torch.Tensor | None = None  # (B, B, K) context-to-dynamics logits
    frame_crg: torch.Tensor | None = None  # (B, K, T) own-video per-frame context logits

    def tubelet_scores(self) -> torch.Tensor:
        """(B, B, K) combined tubelet logits: mean over words of TPG [+ CRG]."""
        mask = self.word_mask[:, None, :, None].float()
        tpg = (self.tpg * mask).sum(2) / mask.sum(2).clamp(min=1)
        return tpg if self.crg is None else tpg + self.crg

    def own(self, scores: torch.Tensor) -> torch.Tensor:
        """The diagonal i == j of a (B, B, ...) tensor: (B, ...)."""
        index = torch.arange(scores.shape[0], device=scores.device)
        return scores[index, index]

    def to(self, device: str) -> CospalScores:
        """The same scores on ``device`` (predictions are made on the CPU)."""
        moved = {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
            for f in dataclasses.fields(self)
        }
        return CospalScores(**moved)


class DynamicsProjection(nn.Module):
    """Motion descriptors and pooled clip features (SlowFast) into the joint space, each with
    its own normalization: hundreds of clip channels would drown the 7 box-motion numbers
    under one LayerNorm, and random-init clip features would then hide the motion."""

    def __init__(self, dynamics_dim: int, dim: int) -> None:
        super().__init__()
        self.motion = nn.Linear(MOTION_DIM, dim)
        clip_dim = dynamics_dim - MOTION_DIM
        self.clip = (
            nn.Sequential(nn.LayerNorm(clip_dim), nn.Linear(clip_dim, dim)) if clip_dim else None
        )
        self.activation = nn.GELU()

    def forward(self, dynamics: torch.Tensor) -> torch.Tensor:
        h = self.motion(dynamics[..., :MOTION_DIM])
        if self.clip is not None:
            h = h + self.clip(dynamics[..., MOTION_DIM:])
        return self.activation(h)


def _normalized(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1)


class CospalModel(nn.Module):
    def __init__(self, text_dim: int, dynamics_dim: int, config: CospalConfig) -> None:
        super().__init__()
        dim = config.dim
        self.config = config
        self.word_proj = nn.Linear(text_dim, dim)
        self.appearance_proj = nn.Linear(text_dim, dim)
        self.appearance_time = TemporalSelfAttention(dim, config.heads)
        if config.crg:
            self.context_proj = nn.Linear(text_dim, dim)
            self.dynamics_proj = DynamicsProjection(dynamics_dim, dim)
            self.dynamics_time = TemporalSelfAttention(dim, config.heads)

    def _per_frame(self, proj: nn.Module, time: nn.Module, x: torch.Tensor, present):
        """(B, K, T, C) -> (B, K, T, d) normalized, after temporal self-attention."""
        b, k, t, _ = x.shape
        h = proj(x)
        h = h + time(h.reshape(b * k, t, -1), present.reshape(b * k, t)).reshape(b, k, t, -1)
        return _normalized(h)

    def forward(self, batch: dict) -> CospalScores:
        tau = self.config.temperature
        present = batch["present"]  # (B, K, T)
        frame_weight = present.float() / present.float().sum(-1, keepdim=True).clamp(min=1)
        valid = present.any(-1)  # (B, K)
        appearance = self._per_frame(
            self.appearance_proj, self.appearance_time, batch["appearance"], present
        )
        tubelets = _normalized(torch.einsum("bkt,bktd->bkd", frame_weight, appearance))
        words = _normalized(self.word_proj(batch["words"]))  # (B, L, d)
        tpg = torch.einsum("ild,jkd->ijlk", words, tubelets) / tau
        sentence = _normalized((words * batch["word_mask"][..., None]).sum(1))  # (B, d)
        frame_tpg = torch.einsum("id,iktd->ikt", sentence, appearance) / tau
        scores = CospalScores(tpg, valid, batch["word_mask"], frame_tpg)
        if self.config.crg:
            scores.crg, scores.frame_crg = self._referral(batch, present)
        return scores

    def _referral(self, batch: dict, present: torch.Tensor):
        """Context vector of each query vs the dynamics of every tubelet: per-frame logits,
        pooled by attention over the frames (the frames where the action shows weigh most)."""
        tau = self.config.temperature
        dynamics = self._per_frame(
            self.dynamics_proj, self.dynamics_time, batch["dynamics"], present
        )  # (B, K, T, d)
        context = self.context_proj(batch["context"]) * batch["context_mask"][..., None]
        context = _normalized(context.sum(1))  # (B, d)
        frames = torch.einsum("id,jktd->ijkt", context, dynamics) / tau
        frames = frames.masked_fill(~present[None], NEG)
        attention = frames.softmax(-1)
        crg = (attention * frames).sum(-1)  # (B, B, K)
        index = torch.arange(frames.shape[0], device=frames.device)
        return crg, frames[index, index]


def build_model(text_dim: int, dynamics_dim: int, config: CospalConfig) -> CospalModel:
    return CospalModel(text_dim, dynamics_dim, config)
