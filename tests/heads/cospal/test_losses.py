"""CoSPaL's losses on constructed scores: the right pairing must cost less than the wrong one."""

from __future__ import annotations

import math

import pytest
import torch

from stvg.heads.cospal.losses import attention_pool, crg_loss, tpg_loss, video_contrastive
from stvg.heads.cospal.model import CospalScores


def test_video_contrastive_is_low_for_matching_pairs_and_log_b_at_chance():
    index = torch.tensor([0, 1, 2])
    matched = video_contrastive(10 * torch.eye(3), index)
    swapped = video_contrastive(10 * torch.eye(3)[[1, 2, 0]], index)
    assert matched.item() < 1e-3 < math.log(3) < swapped.item()
    assert video_contrastive(torch.zeros(3, 3), index).item() == pytest.approx(math.log(3))


def test_queries_on_one_video_are_positives_of_each_other():
    index = torch.tensor([0, 0, 1])
    logits = torch.tensor([[0.0, 5.0, -5.0], [5.0, 0.0, -5.0], [-5.0, -5.0, 5.0]])
    # query 0's best item is query 1's (same video): no penalty for it
    assert video_contrastive(logits, index).item() < 0.05


def test_attention_pool_ignores_masked_items_and_favours_the_best():
    logits = torch.tensor([[1.0, 5.0, 100.0]])
    valid = torch.tensor([[True, True, False]])
    pooled = attention_pool(logits, valid).item()
    assert 4.9 < pooled < 5.0


def _scores(tpg: torch.Tensor, crg: torch.Tensor | None = None) -> CospalScores:
    b, _, words, k = tpg.shape
    return CospalScores(
        tpg=tpg,
        tubelet_valid=torch.ones(b, k, dtype=torch.bool),
        word_mask=torch.ones(b, words, dtype=torch.bool),
        frame_tpg=torch.zeros(b, k, 1),
        crg=crg,
    )


def _tpg_where_one_tubelet_matches(own: bool) -> torch.Tensor:
    """(2, 2, L=2, K=2) word-tubelet logits: each query's words match one tubelet of its own
    video (own=True) or of the other video (own=False), and nothing else."""
    tpg = torch.zeros(2, 2, 2, 2)
    for i in range(2):
        tpg[i, i if own else 1 - i, :, 1] = 8.0
    return tpg


def test_tpg_loss_rewards_words_that_find_a_tubelet_in_their_own_video():
    index = torch.tensor([0, 1])
    right = tpg_loss(_scores(_tpg_where_one_tubelet_matches(True)), index)
    wrong = tpg_loss(_scores(_tpg_where_one_tubelet_matches(False)), index)
    assert right.item() < 0.1 and wrong.item() > 3


def test_crg_adds_context_evidence_to_the_tubelet_scores():
    index = torch.tensor([0, 1])
    flat = torch.zeros(2, 2, 2, 2)
    crg = torch.zeros(2, 2, 2)
    crg[0, 0, 0] = crg[1, 1, 1] = 8.0  # the context matches a tubelet of the own video
    assert crg_loss(_scores(flat, crg), index).item() < 0.1
    assert crg_loss(_scores(flat, crg.flip(1)), index).item() > 3
    combined = _scores(flat, crg).tubelet_scores()
    torch.testing.assert_close(combined, crg)
