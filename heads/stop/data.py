"""STOP's benchmark units read from the cache: one clip per distinct query tube, its sentences,
and, where labels are given (``heads.stop.labels``), the class of each clip.

Retrieval unit: the clip of a query is its video's sampled frames inside the GT tube
[tube_start, tube_end), uniformly subsampled to ``frames`` rows (whole frames, not crops).
Queries posed on the same tube share one clip (the gallery holds each tube once). Other phases
of the same video show the same objects doing other motions, so telling the right clip from
them needs the dynamics, not appearance alone.

A clip's class is the one all its queries carry; a clip whose queries carry different classes
(several queried objects in one phase) or none gets -1 and is left out of classification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from stvg.heads.stop.labels import ClassLabels
from stvg.stvgdata.cache import ShardReader, manifest_rows
from stvg.stvgdata.catalog import connect, fetch_arrow
from stvg.stvgdata.errors import BadInputError
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
    description: str  # fingerprint description of the cached vit tokens
    frame_size: tuple[int, int]  # (H, W) the frames were resized to before the ViT


def _queries(ws: Workspace, dataset: str, split: str) -> list[dict]:
    con = connect(ws)
    try:
        return fetch_arrow(
            con,
            "SELECT query_id, video_id, sentence, tube_start_frame, tube_end_frame FROM queries "
            "WHERE dataset = ? AND split = ? ORDER BY query_id",
            [dataset, split],
        ).to_pylist()
    finally:
        con.close()


def _rows_by_item(ws: Workspace, dataset: str, model: str, key: str) -> dict[str, dict]:
    rows = manifest_rows(ws, dataset, model).to_pylist()
    fingerprints = {row["fingerprint"] for row in rows}
    if len(fingerprints) > 1:
        raise BadInputError(
            ws.features_dir, f"{dataset}/{model}", f"mixed fingerprints {sorted(fingerprints)}"
        )
    return {row[key]: row for row in rows}


def frame_size(description: str) -> tuple[int, int]:
    """(H, W) of the frames, from the fingerprint's preprocessing field ``resize HxW``."""
    found = re.search(r"resize (\d+)x(\d+)", description)
    if found is None:
        raise BadInputError("vit cache", None, f"no frame size in its fingerprint: {description}")
    return int(found.group(1)), int(found.group(2))


def load_split(
    ws: Workspace, dataset: str, split: str, frames: int, labels: ClassLabels | None = None
) -> RetrievalSplit:
    """Clips, sentences and (with ``labels``) clip classes of ``dataset``/``split`` from the
    cached vit and roberta features (both must be extracted for every query of the split)."""
    queries = _queries(ws, dataset, split)
    if not queries:
        raise BadInputError(ws.catalog_dir, f"{dataset}/{split}", "no queries in this split")
    videos = _rows_by_item(ws, dataset, VIDEO_MODEL, "video_id")
    texts = _rows_by_item(ws, dataset, TEXT_MODEL, "query_id")
    for model, cached, key in ((VIDEO_MODEL, videos, "video_id"), (TEXT_MODEL, texts, "query_id")):
        absent = next((q[key] for q in queries if q[key] not in cached), None)
        if absent is not None:
            raise BadInputError(
                ws.features_dir,
                f"{dataset}/{model}/{absent}",
                f"not cached; run `stvg extract --features {model}`",
            )
    reader = ShardReader(ws.features_dir, verify_checksums=False)
    try:
        clip_index: dict[tuple[str, int, int], int] = {}
        clips, clip_labels, target, text = [], [], [], []
        for query in queries:
            key = (query["video_id"], query["tube_start_frame"], query["tube_end_frame"])
            label = -1 if labels is None else labels.label(query["query_id"], query["sentence"])
            if key not in clip_index:
                row = videos[key[0]]
                rows = clip_rows(np.asarray(row["frame_idx"]), key[1:], frames)
                clip_index[key] = len(clips)
                clips.append(
                    reader.read(row, np.unique(rows))[np.searchsorted(np.unique(rows), rows)]
                )
                clip_labels.append(label)
            elif clip_labels[clip_index[key]] != label:
                clip_labels[clip_index[key]] = -1
            target.append(clip_index[key])
            text.append(reader.read(texts[query["query_id"]]))
        description = reader.description(next(iter(videos.values())))
    finally:
        reader.close()
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
        description=description,
        frame_size=frame_size(description),
    )
