"""Batches in the layout of ``schemas/batch.py`` built from random numbers, for head tests."""

from __future__ import annotations

import torch


def make_batch(
    lengths: tuple[int, ...] = (6, 4),
    text_lengths: tuple[int, ...] = (5, 3),
    max_frames: int | None = None,
    max_tokens: int | None = None,
    grid: tuple[int, int] = (3, 3),
    dims: tuple[int, int, int] = (12, 10, 8),
    seed: int = 0,
) -> dict:
    """B = len(lengths) queries with the given real frame / token counts, padded to the max.

    Each query's tube covers the middle third of its real frames; GT boxes are random but valid.
    """
    gen = torch.Generator().manual_seed(seed)
    b = len(lengths)
    t = max_frames or max(lengths)
    length = max_tokens or max(text_lengths)
    h, w = grid
    frame_mask = torch.arange(t)[None] < torch.tensor(lengths)[:, None]
    text_mask = torch.arange(length)[None] < torch.tensor(text_lengths)[:, None]
    tube = torch.tensor([[n // 3, max(n // 3 + 1, 2 * n // 3)] for n in lengths])
    index = torch.arange(t)[None]
    box_mask = (index >= tube[:, :1]) & (index < tube[:, 1:])
    centre = 0.3 + 0.4 * torch.rand(b, t, 2, generator=gen)
    size = 0.1 + 0.3 * torch.rand(b, t, 2, generator=gen)
    boxes = torch.cat([centre, size], dim=-1) * box_mask[..., None]
    frame_idx = torch.where(frame_mask, index * 5 + 10, torch.full_like(index, -1))
    return {
        "frame_feats": torch.randn(b, t, h, w, dims[0], generator=gen),
        "clip_feats": torch.randn(b, t, h, w, dims[1], generator=gen),
        "frame_mask": frame_mask,
        "text_feats": torch.randn(b, length, dims[2], generator=gen),
        "text_mask": text_mask,
        "token_ids": torch.zeros(b, length, dtype=torch.int64),
        "boxes": boxes,
        "box_mask": box_mask,
        "tube": tube,
        "frame_idx": frame_idx,
        "image_size": torch.tensor([[320.0, 240.0]] * b),
        "fps": torch.full((b,), 5.0),
        "query_id": [f"q{i}" for i in range(b)],
        "video_id": [f"v{i}" for i in range(b)],
        "sentence_type": ["declarative"] * b,
    }


def split_queries(batch: dict) -> list[dict]:
    """One single-query batch per row (items of a fake dataset)."""
    rows = len(batch["query_id"])
    return [{key: value[row : row + 1] for key, value in batch.items()} for row in range(rows)]


def concat_queries(items: list[dict]) -> dict:
    """Collate single-query batches of equal length (what the cache loader does, minus padding)."""
    return {
        key: torch.cat([item[key] for item in items])
        if isinstance(items[0][key], torch.Tensor)
        else [value for item in items for value in item[key]]
        for key in items[0]
    }
