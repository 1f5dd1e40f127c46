"""One training epoch and one prediction pass over batches of ``schemas/batch.py``.

Predictions leave the frame axis here: the argmax proposal (i, j) of the 2D-TAN score map
covers sampled frames i..j, and becomes the absolute tube [frame_idx[i], end) where ``end`` is
the end of sampled frame j's span: the next sampled frame's index frame_idx[j + 1], or, for the
last real frame, frame_idx[j] plus the previous sampling stride (1 for a single frame). Boxes
become pixel xyxy on every real sampled frame (the evaluator reads those inside the tube for
vIoU and those on GT frames for sIoU).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.losses import csdvl_losses
from stvg.heads.eval.box_ops import cxcywh_to_xyxy
from stvg.heads.eval.predictions import QueryPrediction
from stvg.stvgdata.progress import ProgressFn, no_progress


def to_device(batch: dict, device: torch.device | str) -> dict:
    """Move the tensors of a batch (lists of ids stay as they are)."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def train_one_epoch(
    model: nn.Module,
    batches: Iterable[dict],
    optimizer: torch.optim.Optimizer,
    config: CSDVLConfig,
    grad_clip: float,
    device: torch.device | str = "cpu",
    progress: ProgressFn = no_progress,
    task: str = "train",
    num_batches: int | None = None,
) -> dict[str, float]:
    """Train on every batch once; returns the mean of each loss term."""
    model.train()
    sums: dict[str, float] = {}
    count = 0
    for count, batch in enumerate(batches, start=1):
        batch = to_device(batch, device)
        losses = csdvl_losses(model(batch), batch, config)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        if grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        for name, value in losses.items():
            sums[name] = sums.get(name, 0.0) + float(value.detach())
        progress(task, count, num_batches, loss=sums["total"] / count)
    return {name: total / max(count, 1) for name, total in sums.items()}


def predicted_spans(score_logits: torch.Tensor, proposal_mask: torch.Tensor) -> torch.Tensor:
    """Argmax real proposal of each query -> (B, 2) [start, end) on the frame axis."""
    b, t, _ = score_logits.shape
    scores = score_logits.masked_fill(~proposal_mask, float("-inf")).reshape(b, t * t)
    best = scores.argmax(dim=1)
    return torch.stack([best // t, best % t + 1], dim=1)


def span_end_frame(frame_idx: np.ndarray, last: int) -> int:
    """Absolute end (exclusive) of the span of sampled frame ``last`` (see module doc)."""
    if last + 1 < len(frame_idx):
        return int(frame_idx[last + 1])
    stride = int(frame_idx[last] - frame_idx[last - 1]) if last > 0 else 1
    return int(frame_idx[last]) + stride


def outputs_to_predictions(outputs: dict[str, torch.Tensor], batch: dict) -> list[QueryPrediction]:
    """Model outputs on the frame axis -> absolute frames and pixel boxes, one per query."""
    spans = predicted_spans(outputs["score_logits"], outputs["proposal_mask"]).cpu().numpy()
    boxes = cxcywh_to_xyxy(outputs["boxes"].float()).cpu().numpy()  # (B, T, 4) in [0, 1]
    frame_mask = batch["frame_mask"].cpu().numpy()
    sizes = batch["image_size"].cpu().numpy()  # (B, 2) width, height
    all_frame_idx = batch["frame_idx"].cpu().numpy()
    predictions = []
    for row, query_id in enumerate(batch["query_id"]):
        frame_idx = all_frame_idx[row][frame_mask[row]]
        pixel = boxes[row][frame_mask[row]] * np.tile(sizes[row], 2)
        start, end = spans[row]
        predictions.append(
            QueryPrediction(
                query_id=query_id,
                start_frame=int(frame_idx[start]),
                end_frame=span_end_frame(frame_idx, int(end) - 1),
                frame_idx=frame_idx,
                boxes=pixel,
            )
        )
    return predictions


@torch.no_grad()
def predict(
    model: nn.Module,
    batches: Iterable[dict],
    device: torch.device | str = "cpu",
    progress: ProgressFn = no_progress,
    task: str = "predict",
    num_batches: int | None = None,
) -> dict[str, QueryPrediction]:
    """Predictions of every query, keyed by query id."""
    model.eval()
    result: dict[str, QueryPrediction] = {}
    for count, batch in enumerate(batches, start=1):
        batch = to_device(batch, device)
        for prediction in outputs_to_predictions(model(batch), batch):
            result[prediction.query_id] = prediction
        progress(task, count, num_batches)
    return result
