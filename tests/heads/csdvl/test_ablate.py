"""Ablation variants map onto configuration switches; results aggregate over seeds."""

from __future__ import annotations

from stvg.heads.csdvl.ablate import selected_variants, table3_variants
from stvg.heads.csdvl.config import CSDVLConfig


def test_no_flags_give_table3_in_paper_order_and_names_match_the_config():
    variants = selected_variants()
    assert [v.name for v in variants] == ["none", "d2s", "s2d", "s2d+d2s"]
    assert [v.apply(CSDVLConfig()).variant_name() for v in variants] == [
        "none",
        "d2s",
        "s2d",
        "s2d+d2s",
    ]
    assert variants == table3_variants()


def test_flags_run_the_full_model_against_each_named_variant():
    variants = selected_variants(
        no_s2d=True, fusions=["sum", "concat-fc"], no_spatial=True, no_mean_pool=True
    )
    assert [v.name for v in variants] == [
        "s2d+d2s",
        "no-s2d",
        "fusion=sum",
        "fusion=concat-fc",
        "no-spatial",
        "no-mean-pool",
    ]
    configs = {v.name: v.apply(CSDVLConfig()) for v in variants}
    assert not configs["no-s2d"].uses_s2d and configs["no-s2d"].uses_d2s
    assert configs["fusion=sum"].fusion == "sum" and not configs["fusion=sum"].uses_d2s
    assert not configs["no-spatial"].dynamic_spatial
    assert not configs["no-mean-pool"].dynamic_mean_pool
    assert configs["s2d+d2s"] == CSDVLConfig()
