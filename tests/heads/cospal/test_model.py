"""CoSPaL's model: score shapes, masking of absent tubelets and frames, the dynamics input."""

from __future__ import annotations

import torch

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.data import MOTION_DIM
from stvg.heads.cospal.model import NEG, build_model

B, K, T, D, L, CLIP = 3, 4, 5, 6, 7, 10


def _batch(clip_dim: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    present = torch.ones(B, K, T, dtype=torch.bool)
    present[0, 3] = False  # item 0 has only 3 tubelets
    present[1, :, 3:] = False  # item 1's clip ends after 3 frames
    return {
        "video_index": torch.arange(B),
        "words": torch.randn(B, L, D),
        "word_mask": torch.ones(B, L, dtype=torch.bool),
        "context": torch.randn(B, 2, D),
        "context_mask": torch.ones(B, 2, dtype=torch.bool),
        "appearance": torch.randn(B, K, T, D),
        "dynamics": torch.randn(B, K, T, MOTION_DIM + clip_dim),
        "present": present,
    }


def test_scores_cover_every_query_item_pair():
    config = CospalConfig(dim=8, heads=2)
    scores = build_model(D, MOTION_DIM + CLIP, config)(_batch(CLIP))
    assert scores.tpg.shape == (B, B, L, K)
    assert scores.crg.shape == (B, B, K)
    assert scores.frame_tpg.shape == scores.frame_crg.shape == (B, K, T)
    assert scores.tubelet_scores().shape == (B, B, K)
    assert scores.tubelet_valid[0].tolist() == [True, True, True, False]
    # cosines over the temperature are bounded by 1 / tau
    assert scores.tpg.abs().max() <= 1 / config.temperature + 1e-4


def test_frames_outside_the_clip_get_no_context_weight():
    scores = build_model(D, MOTION_DIM + CLIP, CospalConfig(dim=8, heads=2))(_batch(CLIP))
    assert (scores.frame_crg[1, :, 3:] == NEG).all()
    assert (scores.frame_crg[1, :, :3] > NEG).all()


def test_without_crg_there_is_no_referral_branch():
    model = build_model(D, MOTION_DIM, CospalConfig(dim=8, heads=2, crg=False))
    scores = model(_batch(0))
    assert scores.crg is None and scores.frame_crg is None
    assert not any(name.startswith("dynamics") for name, _ in model.named_parameters())


def test_dynamics_without_clip_features_use_the_motion_descriptors_alone():
    model = build_model(D, MOTION_DIM, CospalConfig(dim=8, heads=2))
    assert model.dynamics_proj.clip is None
    scores = model(_batch(0))
    assert torch.isfinite(scores.crg).all()


def test_a_tubelet_absent_from_every_frame_does_not_poison_the_batch():
    batch = _batch(CLIP)
    batch["present"][2] = False  # an item whose clip holds no tubelet at all
    scores = build_model(D, MOTION_DIM + CLIP, CospalConfig(dim=8, heads=2))(batch)
    assert torch.isfinite(scores.tpg).all() and torch.isfinite(scores.crg).all()
