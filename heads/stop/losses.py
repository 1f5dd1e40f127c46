"""STOP's training losses: symmetric InfoNCE between sentence and clip embeddings (the motion
classification term is a plain cross-entropy, weighted by ``class_weight`` in ``train``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def contrastive_loss(text: torch.Tensor, video: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching pairs: text (B, D) and clip (B, D) unit
    embeddings, row i of each describing the same clip."""
    logits = text @ video.T / temperature  # (B, B)
    labels = torch.arange(len(text), device=text.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
