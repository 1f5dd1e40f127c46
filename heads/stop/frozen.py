"""The frozen top of the ViT (layers k+1..L and the final LayerNorm) over cached tokens.

It is rebuilt from the same weights as the cached bottom (``stvgdata.encoders.vit``) and
checked against the cache's ``frozen_top`` identity, so prompts are never tuned on tokens cut
from another network. Its parameters never train; gradients flow through it to the prompts.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import CLIPVisionModel

from stvg.heads.stop.config import StopConfig
from stvg.stvgdata.encoders.vit import build_vit_network, frozen_top_digest, vit_layer
from stvg.stvgdata.errors import BadInputError


class FrozenTop(nn.Module):
    """Layers k+1..L of a CLIP vision transformer and its post-LayerNorm, frozen."""

    def __init__(self, network: CLIPVisionModel, layer: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(network.encoder.layers[layer:])
        self.post_layernorm = network.post_layernorm
        self.num_heads = network.config.num_attention_heads
        self.patch_size = network.config.patch_size
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenTop:
        """Always in eval mode (no dropout): the frozen layers compute what they computed."""
        return super().train(False)

    def cls_attention(self, tokens: torch.Tensor) -> torch.Tensor:
        """A: the CLS token's attention over the patches in the first frozen layer, mean over
        heads and renormalized over patches. (N, 1 + P, C) -> (N, P)."""
        attention = self.layers[0].self_attn
        normed = self.layers[0].layer_norm1(tokens)
        n, length, channels = normed.shape
        head_dim = channels // self.num_heads
        query = attention.q_proj(normed[:, :1]).view(n, 1, self.num_heads, head_dim)
        keys = attention.k_proj(normed[:, 1:]).view(n, length - 1, self.num_heads, head_dim)
        logits = torch.einsum("nqhd,nkhd->nhk", query, keys) * attention.scale  # (N, heads, P)
        return logits.softmax(dim=-1).mean(dim=1)

    def forward(self, tokens: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """(N, S, C) tokens, CLS first, ``valid`` (N, S) bool (False: an unused prompt slot,
        never attended) -> final-LayerNorm CLS (N, C)."""
        mask = None
        if valid is not None:
            blocked = torch.finfo(tokens.dtype).min
            mask = torch.zeros(valid.shape, dtype=tokens.dtype, device=tokens.device)
            mask = mask.masked_fill(~valid, blocked)[:, None, None, :]  # (N, 1, 1, S)
        for block in self.layers:
            tokens = block(tokens, mask)
        return self.post_layernorm(tokens[:, 0])


def build_frozen_top(config: StopConfig, cached: dict) -> FrozenTop:
    """The frozen top the cache's tokens were cut for (``cached``: their extractor config, as
    the manifest records it); refuses tokens of another network."""
    arch = "tiny" if config.vit_tiny else config.vit_arch
    network, weights, description = build_vit_network(config.vit_weights, arch, config.vit_seed)
    layer = vit_layer(config.vit_layer, network.config.num_hidden_layers)
    digest = frozen_top_digest(description, weights, layer)
    if cached.get("frozen_top") != digest:
        held = ", ".join(f"{key} {cached.get(key)}" for key in ("weights", "vit_arch", "vit_layer"))
        raise BadInputError(
            "vit cache",
            f"frozen_top={digest}",
            f"the cached vit tokens were not cut from this network ({description}, {weights}, "
            f"layer {layer}); the cache holds: {held}. "
            "Set vit_weights/vit_arch/vit_tiny/vit_layer/vit_seed to match the extraction",
        )
    return FrozenTop(network, layer)
