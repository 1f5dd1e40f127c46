"""From model outputs on the frame axis to absolute frames and pixel boxes."""

from __future__ import annotations

import numpy as np
import torch

from stvg.heads.csdvl.engine import outputs_to_predictions, predicted_spans, span_end_frame
from stvg.heads.csdvl.model.temporal_head import proposal_mask


def test_span_end_is_the_next_sampled_frame_or_one_stride_past_the_last():
    frame_idx = np.array([10, 16, 22, 28])
    assert span_end_frame(frame_idx, 1) == 22
    assert span_end_frame(frame_idx, 3) == 34
    assert span_end_frame(np.array([7]), 0) == 8


def test_argmax_only_among_real_proposals():
    frame_mask = torch.tensor([[True, True, True, False]])
    logits = torch.zeros(1, 4, 4)
    logits[0, 2, 1] = 9  # i > j
    logits[0, 1, 3] = 9  # reaches the padded frame
    logits[0, 0, 1] = 5
    spans = predicted_spans(logits, proposal_mask(frame_mask))
    assert spans.tolist() == [[0, 2]]


def test_outputs_become_absolute_frames_and_pixel_boxes():
    frame_mask = torch.tensor([[True, True, True, False]])
    logits = torch.zeros(1, 4, 4)
    logits[0, 1, 2] = 3  # sampled frames 1..2
    outputs = {
        "score_logits": logits,
        "proposal_mask": proposal_mask(frame_mask),
        "boxes": torch.tensor([[[0.5, 0.5, 0.5, 0.5]] * 4]),
    }
    batch = {
        "frame_mask": frame_mask,
        "frame_idx": torch.tensor([[0, 6, 12, -1]]),
        "image_size": torch.tensor([[200.0, 100.0]]),
        "query_id": ["q"],
    }
    (prediction,) = outputs_to_predictions(outputs, batch)
    assert (prediction.start_frame, prediction.end_frame) == (6, 18)
    assert prediction.frame_idx.tolist() == [0, 6, 12]
    np.testing.assert_allclose(prediction.boxes[0], [50, 25, 150, 75])
