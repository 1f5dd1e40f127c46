"""STOP's evaluation of a split: text-to-clip retrieval (R@K, median rank) and motion
accuracy of the clips; it predicts no tubes."""

from __future__ import annotations

import torch

from stvg.heads.eval.retrieval import RetrievalSummary, accuracy, retrieval_summary
from stvg.heads.stop.data import RetrievalSplit
from stvg.heads.stop.model import StopModel

EVAL_BATCH = 64  # clips per forward at evaluation


@torch.no_grad()
def evaluate_split(model: StopModel, data: RetrievalSplit) -> tuple[RetrievalSummary, float | None]:
    """Text-to-video retrieval over the split's clips, and motion accuracy of its clips."""
    model.eval()
    device = next(model.video_proj.parameters()).device
    videos = torch.cat(
        [
            model.encode_video(data.clips[start : start + EVAL_BATCH].to(device, torch.float32))
            for start in range(0, len(data.clips), EVAL_BATCH)
        ]
    )
    text = model.encode_text(data.text.to(device), data.text_mask.to(device))
    summary = retrieval_summary(text @ videos.T, data.target.to(device))
    return summary, accuracy(model.classify(videos).cpu(), data.clip_labels)
