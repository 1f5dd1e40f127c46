"""Cross-stream exchange placed after each layer of both streams (paper Sec. 3.3, Table 5).

- ``StaticToDynamic`` (s2d, Eq. 2): F~v = LayerNorm(Fv + A * FC(Fv)), A = the static decoder's
  cross-attention weights over each frame's positions, broadcast over channels.
- ``DynamicToStatic`` (d2s): each frame's object query attends that frame's dynamic features,
  then "query mixing" = self-attention over the object queries of all (real) frames. Its
  attention over the frame's positions is returned too (the box anchor may read it).
- ``SymmetricFusion``: the Table 5 baselines that merge the two streams symmetrically ("sum",
  "fc-sum", "concat-fc"): the object query absorbs the frame's spatially mean-pooled dynamic
  feature, and every dynamic position absorbs its frame's object query.
Shapes: object queries (B, T, d); dynamic features (B, T, S, d); A (B, T, S).
"""

from __future__ import annotations

import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model.attention import AttentionBlock


class StaticToDynamic(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d_model, d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, dynamic: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """dynamic (B, T, S, d), attention (B, T, S) -> (B, T, S, d)."""
        return self.norm(dynamic + attention[..., None] * self.fc(dynamic))


class DynamicToStatic(nn.Module):
    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.cross_attention = AttentionBlock(config.d_model, config.num_heads, config.dropout)
        self.query_mixing = AttentionBlock(config.d_model, config.num_heads, config.dropout)

    def forward(
        self, queries: torch.Tensor, dynamic: torch.Tensor, frame_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (B, T, d), dynamic (B, T, S, d), frame_mask (B, T) -> queries (B, T, d) and
        the cross-attention weights over each frame's positions (B, T, S)."""
        b, t, s, d = dynamic.shape
        # (B, T, d) -> (B*T, 1, d): each query reads only its own frame's S positions
        per_frame, weights = self.cross_attention(
            queries.reshape(b * t, 1, d), dynamic.reshape(b * t, s, d), need_weights=True
        )
        queries = per_frame.reshape(b, t, d)
        mixed, _ = self.query_mixing(queries, queries, frame_mask)
        return mixed, weights.reshape(b, t, s)


class SymmetricFusion(nn.Module):
    """One of the Table 5 baselines; ``kind`` is "sum", "fc-sum" or "concat-fc"."""

    def __init__(self, kind: str, d_model: int) -> None:
        super().__init__()
        self.kind = kind
        width = 2 * d_model if kind == "concat-fc" else d_model
        self.to_static = nn.Linear(width, d_model) if kind != "sum" else nn.Identity()
        self.to_dynamic = nn.Linear(width, d_model) if kind != "sum" else nn.Identity()
        self.static_norm = nn.LayerNorm(d_model)
        self.dynamic_norm = nn.LayerNorm(d_model)

    def forward(
        self, queries: torch.Tensor, dynamic: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (B, T, d), dynamic (B, T, S, d) -> both updated."""
        pooled = dynamic.mean(dim=2)  # (B, T, d)
        per_position = queries[:, :, None, :].expand_as(dynamic)  # (B, T, S, d)
        if self.kind == "concat-fc":
            new_queries = self.to_static(torch.cat([queries, pooled], dim=-1))
            new_dynamic = self.to_dynamic(torch.cat([dynamic, per_position], dim=-1))
        else:
            new_queries = queries + self.to_static(pooled)
            new_dynamic = dynamic + self.to_dynamic(per_position)
        return self.static_norm(new_queries), self.dynamic_norm(new_dynamic)


class Collaboration(nn.Module):
    """The exchange after one layer, as the configuration selects it."""

    def __init__(self, config: CSDVLConfig) -> None:
        super().__init__()
        self.s2d = StaticToDynamic(config.d_model) if config.uses_s2d else None
        self.d2s = DynamicToStatic(config) if config.uses_d2s else None
        symmetric = config.uses_symmetric_fusion
        self.fusion = SymmetricFusion(config.fusion, config.d_model) if symmetric else None

    def forward(
        self,
        queries: torch.Tensor,
        dynamic: torch.Tensor,
        attention: torch.Tensor,
        frame_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """queries (B, T, d), dynamic (B, T, S, d), attention (B, T, S) -> queries, dynamic,
        and d2s's attention (B, T, S) when d2s runs (else None).

        Both directions read the layer outputs (F_v^i, O^i), so their order does not matter.
        """
        if self.fusion is not None:
            return *self.fusion(queries, dynamic), None
        new_queries, d2s_attention = queries, None
        if self.d2s is not None:
            new_queries, d2s_attention = self.d2s(queries, dynamic, frame_mask)
        new_dynamic = dynamic if self.s2d is None else self.s2d(dynamic, attention)
        return new_queries, new_dynamic, d2s_attention


def build_collaboration(config: CSDVLConfig) -> nn.ModuleList:
    """One exchange block per layer."""
    return nn.ModuleList(Collaboration(config) for _ in range(config.num_layers))
