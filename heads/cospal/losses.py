"""CoSPaL's losses: cross-video contrast of query-to-video matching scores.

Weak supervision says only which video a sentence describes, so a query's score against its
own video (its referred tubelet found by attention) must beat its scores against the other
videos of the batch; queries on one video are positives of each other.
"""

from __future__ import annotations

import torch

from stvg.heads.cospal.model import NEG, CospalScores


def video_contrastive(matching: torch.Tensor, video_index: torch.Tensor) -> torch.Tensor:
    """Symmetric multi-positive InfoNCE on (B, B) query-to-item logits."""
    positive = video_index[:, None] == video_index[None, :]
    losses = []
    for logits in (matching, matching.T):
        all_terms = torch.logsumexp(logits, dim=1)
        positive_terms = torch.logsumexp(logits.masked_fill(~positive, NEG), dim=1)
        losses.append((all_terms - positive_terms).mean())
    return sum(losses) / 2


def attention_pool(logits: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Softmax over the last (tubelet) axis, masked by ``valid``, then the expected logit."""
    masked = logits.masked_fill(~valid, NEG)
    return (masked.softmax(-1) * masked).sum(-1)


def tpg_loss(scores: CospalScores, video_index: torch.Tensor) -> torch.Tensor:
    """Eq. (1)-(2): each word attends over item j's tubelets (softmax of word-tubelet
    similarity), the attended similarity averaged over words is the query-item score."""
    valid = scores.tubelet_valid[None, :, None, :]  # (1, B, 1, K)
    per_word = attention_pool(scores.tpg, valid)  # (B, B, L)
    mask = scores.word_mask[:, None, :].float()
    matching = (per_word * mask).sum(-1) / mask.sum(-1).clamp(min=1)
    return video_contrastive(matching, video_index)


def crg_loss(scores: CospalScores, video_index: torch.Tensor) -> torch.Tensor:
    """Contextual referral: the tubelet referred by words *and* context (attention over the
    combined tubelet scores) must match its own video better than the others."""
    combined = scores.tubelet_scores()  # (B, B, K)
    matching = attention_pool(combined, scores.tubelet_valid[None])
    return video_contrastive(matching, video_index)
