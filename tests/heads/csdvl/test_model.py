"""CSDVL modules: shapes, masking of padded frames and tokens, the 2D-TAN map, and that each
ablation switch changes what it should."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from stvg.heads.csdvl.config import CSDVLConfig
from stvg.heads.csdvl.model import FeatureDims, build_csdvl
from stvg.heads.csdvl.model.dynamic_stream import STCMTLayer
from stvg.heads.csdvl.model.spatial_head import SpatialHead
from stvg.heads.csdvl.model.temporal_head import proposal_map, proposal_mask
from tests.heads.csdvl.fake_batch import make_batch

TINY = CSDVLConfig(
    d_model=16,
    num_layers=2,
    num_heads=2,
    ffn_dim=32,
    dropout=0.0,
    d_m=8,
    map_conv_layers=2,
    map_kernel=3,
)


def _model(config: CSDVLConfig = TINY, batch: dict | None = None, seed: int = 0):
    torch.manual_seed(seed)
    return build_csdvl(config, FeatureDims.of_batch(batch or make_batch())).eval()


FRAME_AXIS = ("frame_feats", "clip_feats", "frame_mask", "boxes", "box_mask", "frame_idx")
TOKEN_AXIS = ("text_feats", "text_mask", "token_ids")


def _slice(batch: dict, row: int, frames: int, tokens: int) -> dict:
    """Query ``row`` alone, cut to its real frames and tokens (no padding at all)."""
    out = {key: value[row : row + 1] for key, value in batch.items()}
    out.update({key: batch[key][row : row + 1, :frames] for key in FRAME_AXIS})
    out.update({key: batch[key][row : row + 1, :tokens] for key in TOKEN_AXIS})
    return out


def test_output_shapes():
    batch = make_batch(lengths=(6, 4), grid=(3, 2))
    outputs = _model(batch=batch)(batch)
    assert outputs["boxes"].shape == (2, 6, 4)
    assert outputs["score_logits"].shape == (2, 6, 6)
    assert outputs["frame_logits"].shape == (2, 6)
    assert outputs["static_attention"].shape == (TINY.num_layers, 2, 6, 6)
    assert ((outputs["boxes"] > 0) & (outputs["boxes"] < 1)).all()
    assert outputs["d2s_attention"].shape == (TINY.num_layers, 2, 6, 6)
    assert "d2s_attention" not in _model(dataclasses.replace(TINY, d2s=False), batch)(batch)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"fusion": "none"},
        {"fusion": "concat-fc"},
        {"dynamic_spatial": False},
        {"dynamic_mean_pool": False},
        {"anchor": "none"},
        {"anchor": "static+d2s"},
    ],
)
def test_padding_does_not_change_real_outputs(overrides):
    config = dataclasses.replace(TINY, **overrides)
    batch = make_batch(lengths=(7, 4), text_lengths=(5, 2))
    model = _model(config, batch)
    padded = model(batch)
    alone = model(_slice(batch, 1, frames=4, tokens=2))
    torch.testing.assert_close(padded["boxes"][1, :4], alone["boxes"][0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        padded["score_logits"][1, :4, :4][proposal_mask(alone["proposal_mask"].new_ones(1, 4))[0]],
        alone["score_logits"][0][alone["proposal_mask"][0]],
        atol=1e-5,
        rtol=1e-4,
    )
    torch.testing.assert_close(
        padded["frame_logits"][1, :4], alone["frame_logits"][0], atol=1e-5, rtol=1e-4
    )


def test_proposal_map_is_mean_over_span_and_zero_below_diagonal():
    features = torch.arange(12, dtype=torch.float32).reshape(1, 4, 3)  # (B, T, C)
    frame_mask = torch.tensor([[True, True, True, False]])
    grid = proposal_map(features, frame_mask)  # (B, C, T, T)
    torch.testing.assert_close(grid[0, :, 0, 2], features[0, 0:3].mean(0))
    torch.testing.assert_close(grid[0, :, 1, 1], features[0, 1])
    assert (grid[0, :, 2, 0] == 0).all()  # i > j
    assert (grid[0, :, 0, 3] == 0).all()  # reaches a padded frame
    mask = proposal_mask(frame_mask)[0]
    assert mask.sum() == 6 and not mask[1, 0] and not mask[3, 3]


def _change(batch: dict, key: str) -> dict:
    changed = dict(batch)
    changed[key] = batch[key] + torch.randn_like(batch[key])
    return changed


def test_without_s2d_temporal_scores_ignore_the_static_stream():
    batch = make_batch()
    for config, ignores in (
        (dataclasses.replace(TINY, s2d=False), True),
        (TINY, False),
    ):
        model = _model(config, batch)
        before = model(batch)["score_logits"]
        after = model(_change(batch, "frame_feats"))["score_logits"]
        assert torch.allclose(before, after) == ignores


def test_without_d2s_boxes_ignore_the_dynamic_stream():
    batch = make_batch()
    for config, ignores in (
        (dataclasses.replace(TINY, d2s=False), True),
        (TINY, False),
    ):
        model = _model(config, batch)
        before = model(batch)["boxes"]
        after = model(_change(batch, "clip_feats"))["boxes"]
        assert torch.allclose(before, after) == ignores


def test_exchange_switched_off_keeps_the_full_model_s_streams_apart():
    batch = make_batch()
    model = _model(TINY, batch)
    model.exchange_on = False  # a warm start's first epochs
    outputs = model(batch)
    torch.testing.assert_close(outputs["boxes"], model(_change(batch, "clip_feats"))["boxes"])
    torch.testing.assert_close(
        outputs["score_logits"], model(_change(batch, "frame_feats"))["score_logits"]
    )


@pytest.mark.parametrize("fusion", ["sum", "fc-sum", "concat-fc"])
def test_symmetric_fusions_exchange_both_ways(fusion):
    batch = make_batch()
    model = _model(dataclasses.replace(TINY, fusion=fusion), batch)
    outputs = model(batch)
    assert not torch.allclose(outputs["boxes"], model(_change(batch, "clip_feats"))["boxes"])
    changed = model(_change(batch, "frame_feats"))
    assert not torch.allclose(outputs["score_logits"], changed["score_logits"])


def test_no_fusion_keeps_streams_apart():
    batch = make_batch()
    model = _model(dataclasses.replace(TINY, fusion="none"), batch)
    outputs = model(batch)
    torch.testing.assert_close(outputs["boxes"], model(_change(batch, "clip_feats"))["boxes"])
    torch.testing.assert_close(
        outputs["score_logits"], model(_change(batch, "frame_feats"))["score_logits"]
    )


def test_without_spatial_the_dynamic_stream_ignores_where_things_are():
    batch = make_batch(grid=(2, 2))
    config = dataclasses.replace(TINY, dynamic_spatial=False, fusion="none")
    model = _model(config, batch)
    shuffled = dict(batch)
    shuffled["clip_feats"] = batch["clip_feats"].flip(2, 3)  # move features across positions
    torch.testing.assert_close(
        model(batch)["score_logits"], model(shuffled)["score_logits"], atol=1e-5, rtol=1e-4
    )
    spatial = _model(dataclasses.replace(config, dynamic_spatial=True), batch)
    assert not torch.allclose(spatial(batch)["score_logits"], spatial(shuffled)["score_logits"])


def test_mean_pool_switch_sets_what_the_text_attends():
    layer_config = dataclasses.replace(TINY, dynamic_mean_pool=True)
    visual = torch.randn(2, 3, 4, TINY.d_model)  # (B, T, S, d)
    frame_mask = torch.ones(2, 3, dtype=torch.bool)
    keys, mask = STCMTLayer(layer_config)._visual_keys(visual, frame_mask)
    assert keys.shape == (2, 3, TINY.d_model) and mask.shape == (2, 3)
    no_pool = dataclasses.replace(TINY, dynamic_mean_pool=False)
    keys, mask = STCMTLayer(no_pool)._visual_keys(visual, frame_mask)
    assert keys.shape == (2, 12, TINY.d_model) and mask.shape == (2, 12)


def test_d2s_anchor_moves_the_box_only_where_d2s_runs():
    batch = make_batch()
    for overrides, moves in (
        ({}, True),
        ({"d2s": False}, False),
        ({"fusion": "none"}, False),
        ({"fusion": "sum"}, False),
    ):
        config = dataclasses.replace(TINY, anchor="static", **overrides)
        plain = _model(config, batch)(batch)["boxes"]
        anchored = _model(dataclasses.replace(config, anchor="static+d2s"), batch)
        assert (not torch.allclose(plain, anchored(batch)["boxes"])) == moves, overrides
        anchored.exchange_on = False  # warm-up: no d2s attention to read
        off = _model(config, batch)
        off.exchange_on = False
        torch.testing.assert_close(anchored(batch)["boxes"], off(batch)["boxes"])


def test_static_attention_is_a_distribution_over_positions_and_text():
    batch = make_batch()
    attention = _model(batch=batch)(batch)["static_attention"]
    assert (attention >= 0).all()
    assert (attention.sum(-1) <= 1 + 1e-5).all()


def test_config_rejects_unknown_fusion_and_names_variants():
    with pytest.raises(ValueError, match="fusion"):
        CSDVLConfig(fusion="avg")
    assert CSDVLConfig().variant_name() == "s2d+d2s"
    assert CSDVLConfig(s2d=False, d2s=False).variant_name() == "none"
    assert CSDVLConfig(s2d=False).variant_name() == "d2s"
    assert CSDVLConfig(fusion="sum").variant_name() == "fusion=sum"
    with pytest.raises(ValueError, match="anchor"):
        CSDVLConfig(anchor="d2s")


def test_a_non_default_anchor_is_part_of_the_variant_name_where_it_changes_the_model():
    assert CSDVLConfig(anchor="static+d2s").variant_name() == "s2d+d2s[anchor=static+d2s]"
    assert CSDVLConfig(anchor="static+d2s", d2s=False).variant_name() == "s2d"  # no effect
    assert CSDVLConfig(anchor="none", fusion="none").variant_name() == "none[anchor=none]"


def test_the_paper_anchor_is_a_plain_mlp_on_the_queries():
    head = SpatialHead(TINY.d_model)
    queries = torch.randn(2, 3, TINY.d_model)
    torch.testing.assert_close(head(queries, None), head.mlp(queries).sigmoid())
    batch = make_batch()
    plain = _model(dataclasses.replace(TINY, anchor="none"), batch)(batch)["boxes"]
    anchored = _model(TINY, batch)(batch)["boxes"]  # same seeded weights, static anchor
    assert not torch.allclose(plain, anchored)
    assert CSDVLConfig(dynamic_spatial=False).variant_name() == "s2d+d2s+no-spatial"
