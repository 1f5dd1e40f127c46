"""CSDVL training losses (paper Eq. 4-5): L = l1 * L1 + l2 * GIoU (boxes of GT frames)
+ l3 * 2D-TAN scaled-IoU BCE (score map) + l4 * temporal attentive loss (per-frame scores).

All terms read the batch of ``schemas/batch.py``: boxes / box_mask for the spatial terms, the
tube [start, end) on the frame axis and frame_mask for the temporal ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.eval.box_ops import cxcywh_to_xyxy, generalized_box_iou


def box_losses(
    pred: torch.Tensor, target: torch.Tensor, box_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """L1 and 1 - GIoU, averaged over GT frames. pred/target (B, T, 4) cxcywh, box_mask (B, T)."""
    count = box_mask.sum().clamp(min=1)
    l1 = (pred - target).abs().sum(-1)[box_mask].sum() / count
    giou = generalized_box_iou(cxcywh_to_xyxy(pred), cxcywh_to_xyxy(target))
    return l1, (1 - giou)[box_mask].sum() / count


def proposal_iou(tube: torch.Tensor, num_frames: int) -> torch.Tensor:
    """tIoU of every proposal [i, j + 1) with the GT tube [start, end): tube (B, 2) -> (B, T, T).

    Entries with i > j are meaningless (masked by callers)."""
    index = torch.arange(num_frames, device=tube.device, dtype=torch.float32)
    starts = index[None, :, None]
    ends = index[None, None, :] + 1
    gt_start = tube[:, 0].float()[:, None, None]
    gt_end = tube[:, 1].float()[:, None, None]
    inter = (torch.minimum(ends, gt_end) - torch.maximum(starts, gt_start)).clamp(min=0)
    union = torch.maximum(ends, gt_end) - torch.minimum(starts, gt_start)
    return inter / union.clamp(min=1)


def scaled_iou(iou: torch.Tensor, iou_min: float, iou_max: float) -> torch.Tensor:
    """2D-TAN's soft target: 0 below iou_min, 1 above iou_max, linear between."""
    return ((iou - iou_min) / (iou_max - iou_min)).clamp(0, 1)


def temporal_grounding_loss(
    score_logits: torch.Tensor,
    mask: torch.Tensor,
    tube: torch.Tensor,
    iou_min: float,
    iou_max: float,
) -> torch.Tensor:
    """BCE between the score map and the scaled IoU map, over real proposals (B, T, T)."""
    target = scaled_iou(proposal_iou(tube, score_logits.shape[1]), iou_min, iou_max)
    bce = F.binary_cross_entropy_with_logits(score_logits, target, reduction="none")
    return bce[mask].mean()


def temporal_attentive_loss(
    frame_logits: torch.Tensor, frame_mask: torch.Tensor, tube: torch.Tensor
) -> torch.Tensor:
    """Frames inside the tube should score high, frames outside low: BCE per real frame,
    balanced so inside and outside frames weigh the same for each query."""
    index = torch.arange(frame_logits.shape[1], device=frame_logits.device)
    inside = (index[None] >= tube[:, :1]) & (index[None] < tube[:, 1:]) & frame_mask
    outside = frame_mask & ~inside
    bce = F.binary_cross_entropy_with_logits(frame_logits, inside.float(), reduction="none")
    per_query = (bce * inside).sum(1) / inside.sum(1).clamp(min=1) + (bce * outside).sum(
        1
    ) / outside.sum(1).clamp(min=1)
    return per_query.mean() / 2


def csdvl_losses(
    outputs: dict[str, torch.Tensor], batch: dict, config: CSDVLConfig
) -> dict[str, torch.Tensor]:
    """Each term and their weighted sum ``total``."""
    l1, giou = box_losses(outputs["boxes"], batch["boxes"], batch["box_mask"])
    tg = temporal_grounding_loss(
        outputs["score_logits"],
        outputs["proposal_mask"],
        batch["tube"],
        config.iou_min,
        config.iou_max,
    )
    ta = temporal_attentive_loss(outputs["frame_logits"], batch["frame_mask"], batch["tube"])
    total = (
        config.loss_l1 * l1 + config.loss_giou * giou + config.loss_tg * tg + config.loss_ta * ta
    )
    return {"l1": l1, "giou": giou, "tg": tg, "ta": ta, "total": total}
