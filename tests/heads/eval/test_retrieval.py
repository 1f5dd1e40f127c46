"""Retrieval metrics on a hand-computed similarity matrix; the rows of a query's clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stvg.heads.eval.retrieval import accuracy, retrieval_summary, target_ranks
from stvg.heads.stop.data import clip_rows


def test_ranks_and_recalls_of_a_hand_made_matrix() -> None:
    similarity = torch.tensor(
        [
            [0.9, 0.1, 0.2],  # target 0 ranks 1
            [0.5, 0.4, 0.6],  # target 1 ranks 3
            [0.3, 0.8, 0.7],  # target 2 ranks 2
            [0.2, 0.2, 0.1],  # target 1 ties with clip 0: counted against the query, rank 2
        ]
    )
    target = torch.tensor([0, 1, 2, 1])
    assert target_ranks(similarity, target).tolist() == [1, 3, 2, 2]
    summary = retrieval_summary(similarity, target)
    assert summary.r_at_1 == pytest.approx(0.25)
    assert summary.r_at_5 == summary.r_at_10 == pytest.approx(1.0)
    assert summary.median_rank == pytest.approx(2.0)
    assert summary.num_queries == 4


def test_constant_scores_give_the_worst_rank() -> None:
    ranks = target_ranks(torch.zeros(2, 5), torch.tensor([0, 3]))
    assert ranks.tolist() == [5, 5]


def test_accuracy_ignores_unlabelled_items() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 0, -1])) == pytest.approx(0.5)
    assert accuracy(logits, torch.tensor([-1, -1, -1])) is None


def test_clip_rows_spread_over_the_tube_and_repeat_when_short() -> None:
    frame_idx = np.arange(0, 40, 2)  # sampled every other frame
    rows = clip_rows(frame_idx, (10, 30), 4)
    assert frame_idx[rows].tolist() == [10, 16, 22, 28]
    short = clip_rows(frame_idx, (10, 13), 4)
    assert set(frame_idx[short].tolist()) == {10, 12} and len(short) == 4
