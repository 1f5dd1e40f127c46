"""STOP's benchmark units read from the cache: one clip per distinct query tube, its sentences,
and, where labels are given (``heads.stop.labels``), the class of each clip. Rows are resolved,
checked and read through ``stvgdata.query_features``; this module only arranges them.

Retrieval unit: the clip of a query is its video's sampled frames inside the GT tube
[tube_start, tube_end), uniformly subsampled to ``frames`` rows (whole frames, not crops).
Queries posed on the same tube share one clip (the gallery holds each tube once). Other phases
of the same video show the same objects doing other motions, so telling the right clip from
them needs the dynamics, not appearance alone.

A clip's class is the one all its queries carry; a clip whose queries carry different classes
(several queried objects in one phase) or none gets -1 and is left out of classification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from stvg.heads.stop.labels import ClassLabels
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.query_features import (
    STALE_CHECK_COLUMNS,
    FeatureRows,
    query_rows,
)
from stvg.stvgdata.workspace import Workspace

VIDEO_MODEL, TEXT_MODEL = "vit", "roberta"


def clip_rows(frame_idx: np.ndarray, tube: tuple[int, int], frames: int) -> np.ndarray:
    """``frames`` positions (rows of the video's timeline) spread uniformly over the sampled
    frames inside the half-open ``tube``; rows repeat when the tube has fewer."""
    inside = np.flatnonzero((frame_idx >= tube[0]) & (frame_idx < tube[1]))
    if len(inside) == 0:
        inside = np.array([int(np.argmin(np.abs(frame_idx - tube[0])))])
    picks = np.linspace(0, len(inside) - 1, frames).round().astype(np.int64)
    return inside[picks]


@dataclass
class RetrievalSplit:
    """A split as retrieval and classification data, all in memory.

    ``clips`` (G, T, 1 + P, C) float16 cached vit tokens; ``clip_labels`` (G,) index in
    ``classes`` or -1; ``clip_keys`` (video_id, tube_start, tube_end); ``text`` (Q, L, C)
    float32 cached text tokens zero-padded, ``text_mask`` (Q, L) bool; ``target`` (Q,) clip of
    each sentence."""

    clips: torch.Tensor
    clip_labels: torch.Tensor
    classes: tuple[str, ...]  # empty without labels (retrieval only)
    clip_keys: list[tuple[str, int, int]]
    text: torch.Tensor
    text_mask: torch.Tensor
    target: torch.Tensor
    query_ids: list[str]
    cached_config: dict  # the extractor config of the cached vit tokens (manifest column)
    frame_size: tuple[int, int]  # (H, W) the frames were resized to before the ViT


QUERY_COLUMNS = ("q.query_id", "q.video_id", "q.tube_start_frame", "q.tube_end_frame",
                 *STALE_CHECK_COLUMNS)  # fmt: skip


def load_split(
    ws: Workspace, dataset: str, split: str, frames: int, labels: ClassLabels | None = None
) -> RetrievalSplit:
    """Clips, sentences and (with ``labels``) clip classes of ``dataset``/``split`` from the
    cached vit and roberta features (both must be extracted for every query of the split)."""
    queries = query_rows(ws, dataset, split, QUERY_COLUMNS)
    if not queries:
        raise BadInputError(ws.catalog_dir, f"{dataset}/{split}", "no queries in this split")
    features = FeatureRows(ws, dataset, (VIDEO_MODEL, TEXT_MODEL), queries, cache_bytes=0)
    try:
        videos = [features.require(VIDEO_MODEL, query) for query in queries]
        texts = [features.require(TEXT_MODEL, query) for query in queries]
        clip_index: dict[tuple[str, int, int], int] = {}
        clips, clip_labels, target, text = [], [], [], []
        for query, row, text_row in zip(queries, videos, texts, strict=True):
            key = (query["video_id"], query["tube_start_frame"], query["tube_end_frame"])
            label = -1 if labels is None else labels.label(query["query_id"], query["sentence"])
            if key not in clip_index:
                rows = clip_rows(np.asarray(row["frame_idx"]), key[1:], frames)
                clip_index[key] = len(clips)
                clips.append(
                    features.read(row, np.unique(rows))[np.searchsorted(np.unique(rows), rows)]
                )
                clip_labels.append(label)
            elif clip_labels[clip_index[key]] != label:
                clip_labels[clip_index[key]] = -1
            target.append(clip_index[key])
            text.append(features.read(text_row))
        cached = features.config(videos[0])
        size = features.frame_size(videos[0])
    finally:
        features.close()
    length = max(len(t) for t in text)
    padded = np.zeros((len(text), length, text[0].shape[1]), np.float32)
    for i, tokens in enumerate(text):
        padded[i, : len(tokens)] = tokens
    lengths = torch.tensor([len(t) for t in text])
    return RetrievalSplit(
        clips=torch.from_numpy(np.stack(clips)).to(torch.float16),
        clip_labels=torch.tensor(clip_labels, dtype=torch.int64),
        classes=() if labels is None else labels.classes,
        clip_keys=list(clip_index),
        text=torch.from_numpy(padded),
        text_mask=torch.arange(length)[None, :] < lengths[:, None],
        target=torch.tensor(target, dtype=torch.int64),
        query_ids=[q["query_id"] for q in queries],
        cached_config=cached,
        frame_size=size,
    )
