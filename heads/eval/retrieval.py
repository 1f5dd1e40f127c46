"""Text-to-video retrieval metrics (R@K, median rank) and classification accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RetrievalSummary:
    r_at_1: float
    r_at_5: float
    r_at_10: float
    median_rank: float  # 1 = the right clip first
    num_queries: int


def target_ranks(similarity: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1-based rank of each query's target clip: (Q, G) scores, (Q,) clip indices -> (Q,).
    Ties count against the query (a clip scoring the same as the target ranks before it), so
    constant scores give the worst rank, never a lucky one."""
    scores = similarity.gather(1, target[:, None])  # (Q, 1)
    return (similarity >= scores).sum(dim=1)


def retrieval_summary(similarity: torch.Tensor, target: torch.Tensor) -> RetrievalSummary:
    """R@1/5/10 (fractions) and the median rank of text-to-video retrieval."""
    ranks = target_ranks(similarity, target).double()
    return RetrievalSummary(
        r_at_1=float((ranks <= 1).double().mean()),
        r_at_5=float((ranks <= 5).double().mean()),
        r_at_10=float((ranks <= 10).double().mean()),
        median_rank=float(ranks.quantile(0.5)),  # the mean of the middle two when Q is even
        num_queries=len(ranks),
    )


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of labelled items (label >= 0) whose top logit is the label; None if none."""
    known = labels >= 0
    if not known.any():
        return None
    return float((logits[known].argmax(dim=-1) == labels[known]).double().mean())
