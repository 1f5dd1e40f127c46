"""The epoch order of STOP's training clips: random, or grouped by video (``video_batches``)."""

from __future__ import annotations

import torch

from stvg.heads.stop.train import clip_order

KEYS = [("b", 0, 5), ("a", 0, 5), ("c", 2, 9), ("a", 5, 9), ("b", 5, 9), ("a", 9, 12), ("c", 9, 14)]


def _videos_in_order(order: torch.Tensor) -> list[str]:
    return [KEYS[i][0] for i in order.tolist()]


def test_grouped_order_keeps_each_videos_clips_together() -> None:
    for seed in range(5):
        order = clip_order(KEYS, True, torch.Generator().manual_seed(seed))
        assert sorted(order.tolist()) == list(range(len(KEYS)))
        videos = _videos_in_order(order)
        runs = [v for i, v in enumerate(videos) if i == 0 or videos[i - 1] != v]
        assert sorted(runs) == ["a", "b", "c"], videos  # one contiguous run per video


def test_grouped_order_shuffles_videos_and_clips_within_them() -> None:
    orders = {
        tuple(clip_order(KEYS, True, torch.Generator().manual_seed(s)).tolist()) for s in range(20)
    }
    assert len({tuple(dict.fromkeys(KEYS[i][0] for i in o)) for o in orders}) > 1
    a_orders = {tuple(i for i in o if KEYS[i][0] == "a") for o in orders}
    assert len(a_orders) > 1


def test_random_order_is_a_seeded_permutation() -> None:
    first = clip_order(KEYS, False, torch.Generator().manual_seed(3))
    again = clip_order(KEYS, False, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    assert sorted(first.tolist()) == list(range(len(KEYS)))
